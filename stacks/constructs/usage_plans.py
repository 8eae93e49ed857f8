"""Per-client limits: a usage plan per tier (`usage_tiers` in cdk.json) on the API's stage.

API Gateway holds each API key of a plan to the plan's rate, burst and daily quota on its own, so a client with its
own key (`python -m tools.tokens create|tier|keys ... --stack`) spends only its own budget: one leaked token cannot
use up the hospital's calls and SMS, nor crowd out the other clients. The authorizer names the key
(`usageIdentifierKey`; the API reads keys from the authorizer only, never from a header). Each tier also has one
shared key, for clients made before every client had its own (`keys` gives each of them one), so that they keep
working meanwhile.
"""

from __future__ import annotations

import hashlib

from aws_cdk import Names, Stack
from aws_cdk import aws_apigateway as apigw
from constructs import Construct

from stacks.config import UsageTier


def shared_key_value(scope: Construct) -> str:
    """A fixed value for a tier's shared key, distinct per stack and tier (API key values are unique per account
    and region). It is an identifier, not a secret: with the key source AUTHORIZER a caller cannot present it."""
    return "clarion" + hashlib.sha256(Names.unique_id(scope).encode()).hexdigest()[:40]


class UsagePlans(Construct):
    """Exposes `shared_keys` (tier -> value), for the authorizer, and `plan_ids` (tier -> usage plan id)."""

    def __init__(self, scope: Construct, construct_id: str, *, api: apigw.RestApi, tiers: dict[str, UsageTier]) -> None:
        super().__init__(scope, construct_id)
        self.shared_keys: dict[str, str] = {}
        self.plan_ids: dict[str, str] = {}
        for tier, limits in tiers.items():
            plan = apigw.UsagePlan(
                self,
                f"Plan-{tier}",
                name=f"{Stack.of(self).stack_name}-{tier}",
                description=f"Clarion clients of tier {tier}: each client's own rate, burst and daily quota",
                throttle=apigw.ThrottleSettings(rate_limit=limits.rate_limit, burst_limit=limits.burst_limit),
                # A UTC day (API Gateway's DAY period starts at 00:00 UTC); over it: QUOTA_EXCEEDED (api.py)
                quota=apigw.QuotaSettings(limit=limits.daily_quota, period=apigw.Period.DAY),
                api_stages=[apigw.UsagePlanPerApiStage(api=api, stage=api.deployment_stage)],
            )
            shared = Construct(self, f"Shared-{tier}")
            value = shared_key_value(shared)
            key = apigw.ApiKey(
                shared,
                "Key",
                description=f"Shared by the tier-{tier} clients made before each client had its own key",
                enabled=True,
                value=value,
            )
            plan.add_api_key(key)
            self.shared_keys[tier] = value
            self.plan_ids[tier] = plan.usage_plan_id
