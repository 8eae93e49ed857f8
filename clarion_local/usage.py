"""API Gateway's usage plans, as the template defines them: each plan's rate and burst, the keys in each plan, and
a token bucket per key (API Gateway's own algorithm: a bucket of `burst` requests, refilled at `rate` per second).

The emulator has no usage plans, so the template's plans, keys and plan keys are read here: a plan's id is the
stand-in its `Ref` resolves to (the `UsagePlans` output holds the same ids), and `register` does what API Gateway's
CreateApiKey and CreateUsagePlanKey do for a client's own key.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from clarion_local.template import Removed

INVALID_KEY, THROTTLED = "INVALID_API_KEY", "THROTTLED"


@dataclass(frozen=True)
class Plan:
    plan_id: str
    name: str
    rate: float
    burst: int


@dataclass
class _Bucket:
    tokens: float
    at: float = field(default_factory=time.monotonic)


class LocalUsage:
    def __init__(self, plans: dict[str, Plan], keys: dict[str, str]) -> None:
        self.plans = plans  # plan id -> plan
        self._keys = dict(keys)  # key value -> plan id
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_removed(cls, removed: dict[str, list[Removed]]) -> LocalUsage:
        """The plans and keys among the resources taken out of the templates."""
        plans: dict[str, Plan] = {}
        key_values: dict[str, str] = {}  # ApiKey logical id -> value
        plan_keys: list[dict[str, Any]] = []
        plan_ids: dict[str, str] = {}  # UsagePlan logical id -> id
        for gone in (r for stack in removed.values() for r in stack):
            props = gone.properties
            if gone.type == "AWS::ApiGateway::UsagePlan":
                throttle = props.get("Throttle") or {}
                plan_ids[gone.logical_id] = gone.ref
                plans[gone.ref] = Plan(
                    gone.ref,
                    str(props.get("UsagePlanName", "")),
                    float(throttle["RateLimit"]),
                    int(throttle["BurstLimit"]),
                )
            elif gone.type == "AWS::ApiGateway::ApiKey":
                key_values[gone.logical_id] = str(props["Value"])
            elif gone.type == "AWS::ApiGateway::UsagePlanKey":
                plan_keys.append(props)
        keys = {key_values[p["KeyId"]["Ref"]]: plan_ids[p["UsagePlanId"]["Ref"]] for p in plan_keys}
        return cls(plans, keys)

    def register(self, key: str, plan_id: str) -> None:
        """Put the key `key` in plan `plan_id` (moving it from any other)."""
        if plan_id not in self.plans:
            raise ValueError(f"no usage plan {plan_id}")
        with self._lock:
            self._keys[key] = plan_id
            self._buckets.pop(key, None)

    def admit(self, key: str | None) -> str | None:
        """None when a request with usage identifier `key` may pass; else the gateway response API Gateway gives:
        INVALID_API_KEY for a key in no plan, THROTTLED when its bucket is empty."""
        with self._lock:
            plan = self.plans.get(self._keys.get(key or "", ""))
            if plan is None:
                return INVALID_KEY
            now = time.monotonic()
            bucket = self._buckets.setdefault(str(key), _Bucket(float(plan.burst), now))
            bucket.tokens = min(float(plan.burst), bucket.tokens + (now - bucket.at) * plan.rate)
            bucket.at = now
            if bucket.tokens < 1:
                return THROTTLED
            bucket.tokens -= 1
            return None
