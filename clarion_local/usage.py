"""API Gateway's usage plans, as the template defines them: each plan's rate, burst and daily quota, the keys in each
plan, a token bucket per key (API Gateway's own algorithm: a bucket of `burst` requests, refilled at `rate` per
second) and a count per key of the requests it made this UTC day (the plan's `DAY` quota).

The emulator has no usage plans, so the template's plans, keys and plan keys are read here: a plan's id is the
stand-in its `Ref` resolves to (the `UsagePlans` output holds the same ids), and `register` does what API Gateway's
CreateApiKey and CreateUsagePlanKey do for a client's own key (`add_plan`: CreateUsagePlan).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from clarion_local.template import Removed

INVALID_KEY, THROTTLED, QUOTA_EXCEEDED = "INVALID_API_KEY", "THROTTLED", "QUOTA_EXCEEDED"


@dataclass(frozen=True)
class Plan:
    plan_id: str
    name: str
    rate: float
    burst: int
    daily_quota: int | None = None  # requests per key a UTC day; None: no quota


def _today() -> date:
    return datetime.now(UTC).date()


@dataclass
class _Bucket:
    tokens: float
    at: float = field(default_factory=time.monotonic)


class LocalUsage:
    def __init__(self, plans: dict[str, Plan], keys: dict[str, str], today: Callable[[], date] = _today) -> None:
        """`today`: the UTC date the quotas count in (a test's clock)."""
        self.plans = plans  # plan id -> plan
        self._keys = dict(keys)  # key value -> plan id
        self._buckets: dict[str, _Bucket] = {}
        self._used: dict[str, tuple[date, int]] = {}  # key value -> (day, requests admitted that day)
        self._today = today
        self._lock = threading.Lock()

    @classmethod
    def from_removed(cls, removed: dict[str, list[Removed]], today: Callable[[], date] = _today) -> LocalUsage:
        """The plans and keys among the resources taken out of the templates."""
        plans: dict[str, Plan] = {}
        key_values: dict[str, str] = {}  # ApiKey logical id -> value
        plan_keys: list[dict[str, Any]] = []
        plan_ids: dict[str, str] = {}  # UsagePlan logical id -> id
        for gone in (r for stack in removed.values() for r in stack):
            props = gone.properties
            if gone.type == "AWS::ApiGateway::UsagePlan":
                throttle, quota = props.get("Throttle") or {}, props.get("Quota") or {}
                if quota and quota.get("Period") != "DAY":
                    raise ValueError(f"usage plan {gone.logical_id}: only a DAY quota is emulated")
                plan_ids[gone.logical_id] = gone.ref
                plans[gone.ref] = Plan(
                    gone.ref,
                    str(props.get("UsagePlanName", "")),
                    float(throttle["RateLimit"]),
                    int(throttle["BurstLimit"]),
                    int(quota["Limit"]) if quota else None,
                )
            elif gone.type == "AWS::ApiGateway::ApiKey":
                key_values[gone.logical_id] = str(props["Value"])
            elif gone.type == "AWS::ApiGateway::UsagePlanKey":
                plan_keys.append(props)
        keys = {key_values[p["KeyId"]["Ref"]]: plan_ids[p["UsagePlanId"]["Ref"]] for p in plan_keys}
        return cls(plans, keys, today)

    def add_plan(self, plan: Plan) -> None:
        """A usage plan beside the template's (API Gateway's CreateUsagePlan)."""
        with self._lock:
            self.plans[plan.plan_id] = plan

    def register(self, key: str, plan_id: str) -> None:
        """Put the key `key` in plan `plan_id` (moving it from any other)."""
        if plan_id not in self.plans:
            raise ValueError(f"no usage plan {plan_id}")
        with self._lock:
            self._keys[key] = plan_id
            self._buckets.pop(key, None)

    def admit(self, key: str | None) -> str | None:
        """None when a request with usage identifier `key` may pass; else the gateway response API Gateway gives:
        INVALID_API_KEY for a key in no plan, QUOTA_EXCEEDED when its requests this UTC day reached the plan's
        quota, THROTTLED when its bucket is empty. Only a request that passes counts against the quota."""
        with self._lock:
            plan = self.plans.get(self._keys.get(key or "", ""))
            if plan is None:
                return INVALID_KEY
            today = self._today()
            day, used = self._used.get(str(key), (today, 0))
            used = used if day == today else 0
            if plan.daily_quota is not None and used >= plan.daily_quota:
                return QUOTA_EXCEEDED
            now = time.monotonic()
            bucket = self._buckets.setdefault(str(key), _Bucket(float(plan.burst), now))
            bucket.tokens = min(float(plan.burst), bucket.tokens + (now - bucket.at) * plan.rate)
            bucket.at = now
            if bucket.tokens < 1:
                return THROTTLED
            bucket.tokens -= 1
            self._used[str(key)] = (today, used + 1)
            return None
