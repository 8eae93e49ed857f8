"""The local gateway's usage plans: the template's plans and keys, and a token bucket per key in real time."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from clarion_local.template import Removed
from clarion_local.usage import INVALID_KEY, QUOTA_EXCEEDED, THROTTLED, LocalUsage


def removed(logical_id: str, rtype: str, ref: str, **properties: object) -> Removed:
    return Removed(logical_id, rtype, dict(properties), ref, {})


def usage(
    rate: float = 10, burst: int = 3, quota: dict[str, object] | None = None, clock: list[date] | None = None
) -> LocalUsage:
    throttle = {"RateLimit": rate, "BurstLimit": burst}
    return LocalUsage.from_removed(
        {
            "Service": [
                removed(
                    "Plan",
                    "AWS::ApiGateway::UsagePlan",
                    "plan-1",
                    Throttle=throttle,
                    **({"Quota": quota} if quota else {}),
                ),
                removed("Key", "AWS::ApiGateway::ApiKey", "key-1", Value="shared-value-0123456789"),
                removed(
                    "PlanKey",
                    "AWS::ApiGateway::UsagePlanKey",
                    "pk-1",
                    KeyId={"Ref": "Key"},
                    UsagePlanId={"Ref": "Plan"},
                    KeyType="API_KEY",
                ),
            ]
        },
        **({"today": lambda: clock[0]} if clock else {}),
    )


def test_the_templates_shared_key_is_in_its_plan_and_an_unknown_key_is_refused() -> None:
    plans = usage()
    assert plans.plans["plan-1"].burst == 3
    assert plans.admit("shared-value-0123456789") is None
    assert plans.admit("someone-elses-key-000000") == INVALID_KEY
    assert plans.admit(None) == INVALID_KEY


def test_a_key_gets_its_burst_then_is_throttled_until_the_rate_refills_it() -> None:
    # Given a plan of rate 10/s and burst 3
    plans = usage(rate=10, burst=3)
    key = "shared-value-0123456789"
    # When four requests come at once
    answers = [plans.admit(key) for _ in range(4)]
    # Then three pass and the fourth is throttled
    assert answers == [None, None, None, THROTTLED]
    # And after 0.25 s (2.5 tokens at 10/s) two more pass and the next is throttled
    time.sleep(0.25)  # time is the subject: the local buckets refill in real time
    assert [plans.admit(key) for _ in range(3)] == [None, None, THROTTLED]


def test_each_registered_key_has_its_own_bucket() -> None:
    # Given two clients' own keys in the same plan
    plans = usage(rate=1, burst=2)
    plans.register("client-a-key-0123456789", "plan-1")
    plans.register("client-b-key-0123456789", "plan-1")
    # When client a spends its burst and more
    assert [plans.admit("client-a-key-0123456789") for _ in range(3)] == [None, None, THROTTLED]
    # Then client b still has all of its own
    assert [plans.admit("client-b-key-0123456789") for _ in range(2)] == [None, None]


def test_a_key_over_its_plans_daily_quota_is_refused_until_the_next_utc_day_and_others_are_not() -> None:
    # Given a plan of 3 requests a day (and a rate that never binds), two clients' keys in it, and a controlled day
    day = [date(2026, 3, 1)]
    plans = usage(rate=1000, burst=1000, quota={"Limit": 3, "Period": "DAY"}, clock=day)
    assert plans.plans["plan-1"].daily_quota == 3
    plans.register("client-a-key-0123456789", "plan-1")
    plans.register("client-b-key-0123456789", "plan-1")
    # When client a sends five requests that day
    answers = [plans.admit("client-a-key-0123456789") for _ in range(5)]
    # Then three pass and the rest are over the quota (not throttled: its bucket is full)
    assert answers == [None, None, None, QUOTA_EXCEEDED, QUOTA_EXCEEDED]
    # And client b still has its whole quota
    assert [plans.admit("client-b-key-0123456789") for _ in range(4)] == [None, None, None, QUOTA_EXCEEDED]
    # And on the next UTC day client a may send again
    day[0] += timedelta(days=1)
    assert [plans.admit("client-a-key-0123456789") for _ in range(4)] == [None, None, None, QUOTA_EXCEEDED]


def test_a_throttled_request_does_not_count_against_the_quota() -> None:
    # Given a plan of burst 2 refilled at 20/s, and a quota of 3 a day
    plans = usage(rate=20, burst=2, quota={"Limit": 3, "Period": "DAY"}, clock=[date(2026, 3, 1)])
    key = "shared-value-0123456789"
    # When the key spends its burst and is throttled twice
    assert [plans.admit(key) for _ in range(4)] == [None, None, THROTTLED, THROTTLED]
    # Then once its bucket refills, one more passes (only the two that passed counted) and then the quota is spent
    time.sleep(0.15)  # time is the subject: the local buckets refill in real time
    assert [plans.admit(key) for _ in range(2)] == [None, QUOTA_EXCEEDED]


def test_a_quota_over_another_period_than_a_day_is_refused_rather_than_emulated_wrongly() -> None:
    with pytest.raises(ValueError, match="only a DAY quota"):
        usage(quota={"Limit": 3, "Period": "WEEK"})
