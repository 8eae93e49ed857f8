"""The local gateway's usage plans: the template's plans and keys, and a token bucket per key in real time."""

from __future__ import annotations

import time

from clarion_local.template import Removed
from clarion_local.usage import INVALID_KEY, THROTTLED, LocalUsage


def removed(logical_id: str, rtype: str, ref: str, **properties: object) -> Removed:
    return Removed(logical_id, rtype, dict(properties), ref, {})


def usage(rate: float = 10, burst: int = 3) -> LocalUsage:
    return LocalUsage.from_removed(
        {
            "Service": [
                removed(
                    "Plan", "AWS::ApiGateway::UsagePlan", "plan-1", Throttle={"RateLimit": rate, "BurstLimit": burst}
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
        }
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
