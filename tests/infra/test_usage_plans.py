"""Each client's own rate, burst and daily quota: a usage plan per tier on the stage, the authorizer as the only key
source, and a throttled client, or one whose quota is spent, told when to retry."""

from __future__ import annotations

import json
from typing import Any

from stacks.config import load
from tests.synth import Synth
from tests.unit.test_config import CONTEXT


def _authorizer_env(s: Synth) -> dict[str, str]:
    (fn,) = [
        f
        for f in s.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "clarion.handlers.authorizer.handler"
    ]
    return dict(fn["Properties"]["Environment"]["Variables"])


def test_each_tier_is_a_usage_plan_on_the_stage_with_the_configured_rate_burst_and_daily_quota(
    dev: Synth, prod: Synth
) -> None:
    for s, env in ((dev, "dev"), (prod, "prod")):
        # Given the tiers cdk.json sets for the environment
        tiers = load(CONTEXT, {"env": env}).usage_tiers
        # When the plans are read from the template
        plans = {
            p["Properties"]["UsagePlanName"].rsplit("-", 1)[1]: p["Properties"]
            for p in s.resources("AWS::ApiGateway::UsagePlan").values()
        }
        # Then there is one per tier, on the API's stage, holding each key to the tier's rate and burst
        assert set(plans) == set(tiers)
        for name, tier in tiers.items():
            assert plans[name]["Throttle"] == {"RateLimit": tier.rate_limit, "BurstLimit": tier.burst_limit}
            # And to the tier's daily quota, a UTC day's requests per client
            assert plans[name]["Quota"] == {"Limit": tier.daily_quota, "Period": "DAY"}
            (stage,) = plans[name]["ApiStages"]
            assert "Ref" in stage["ApiId"] and "Ref" in stage["Stage"]


def test_the_authorizer_knows_each_tiers_shared_key_and_the_default_tier(dev: Synth) -> None:
    # Given the API keys in the template and the plan each is in
    keys = {k: v["Properties"]["Value"] for k, v in dev.resources("AWS::ApiGateway::ApiKey").items()}
    plans = dev.resources("AWS::ApiGateway::UsagePlan")
    in_plan = {
        keys[pk["Properties"]["KeyId"]["Ref"]]: plans[pk["Properties"]["UsagePlanId"]["Ref"]]["Properties"]
        for pk in dev.resources("AWS::ApiGateway::UsagePlanKey").values()
    }
    # When the authorizer's settings are read
    env = _authorizer_env(dev)
    shared = json.loads(env["USAGE_KEYS"])
    # Then each tier's shared key is a key of that tier's plan, distinct per tier, and the default is a tier
    assert {v["UsagePlanName"].rsplit("-", 1)[1] for v in in_plan.values()} == set(shared)
    for tier, value in shared.items():
        assert in_plan[value]["UsagePlanName"].endswith(f"-{tier}")
        assert 20 <= len(value) <= 128 and value.isalnum()
    assert len(set(shared.values())) == len(shared)
    assert env["USAGE_TIER_DEFAULT"] in shared


def test_every_authorized_method_needs_the_authorizers_usage_key_and_no_public_one_does(dev: Synth) -> None:
    # Given the API and its methods
    (api,) = dev.resources("AWS::ApiGateway::RestApi").values()
    methods: list[dict[str, Any]] = [m["Properties"] for m in dev.resources("AWS::ApiGateway::Method").values()]
    # Then keys come from the authorizer only (a caller's X-API-Key header is never read)
    assert api["Properties"]["ApiKeySourceType"] == "AUTHORIZER"
    # And every method behind the authorizer requires one, while the link, 405 and OPTIONS methods do not
    authorized = [m for m in methods if m.get("AuthorizationType") == "CUSTOM"]
    public = [m for m in methods if m.get("AuthorizationType", "NONE") == "NONE"]
    assert len(authorized) == 22 and all(m.get("ApiKeyRequired") is True for m in authorized)
    assert public and not any(m.get("ApiKeyRequired") for m in public)


def test_a_throttled_client_or_one_over_its_quota_is_told_when_to_retry_in_clarions_error_format(dev: Synth) -> None:
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in dev.resources("AWS::ApiGateway::GatewayResponse").values()
    }
    throttled = responses["THROTTLED"]
    assert throttled["ResponseParameters"] == {"gatewayresponse.header.Retry-After": "'1'"}
    assert json.loads(throttled["ResponseTemplates"]["application/json"])["error"]["code"] == "throttled"
    # And a client whose daily quota is spent is told so, and to retry in an hour (the quota renews at 00:00 UTC)
    spent = responses["QUOTA_EXCEEDED"]
    assert spent.get("StatusCode") in (None, "429")  # API Gateway's own status for the type is 429
    assert spent["ResponseParameters"] == {"gatewayresponse.header.Retry-After": "'3600'"}
    error = json.loads(spent["ResponseTemplates"]["application/json"])["error"]
    assert error["code"] == "quota_exceeded" and "00:00 UTC" in error["message"]
    # And a usage identifier in no plan is Clarion's 403, not API Gateway's bare "Forbidden"
    invalid = json.loads(responses["INVALID_API_KEY"]["ResponseTemplates"]["application/json"])
    assert invalid["error"]["code"] == "forbidden" and "usage plan" in invalid["error"]["message"]


def test_the_service_stack_outputs_the_plans_and_default_tier_for_the_token_tool(dev: Synth) -> None:
    outputs = dev.stack("Service")["Outputs"]
    assert {"UsagePlans", "UsageTierDefault", "RestApiId"} <= set(outputs)
    assert outputs["UsageTierDefault"]["Value"] == "standard"
