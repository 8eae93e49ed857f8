"""Stateless half: functions, API, email templates, alarms and dashboard. Safe to destroy and redeploy."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Annotations, Aws, CfnOutput, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from clarion import names
from stacks import loop_functions
from stacks.constructs.api import STAGE, Api
from stacks.constructs.call_flow import CallFlow
from stacks.constructs.email import Email
from stacks.constructs.functions import FunctionDefaults, FunctionFactory
from stacks.constructs.messaging import ROUTER_TIMEOUT
from stacks.constructs.monitoring import Monitoring, Watched
from stacks.constructs.network import NO_ENDPOINT_NOTE
from stacks.constructs.sms_status import SnsSmsDeliveryStatus
from stacks.data_stack import DataStack
from stacks.loop_functions import DELIVERY_LOG_ACTIONS

# Exact actions on exact resources: no wildcards, no indexes the code does not query.
IDEMPOTENCY_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
KEY_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
ROUTER_BATCH_SIZE = 10
ROUTER_MAX_CONCURRENCY = 20


class ServiceStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, data: DataStack, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        s = data.settings
        tables = data.storage
        msg = data.messaging
        net = data.network
        factory = FunctionFactory(
            self,
            "Functions",
            defaults=FunctionDefaults(
                key=data.key,
                log_retention=data.log_retention,
                retain_logs=s.retain_data,
                powertools_layer_version=s.powertools_layer_version,
                vpc=net.vpc if net else None,
                security_group=net.functions_sg if net else None,
                subnets=net.subnets if net else None,
                reserved_concurrency=s.reserved_concurrency,
                sdk_tracing=s.sdk_tracing,
            ),
        )
        self.email = Email(self, "Email", receipts_topic=data.receipts.topic)
        common = {
            names.ENV_DELIVERY_RETENTION_DAYS: str(s.delivery_log_retention_days),
            names.ENV_CALL_ENABLED: "true" if s.call_enabled else "false",
        }
        timer_queue = data.timers.queue
        walk = {  # what every function that moves an alert's walk on needs
            names.ENV_DELIVERY_TABLE: tables.delivery_log.table_name,
            names.ENV_EVENTS_TOPIC_ARN: msg.events.topic_arn,
            names.ENV_TIMER_QUEUE_URL: timer_queue.queue_url,
        }

        self.authorizer = factory.build(
            "Authorizer",
            handler=names.AUTHORIZER_HANDLER,
            description="Clarion: checks client tokens and scopes",
            service="authorizer",
            environment={names.ENV_CLIENTS_TABLE: tables.clients.table_name},
        )
        self._allow(self.authorizer, ["dynamodb:GetItem"], [tables.clients.table_arn])

        self.intake = factory.build(
            "Intake",
            handler=names.INTAKE_HANDLER,
            description="Clarion: accepts alerts and answers their status",
            service=names.SERVICE_INTAKE,
            environment={
                **common,
                **walk,
                names.ENV_CONTACTS_TABLE: tables.contacts.table_name,
                names.ENV_POLICIES_TABLE: tables.policies.table_name,
                names.ENV_IDEMPOTENCY_TABLE: tables.idempotency.table_name,
                names.ENV_ALERT_QUEUE_URL: msg.alerts.queue_url,
                names.ENV_ACK_POLICY: Stack.of(self).to_json_string(s.ack_policy()),
                names.ENV_NOTIFY_ON_ACK: "true" if s.notify_on_ack else "false",
            },
        )
        self._allow(self.intake, ["dynamodb:GetItem"], [tables.contacts.table_arn, tables.policies.table_arn])
        self._allow(self.intake, ["sqs:SendMessage"], [timer_queue.queue_arn])
        self._allow(self.intake, IDEMPOTENCY_ACTIONS, [tables.idempotency.table_arn])
        self._allow(self.intake, DELIVERY_LOG_ACTIONS, [tables.delivery_log.table_arn])
        self._allow(self.intake, ["sqs:SendMessage"], [msg.alerts.queue_arn])
        self._allow(self.intake, ["sns:Publish"], [msg.events.topic_arn])

        self.contacts = factory.build(
            "Contacts",
            handler=names.CONTACTS_HANDLER,
            description="Clarion: manages clinicians' contact details and channel preferences",
            service="contacts",
            environment={
                names.ENV_CONTACTS_TABLE: tables.contacts.table_name,
                names.ENV_POLICIES_TABLE: tables.policies.table_name,
                names.ENV_AUDIT_TABLE: tables.audit.table_name,
            },
            with_deps=True,
        )
        # Each change is written with its audit entry in one transaction; the history is read back by Query.
        self._allow(self.contacts, ["dynamodb:PutItem", "dynamodb:Query"], [tables.audit.table_arn])
        self._allow(
            self.contacts, ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"], [tables.contacts.table_arn]
        )
        self._allow(self.contacts, ["dynamodb:Query"], [f"{tables.contacts.table_arn}/index/by-policy"])
        self._allow(
            self.contacts,
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan"],
            [tables.policies.table_arn],
        )

        self.dialer: lambda_.Function | None = None
        router_env = {
            **common,
            names.ENV_CONTACTS_TABLE: tables.contacts.table_name,
            names.ENV_DELIVERY_TABLE: tables.delivery_log.table_name,
            names.ENV_EVENTS_TOPIC_ARN: msg.events.topic_arn,
            names.ENV_SENDER_EMAIL: s.sender_email,
            names.ENV_SES_CONFIGURATION_SET: self.email.configuration_set.configuration_set_name,
            names.ENV_EMAIL_TEMPLATES: Stack.of(self).to_json_string(self.email.template_names),
            names.ENV_SMS_SENDER_ID: s.sms_sender_id,
            names.ENV_SMS_TYPE: s.sms_type,
            names.ENV_SMS_MAX_PRICE: s.sms_max_price_usd,
            names.ENV_MAX_ATTEMPTS_PER_CHANNEL: str(s.max_attempts_per_channel),
            names.ENV_TIMER_QUEUE_URL: timer_queue.queue_url,
            names.ENV_LINK_KEY_ID: data.link_key.key_arn,
            names.ENV_LINK_EXPIRY_S: str(s.ack_link_expiry_hours * 3600),
            names.ENV_SMS_DETAIL: s.sms_detail,
        }
        self.keypress: lambda_.Function | None = None
        if data.voice is not None:
            self.keypress = loop_functions.keypress(factory, data, walk)
            flow = CallFlow(self, "CallFlow", instance_arn=data.voice.instance_arn, keypress=self.keypress)
            router_env.update(
                {
                    names.ENV_CONNECT_INSTANCE_ID: data.voice.instance_id,
                    names.ENV_CONNECT_FLOW_ID: flow.flow_id,
                    names.ENV_CONNECT_SOURCE_PHONE: data.voice.source_phone,
                }
            )
            if net is not None:
                Annotations.of(self).add_info(NO_ENDPOINT_NOTE)
                self.dialer = factory.build(
                    "Dialer",
                    handler=names.DIALER_HANDLER,
                    description="Clarion: starts Amazon Connect calls for the router (Connect has no VPC endpoint)",
                    service="dialer",
                    environment={},
                    in_vpc=False,
                    outside_vpc_reason="Amazon Connect offers no VPC endpoint; this function only starts calls "
                    "(connect:StartOutboundVoiceContact on Clarion's instance) for the router, which stays in the VPC.",
                    invoked_by="the router (RequestResponse)",
                )
                self.dialer.role.add_managed_policy(data.voice.start_calls_policy)  # type: ignore[union-attr]
                router_env[names.ENV_DIALER_FUNCTION] = self.dialer.function_name
        else:
            Annotations.of(self).add_info(
                "connect_mode is off: there is no call channel; high-priority alerts start at the next channel."
            )

        self.router = factory.build(
            "Router",
            handler=names.ROUTER_HANDLER,
            description="Clarion: delivers queued alerts by call, SMS and email with retries and fallback",
            service=names.SERVICE_ROUTER,
            environment=router_env,
            timeout=ROUTER_TIMEOUT,
            memory_mb=512,
            invoked_by="the SQS event source mapping",
        )
        self._allow(self.router, ["dynamodb:GetItem"], [tables.contacts.table_arn])
        self._allow(self.router, DELIVERY_LOG_ACTIONS, [tables.delivery_log.table_arn])
        self._allow(self.router, ["sns:Publish"], [msg.events.topic_arn])
        self._allow(self.router, ["sqs:SendMessage"], [timer_queue.queue_arn])
        self._allow(self.router, ["kms:GenerateMac"], [data.link_key.key_arn])
        if data.sms is not None:
            self.router.add_environment(names.ENV_SMS_ORIGINATION, data.sms.identity)
            self.router.add_environment(names.ENV_SMS_CONFIGURATION_SET, data.sms.configuration_set)
            self._allow(
                self.router, ["sms-voice:SendTextMessage"], [data.sms.identity_arn, data.sms.configuration_set_arn]
            )
        else:
            Annotations.of(self).add_info(_one_way_note(s.sns_sms_delivery_status))
            self._grant_sms(self.router)
        self._grant_email(self.router, s.sender_email)
        if data.voice is not None:
            if self.dialer is not None:
                self._allow(self.router, ["lambda:InvokeFunction"], [self.dialer.function_arn])
            else:
                self.router.role.add_managed_policy(data.voice.start_calls_policy)  # type: ignore[union-attr]
        loop = loop_functions.build(factory, data, common, walk)
        self.escalator, self.links, self.receipts, self.replies = (
            loop.escalator,
            loop.links,
            loop.receipts,
            loop.replies,
        )
        receipts = data.receipts
        self.router.add_environment(names.ENV_RECEIPTS_QUEUE_URL, receipts.queue.queue_url)
        self.router.add_environment(names.ENV_RECEIPT_TIMEOUTS, Stack.of(self).to_json_string(s.receipt_timeouts))
        self._allow(self.router, ["sqs:SendMessage"], [receipts.queue.queue_arn])
        self.sms_status: lambda_.Function | None = None
        if s.sns_sms_receipts:
            self.sms_status = loop_functions.sms_status(factory, data)
            SnsSmsDeliveryStatus(
                self,
                "SnsSmsDeliveryStatus",
                manage=s.sns_sms_delivery_status == "manage",
                key=data.key,
                retention=data.log_retention,
                status_retention=data.delivery_status_retention,
                retain=s.retain_data,
                forwarder=self.sms_status,
            )
        extra = tuple(f for f in (self.keypress, self.sms_status) if f is not None)
        for fn in (self.authorizer, self.intake, self.contacts, self.router, *loop.all, *extra):
            self._allow(fn, KEY_ACTIONS, [data.key.key_arn])
        self.router.add_event_source(
            sources.SqsEventSource(
                msg.alerts,
                batch_size=ROUTER_BATCH_SIZE,
                max_batching_window=Duration.seconds(0),
                report_batch_item_failures=True,
                max_concurrency=_router_concurrency(s.reserved_concurrency),
            )
        )

        self.api = Api(
            self,
            "Api",
            key=data.key,
            log_retention=data.log_retention,
            retain_logs=s.retain_data,
            authorizer_fn=self.authorizer,
            intake_fn=self.intake,
            contacts_fn=self.contacts,
            links_fn=self.links,
            rate_limit=s.api_rate_limit,
            burst_limit=s.api_burst_limit,
            waf_rate_limit=s.waf_rate_limit_per_5min,
            usage_tiers={name: (t.rate_limit, t.burst_limit) for name, t in s.usage_tiers.items()},
        )
        self.authorizer.add_environment(names.ENV_USAGE_KEYS, json.dumps(self.api.usage_plans.shared_keys))
        self.authorizer.add_environment(names.ENV_USAGE_TIER_DEFAULT, s.usage_tier_default)
        self.router.add_environment(names.ENV_LINK_BASE_URL, self.api.api.url)
        functions = [
            f for f in (self.authorizer, self.intake, self.contacts, self.router, *loop.all, *extra, self.dialer) if f
        ]
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            watched=Watched(
                api=self.api.api,
                stage=STAGE,
                router=self.router,
                functions=functions,
                queue=msg.alerts,
                dead_letters=msg.dead_letters,
                timer_dead_letters=data.timers.dead_letters,
                receipt_dead_letters=data.receipts.dead_letters,
                reply_dead_letters=data.sms.replies_dead_letters if data.sms else None,
                receipt_channels=tuple(s.receipt_timeouts),
                delivery_rate_alarm_pct=s.delivery_rate_alarm_pct,
                ack_target_s=dict(s.ack_target_s),
                ack_required=s.ack_required,
                on_call=msg.on_call,
                sms_spend_limit_usd=s.sms_monthly_spend_limit_usd,
                runbook_url=s.runbook_url,
            ),
        )
        self._outputs(data, s.usage_tier_default)

    @staticmethod
    def _allow(fn: lambda_.Function, actions: list[str], resources: list[str]) -> None:
        fn.add_to_role_policy(iam.PolicyStatement(actions=actions, resources=resources))

    def _grant_sms(self, fn: lambda_.Function) -> None:
        # SMS to a phone number has no resource ARN; NotResource on every topic ARN of every account limits this
        # statement to direct SMS, so it cannot publish to any topic (the events topic is granted on its own).
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=["sns:Publish"], not_resources=[f"arn:{Aws.PARTITION}:sns:*:*:*"])
        )

    def _grant_email(self, fn: lambda_.Function, sender: str) -> None:
        ses_arn = f"arn:{Aws.PARTITION}:ses:{Aws.REGION}:{Aws.ACCOUNT_ID}"
        domain = sender.split("@", 1)[1]
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ses:SendTemplatedEmail"],
                resources=[
                    f"{ses_arn}:identity/{sender}",
                    f"{ses_arn}:identity/{domain}",
                    f"{ses_arn}:configuration-set/{self.email.configuration_set.configuration_set_name}",
                    *(f"{ses_arn}:template/{name}" for name in self.email.template_names.values()),
                ],
            )
        )

    def _outputs(self, data: DataStack, default_tier: str) -> None:
        outputs = {
            "ApiUrl": self.api.api.url,
            "RestApiId": self.api.api.rest_api_id,  # tools.tokens flushes its authorizer cache on a revoke
            "UsagePlans": Stack.of(self).to_json_string(self.api.usage_plans.plan_ids),  # tools.tokens: tier -> plan
            "UsageTierDefault": default_tier,
            "SesConfigurationSet": self.email.configuration_set.configuration_set_name,
            "EmailTemplates": Stack.of(self).to_json_string(self.email.template_names),
            "DashboardName": self.monitoring.dashboard.dashboard_name,
            "RouterFunction": self.router.function_name,
        }
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)


def _one_way_note(delivery_status: str) -> str:
    """What synth says, in one line, about SMS without `sms_origination`."""
    receipts = {
        "manage": "its receipts are SNS's SMS delivery status, which this stack turns on for the account",
        "existing": "its receipts are SNS's SMS delivery status, from the account's existing log groups",
        "off": "with no receipts (sns_sms_delivery_status is off)",
    }[delivery_status]
    return (
        f"sms_origination is empty: SMS is one-way through SNS, {receipts}; there are no replies, so clinicians "
        "acknowledge by link, call or API."
    )


def _router_concurrency(reserved: int) -> int:
    """The event source's maximum concurrency: never above the router's reserved concurrency (min 2)."""
    return loop_functions.max_concurrency(reserved)
