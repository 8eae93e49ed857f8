"""The REST API: routes, Lambda authorizer, validation, throttling, logging, tracing and WAF."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import ArnFormat, Duration, Names, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from clarion import names
from stacks.compliance import acknowledge
from stacks.constructs.method_not_allowed import refuse_other_methods
from stacks.constructs.usage_plans import UsagePlans
from stacks.constructs.waf import web_acl

STAGE = "v1"
# The public acknowledgement link's routes: per-route throttling below the stage's (a clinician presses one button).
LINK_PATH = "/l/{token}"
LINK_RATE_LIMIT = 10
LINK_BURST_LIMIT = 20
THROTTLED_RETRY_AFTER_S = 1  # rates are per second: a throttled client's bucket has room again within one
# Gateway-made errors in Clarion's error format, so clients see one shape whoever answers.
# MISSING_AUTHENTICATION_TOKEN is what API Gateway answers for a path no route has: 404 here, not its 403.
_GATEWAY_ERRORS: dict[apigw.ResponseType, tuple[str, str | None]] = {
    apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN: ("not_found", "There is no such route."),
    apigw.ResponseType.UNAUTHORIZED: ("unauthorized", "A token is required in the Authorization header."),
    apigw.ResponseType.ACCESS_DENIED: ("forbidden", "This token may not use this route."),
    apigw.ResponseType.THROTTLED: ("throttled", "Too many requests; retry with backoff."),
    # The authorizer named a usage identifier in no usage plan (a client's key removed by hand).
    apigw.ResponseType.INVALID_API_KEY: ("forbidden", "This client is in no usage plan; ask the operator for a tier."),
    apigw.ResponseType.BAD_REQUEST_BODY: ("invalid_body", "The request body must be a JSON object."),
    apigw.ResponseType.REQUEST_TOO_LARGE: ("body_too_large", "The request body is too large."),
    apigw.ResponseType.WAF_FILTERED: ("blocked", "The request was blocked by the web application firewall."),
    apigw.ResponseType.DEFAULT_4_XX: ("bad_request", None),
    apigw.ResponseType.DEFAULT_5_XX: ("internal_error", "The service could not answer; retry with backoff."),
}


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        log_retention: logs.RetentionDays,
        retain_logs: bool,
        authorizer_fn: lambda_.IFunction,
        intake_fn: lambda_.IFunction,
        contacts_fn: lambda_.IFunction,
        links_fn: lambda_.IFunction,
        rate_limit: float,
        burst_limit: int,
        waf_rate_limit: int,
        usage_tiers: dict[str, tuple[float, int]],
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            encryption_key=key,
            retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN if retain_logs else RemovalPolicy.DESTROY,
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            description="Clarion clinical alert API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            # Each client's usage identifier comes from the authorizer (usage_plans.py), never from a header.
            api_key_source_type=apigw.ApiKeySourceType.AUTHORIZER,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                throttling_rate_limit=rate_limit,
                throttling_burst_limit=burst_limit,
                method_options={
                    f"{LINK_PATH}/{verb}": apigw.MethodDeploymentOptions(
                        throttling_rate_limit=LINK_RATE_LIMIT, throttling_burst_limit=LINK_BURST_LIMIT
                    )
                    for verb in ("GET", "POST")
                },
                tracing_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
            ),
        )
        for response_type, (code, message) in _GATEWAY_ERRORS.items():
            # None: API Gateway's own message, JSON-quoted by `messageString`.
            text = "$context.error.messageString" if message is None else json.dumps(message)
            self.api.add_gateway_response(
                f"Gw{response_type.response_type}",
                type=response_type,
                status_code="404" if response_type.response_type == "MISSING_AUTHENTICATION_TOKEN" else None,
                # A client over its plan's rate (or the stage's) may try again within the second.
                response_headers={"Retry-After": f"'{THROTTLED_RETRY_AFTER_S}'"}
                if response_type.response_type == "THROTTLED"
                else None,
                templates={"application/json": f'{{"error": {{"code": "{code}", "message": {text}}}}}'},
            )
        authorizer = apigw.TokenAuthorizer(
            self,
            "Authorizer",
            handler=authorizer_fn,
            identity_source=apigw.IdentitySource.header("Authorization"),
            validation_regex=names.TOKEN_HEADER_PATTERN,
            results_cache_ttl=Duration.minutes(5),
        )
        validator = self.api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True
        )
        json_object = self.api.add_model(
            "JsonObject",
            content_type="application/json",
            schema=apigw.JsonSchema(schema=apigw.JsonSchemaVersion.DRAFT4, type=apigw.JsonSchemaType.OBJECT),
            description="Any JSON object; the handler validates each field",
        )
        common: dict[str, Any] = {
            "authorizer": authorizer,
            "authorization_type": apigw.AuthorizationType.CUSTOM,
            "request_validator": validator,
            "api_key_required": True,  # the authorizer's usage identifier, held to its usage plan
        }
        with_body: dict[str, Any] = {**common, "request_models": {"application/json": json_object}}
        intake = apigw.LambdaIntegration(intake_fn)
        contacts = apigw.LambdaIntegration(contacts_fn)

        alerts = self.api.root.add_resource("alerts")
        alerts.add_method("POST", intake, **with_body)
        self.api.root.add_resource("notification").add_method("POST", intake, **with_body)
        alert = alerts.add_resource("{message_id}")
        alert_path = {"method.request.path.message_id": True}
        alert.add_method("GET", intake, **common, request_parameters=alert_path)
        for answer in ("ack", "decline"):
            alert.add_resource(answer).add_method("POST", intake, **with_body, request_parameters=alert_path)
        for collection, parameter in (("contacts", "contact_id"), ("escalation-policies", "policy_id")):
            item = self.api.root.add_resource(collection).add_resource(f"{{{parameter}}}")
            path = {f"method.request.path.{parameter}": True}
            item.add_method("PUT", contacts, **with_body, request_parameters=path)
            item.add_method("GET", contacts, **common, request_parameters=path)
            item.add_method("DELETE", contacts, **common, request_parameters=path)
            item.add_resource("history").add_method("GET", contacts, **common, request_parameters=path)

        authorized = list(self.api.methods)
        link = self.api.root.add_resource("l").add_resource("{token}")
        links = apigw.LambdaIntegration(links_fn)
        for verb in ("GET", "POST"):
            public = link.add_method(
                verb,
                links,
                request_validator=validator,
                request_parameters={"method.request.path.token": True},
                authorization_type=apigw.AuthorizationType.NONE,
            )
            reason = (
                "The acknowledgement link is opened by a clinician from an SMS or email, with no credentials to "
                "send: the link's token is its authorization (an HMAC by Clarion's KMS key, expiring, for one alert "
                "and recipient), checked by the links function; the route is throttled and behind the WAF."
            )
            acknowledge(public, "AwsSolutions-APIG4", reason)
            acknowledge(public, "AwsSolutions-COG4", reason)

        verbs: dict[str, list[str]] = {}
        for method in self.api.methods:
            verbs.setdefault(method.resource.path, []).append(method.http_method)
        for resource_path, allowed in verbs.items():
            refuse_other_methods(self.api.root.resource_for_path(resource_path), allowed)

        for method in authorized:
            acknowledge(
                method,
                "AwsSolutions-COG4",
                "Callers are hospital systems, not people: each authenticates with its own rotatable token, checked "
                "(as a SHA-256 hash, in constant time) with its scopes by Clarion's Lambda authorizer.",
            )
        stage = self.api.deployment_stage
        acknowledge(
            stage,
            "HIPAA.Security-APIGWCacheEnabledAndEncrypted",
            "Responses must never be cached: POSTs accept alerts and GETs report live delivery status per client.",
        )
        acknowledge(
            stage,
            "HIPAA.Security-APIGWSSLEnabled",
            "Client certificates authenticate HTTP backends; every integration here is a Lambda proxy, which "
            "API Gateway invokes through IAM-signed requests.",
        )
        acknowledge(
            self.api.node.find_child("CloudWatchRole"),
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-level logging role; AWS maintains this policy for exactly that purpose.",
        )
        self.usage_plans = UsagePlans(self, "Usage", api=self.api, tiers=usage_tiers)
        self.web_acl = web_acl(self, waf_rate_limit)
        waf_logs = logs.LogGroup(
            self,
            "WafLogs",
            # WAF requires this name prefix for a log group destination.
            log_group_name=f"aws-waf-logs-clarion-{Names.unique_id(self)[-24:].lower()}",
            encryption_key=key,
            retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN if retain_logs else RemovalPolicy.DESTROY,
        )
        wafv2.CfnLoggingConfiguration(
            self,
            "WafLogging",
            resource_arn=self.web_acl.attr_arn,
            log_destination_configs=[
                Stack.of(self).format_arn(
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
        wafv2.CfnWebACLAssociation(
            self, "WafAssociation", resource_arn=self.api.deployment_stage.stage_arn, web_acl_arn=self.web_acl.attr_arn
        )
