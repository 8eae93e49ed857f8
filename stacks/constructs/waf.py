"""The API's web ACL: AWS's common and known-bad-inputs rule groups, and a rate limit per source IP.

Two of the common rules count instead of block: NoUserAgent_HEADER (clinical systems' HTTP clients may send no
User-Agent) and SizeRestrictions_BODY (8 KB; Clarion refuses bodies over its own 16 KiB with a 413 it explains).
The rate rule answers 429 with Retry-After in Clarion's error format, not the 403 clients read as "do not retry":
a hospital's systems often reach the API from one NAT address.
"""

from __future__ import annotations

import json

from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

COUNTED_COMMON_RULES = ("NoUserAgent_HEADER", "SizeRestrictions_BODY")
RATE_RETRY_AFTER_S = 60
_THROTTLED_BODY = "throttled"


def _managed_rule(name: str, priority: int, counted: tuple[str, ...] = ()) -> wafv2.CfnWebACL.RuleProperty:
    overrides = [
        wafv2.CfnWebACL.RuleActionOverrideProperty(
            name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
        )
        for rule in counted
    ]
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name=name, rule_action_overrides=overrides or None
            )
        ),
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        visibility_config=_visibility(name),
    )


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=f"Clarion{name}", sampled_requests_enabled=False
    )


def web_acl(scope: Construct, rate_limit: int) -> wafv2.CfnWebACL:
    return wafv2.CfnWebACL(
        scope,
        "WebAcl",
        scope="REGIONAL",
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        visibility_config=_visibility("WebAcl"),
        custom_response_bodies={
            _THROTTLED_BODY: wafv2.CfnWebACL.CustomResponseBodyProperty(
                content_type="APPLICATION_JSON",
                content=json.dumps(
                    {"error": {"code": "throttled", "message": "Too many requests from this address; retry later."}}
                ),
            )
        },
        rules=[
            _managed_rule("AWSManagedRulesCommonRuleSet", 1, COUNTED_COMMON_RULES),
            _managed_rule("AWSManagedRulesKnownBadInputsRuleSet", 2),
            wafv2.CfnWebACL.RuleProperty(
                name="RatePerIp",
                priority=3,
                action=wafv2.CfnWebACL.RuleActionProperty(
                    block=wafv2.CfnWebACL.BlockActionProperty(
                        custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                            response_code=429,
                            custom_response_body_key=_THROTTLED_BODY,
                            response_headers=[
                                wafv2.CfnWebACL.CustomHTTPHeaderProperty(
                                    name="Retry-After", value=str(RATE_RETRY_AFTER_S)
                                )
                            ],
                        )
                    )
                ),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=rate_limit, aggregate_key_type="IP"
                    )
                ),
                visibility_config=_visibility("RatePerIp"),
            ),
        ],
    )
