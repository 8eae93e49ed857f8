"""The REST API: routes, Lambda authorizer, validation, throttling, logging, tracing and WAF."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from clarion import names
from stacks.compliance import acknowledge
from stacks.config import UsageTier
from stacks.constructs.gateway_responses import add_gateway_responses
from stacks.constructs.method_not_allowed import refuse_other_methods
from stacks.constructs.usage_plans import UsagePlans
from stacks.constructs.waf import log_and_attach, web_acl

STAGE = "v1"
# The public acknowledgement link's routes have their own throttle, apart from the stage's: high enough that only
# many addresses at once could reach it, since the WAF holds each address to `waf_link_rate_limit_per_min` (waf.py)
# and every clinician's click shares this one bucket.
LINK_PATH = "/l/{token}"
LINK_RATE_LIMIT = 100
LINK_BURST_LIMIT = 200


@dataclass(frozen=True)
class Limits:
    """The stage's rate and burst, the WAF's per-address rates, and the usage tiers (cdk.json)."""

    rate_limit: float
    burst_limit: int
    waf_rate_limit_per_5min: int
    waf_link_rate_limit_per_min: int
    usage_tiers: dict[str, UsageTier]


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
        limits: Limits,
    ) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if retain_logs else RemovalPolicy.DESTROY
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", encryption_key=key, retention=log_retention, removal_policy=removal
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
            deploy_options=self._stage_options(limits),
        )
        add_gateway_responses(self.api)
        self._routes(authorizer_fn, intake_fn, contacts_fn, links_fn)
        self._acknowledge_stage()
        self.usage_plans = UsagePlans(self, "Usage", api=self.api, tiers=limits.usage_tiers)
        self.web_acl = web_acl(self, limits.waf_rate_limit_per_5min, limits.waf_link_rate_limit_per_min, f"/{STAGE}/l/")
        log_and_attach(self, self.web_acl, self.api.deployment_stage.stage_arn, key, log_retention, retain_logs)

    def _stage_options(self, limits: Limits) -> apigw.StageOptions:
        return apigw.StageOptions(
            stage_name=STAGE,
            throttling_rate_limit=limits.rate_limit,
            throttling_burst_limit=limits.burst_limit,
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
        )

    def _routes(
        self,
        authorizer_fn: lambda_.IFunction,
        intake_fn: lambda_.IFunction,
        contacts_fn: lambda_.IFunction,
        links_fn: lambda_.IFunction,
    ) -> None:
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
        self._schedule_routes(contacts, common, with_body)
        for method in self.api.methods:
            acknowledge(
                method,
                "AwsSolutions-COG4",
                "Callers are hospital systems, not people: each authenticates with its own rotatable token, checked "
                "(as a SHA-256 hash, in constant time) with its scopes by Clarion's Lambda authorizer.",
            )
        self._link_routes(links_fn, validator)

        verbs: dict[str, list[str]] = {}
        for method in self.api.methods:
            verbs.setdefault(method.resource.path, []).append(method.http_method)
        for resource_path, allowed in verbs.items():
            refuse_other_methods(self.api.root.resource_for_path(resource_path), allowed)

    def _schedule_routes(
        self, contacts: apigw.LambdaIntegration, common: dict[str, Any], with_body: dict[str, Any]
    ) -> None:
        """On-call schedules, served by the admin function like contacts and policies."""
        schedule = self.api.root.add_resource("schedules").add_resource("{schedule_id}")
        path = {"method.request.path.schedule_id": True}
        schedule.add_method("PUT", contacts, **with_body, request_parameters=path)
        for verb in ("GET", "DELETE"):
            schedule.add_method(verb, contacts, **common, request_parameters=path)
        for reading in ("history", "on-call", "shifts"):
            schedule.add_resource(reading).add_method("GET", contacts, **common, request_parameters=path)
        overrides = schedule.add_resource("overrides")
        overrides.add_method("POST", contacts, **with_body, request_parameters=path)
        overrides.add_method("GET", contacts, **common, request_parameters=path)
        override_path = {**path, "method.request.path.override_id": True}
        overrides.add_resource("{override_id}").add_method(
            "DELETE", contacts, **common, request_parameters=override_path
        )

    def _link_routes(self, links_fn: lambda_.IFunction, validator: apigw.RequestValidator) -> None:
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

    def _acknowledge_stage(self) -> None:
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
