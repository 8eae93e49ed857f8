"""The API's web ACL: AWS's common and known-bad-inputs rule groups, and two rate limits per source IP: one for the
acknowledgement links, one for everything else.

Two of the common rules count instead of block: NoUserAgent_HEADER (clinical systems' HTTP clients may send no
User-Agent) and SizeRestrictions_BODY (8 KB; Clarion refuses bodies over its own 16 KiB with a 413 it explains).
Both rate rules answer 429 with Retry-After, not the 403 clients read as "do not retry" (a hospital's systems and
its clinicians often reach the API from one NAT address). Each counts only its own routes (a scope-down statement on
the URI path, which on a REST API's stage starts with the stage's name), so a flood of API calls from a hospital's
address cannot block a clinician's click from behind it, and a flood of random link tokens from one address is
stopped before it can spend the link methods' throttle, which every clinician shares. The API's answer is Clarion's
error format; the link's is a page, since a clinician reads it in a browser.
"""

from __future__ import annotations

import json

from aws_cdk import ArnFormat, Names, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

COUNTED_COMMON_RULES = ("NoUserAgent_HEADER", "SizeRestrictions_BODY")
RATE_RETRY_AFTER_S = 60
LINK_WINDOW_S = 60  # the link rule's evaluation window: a shared address is let through again within a minute
_THROTTLED_BODY = "throttled"
_LINK_PAGE_BODY = "link-throttled"
# The link pages' look and headers (lambdas/clarion/handlers/link_pages.py), in WAF's 4 KB for a response body.
LINK_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>Too many requests - Clarion</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;"
    "margin:2rem auto;padding:0 1rem;color:#1b1b1b}.muted{color:#555}</style></head><body>"
    "<h1>Too many requests</h1><p>Too many Clarion links were opened from your network in the last minute. "
    "Wait a minute, then open the link again.</p>"
    '<p class="muted">If the alert is urgent, answer it in your clinical system or by phone.</p></body></html>'
)
_LINK_PAGE_HEADERS = {
    "Retry-After": str(LINK_WINDOW_S),
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


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


def _link_path(prefix: str) -> wafv2.CfnWebACL.StatementProperty:
    """A request to an acknowledgement link: its URI path starts with `prefix` (e.g. `/v1/l/`)."""
    return wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
            positional_constraint="STARTS_WITH",
            search_string=prefix,
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
        )
    )


def _rate_rule(
    name: str,
    priority: int,
    limit: int,
    window_s: int,
    scope_down: wafv2.CfnWebACL.StatementProperty,
    body: str,
    headers: dict[str, str],
) -> wafv2.CfnWebACL.RuleProperty:
    """Over `limit` requests from one address in `window_s` seconds (of those `scope_down` matches): 429."""
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        action=wafv2.CfnWebACL.RuleActionProperty(
            block=wafv2.CfnWebACL.BlockActionProperty(
                custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                    response_code=429,
                    custom_response_body_key=body,
                    response_headers=[
                        wafv2.CfnWebACL.CustomHTTPHeaderProperty(name=k, value=v) for k, v in headers.items()
                    ],
                )
            )
        ),
        statement=wafv2.CfnWebACL.StatementProperty(
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                limit=limit, aggregate_key_type="IP", evaluation_window_sec=window_s, scope_down_statement=scope_down
            )
        ),
        visibility_config=_visibility(name),
    )


def web_acl(scope: Construct, rate_limit: int, link_rate_limit: int, link_prefix: str) -> wafv2.CfnWebACL:
    """`rate_limit`: API requests per address in 5 minutes; `link_rate_limit`: link requests per address in a
    minute; `link_prefix`: the links' URI path prefix, stage included."""
    api_error = {"error": {"code": "throttled", "message": "Too many requests from this address; retry later."}}
    return wafv2.CfnWebACL(
        scope,
        "WebAcl",
        scope="REGIONAL",
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        visibility_config=_visibility("WebAcl"),
        custom_response_bodies={
            _THROTTLED_BODY: wafv2.CfnWebACL.CustomResponseBodyProperty(
                content_type="APPLICATION_JSON", content=json.dumps(api_error)
            ),
            _LINK_PAGE_BODY: wafv2.CfnWebACL.CustomResponseBodyProperty(content_type="TEXT_HTML", content=LINK_PAGE),
        },
        rules=[
            _managed_rule("AWSManagedRulesCommonRuleSet", 1, COUNTED_COMMON_RULES),
            _managed_rule("AWSManagedRulesKnownBadInputsRuleSet", 2),
            _rate_rule(
                "RatePerIp",
                3,
                rate_limit,
                300,
                wafv2.CfnWebACL.StatementProperty(
                    not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=_link_path(link_prefix))
                ),
                _THROTTLED_BODY,
                {"Retry-After": str(RATE_RETRY_AFTER_S)},
            ),
            _rate_rule(
                "LinkRatePerIp",
                4,
                link_rate_limit,
                LINK_WINDOW_S,
                _link_path(link_prefix),
                _LINK_PAGE_BODY,
                _LINK_PAGE_HEADERS,
            ),
        ],
    )


def log_and_attach(
    scope: Construct,
    acl: wafv2.CfnWebACL,
    stage_arn: str,
    key: kms.IKey,
    log_retention: logs.RetentionDays,
    retain_logs: bool,
) -> None:
    """The web ACL's log group and logging (tokens redacted), and its association with the stage `stage_arn`."""
    waf_logs = logs.LogGroup(
        scope,
        "WafLogs",
        # WAF requires this name prefix for a log group destination.
        log_group_name=f"aws-waf-logs-clarion-{Names.unique_id(scope)[-24:].lower()}",
        encryption_key=key,
        retention=log_retention,
        removal_policy=RemovalPolicy.RETAIN if retain_logs else RemovalPolicy.DESTROY,
    )
    wafv2.CfnLoggingConfiguration(
        scope,
        "WafLogging",
        resource_arn=acl.attr_arn,
        log_destination_configs=[
            Stack.of(scope).format_arn(
                service="logs",
                resource="log-group",
                resource_name=waf_logs.log_group_name,
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
        ],
        # Tokens never reach the logs.
        redacted_fields=[
            wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": "authorization"}),
            # Acknowledgement links carry their token in the path.
            wafv2.CfnLoggingConfiguration.FieldToMatchProperty(uri_path={}),
        ],
    )
    wafv2.CfnWebACLAssociation(scope, "WafAssociation", resource_arn=stage_arn, web_acl_arn=acl.attr_arn)
