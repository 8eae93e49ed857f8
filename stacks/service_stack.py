"""Stateless half: functions, API, email templates, alarms and dashboard. Safe to destroy and redeploy.

Each function is an entry of `stacks/functions_table.py`; this stack builds them in order with the one factory, then
the constructs made from them (call flow, SMS delivery status, API, monitoring)."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Annotations, CfnOutput, Stack
from constructs import Construct

from stacks.constructs.api import STAGE, Api, Limits
from stacks.constructs.call_flow import CallFlow
from stacks.constructs.email import Email
from stacks.constructs.functions import FunctionDefaults, FunctionFactory
from stacks.constructs.monitoring import Monitoring, Watched
from stacks.constructs.network import NO_ENDPOINT_NOTE
from stacks.constructs.sms_status import SnsSmsDeliveryStatus
from stacks.data_stack import DataStack
from stacks.functions_table import TABLE
from stacks.wiring import Wiring

# The throttle alarms add up the functions' throttles in this order, ten to an alarm (t0, t1, ...): changing it
# moves functions between the alarms.
WATCH_ORDER = (
    "Authorizer",
    "Intake",
    "Contacts",
    "Router",
    "Escalator",
    "Links",
    "Receipts",
    "DeadLetters",
    "Replies",
    "Keypress",
    "SmsStatus",
    "Dialer",
    "TimerDeadLetters",
)


class ServiceStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, data: DataStack, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        s, net = data.settings, data.network
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
        wiring = Wiring(self, data, self.email)
        for entry in TABLE:
            spec = entry(wiring)
            if spec is not None:
                wiring.built[spec.name] = factory.build(spec)
        self.functions = built = wiring.built
        self._notes(data)

        if data.voice is not None:
            flow = CallFlow(self, "CallFlow", instance_arn=data.voice.instance_arn, keypress=built["Keypress"])
            wiring.flow_id.set(flow.flow_id)
        if "SmsStatus" in built:
            SnsSmsDeliveryStatus(
                self,
                "SnsSmsDeliveryStatus",
                manage=s.sns_sms_delivery_status == "manage",
                key=data.key,
                retention=data.log_retention,
                status_retention=data.delivery_status_retention,
                retain=s.retain_data,
                forwarder=built["SmsStatus"],
            )
        self.api = Api(
            self,
            "Api",
            key=data.key,
            log_retention=data.log_retention,
            retain_logs=s.retain_data,
            authorizer_fn=built["Authorizer"],
            intake_fn=built["Intake"],
            contacts_fn=built["Contacts"],
            links_fn=built["Links"],
            limits=Limits(
                s.api_rate_limit,
                s.api_burst_limit,
                s.waf_rate_limit_per_5min,
                s.waf_link_rate_limit_per_min,
                s.usage_tiers,
            ),
        )
        wiring.api_url.set(self.api.api.url)
        wiring.usage_keys.set(json.dumps(self.api.usage_plans.shared_keys))
        self.monitoring = Monitoring(self, "Monitoring", watched=self._watched(data))
        self._outputs(s.usage_tier_default)

    def _notes(self, data: DataStack) -> None:
        """What synth says about this configuration's channels, one line each."""
        s = data.settings
        if data.voice is None:
            Annotations.of(self).add_info(
                "connect_mode is off: there is no call channel; high-priority alerts start at the next channel."
            )
        elif data.network is not None:
            Annotations.of(self).add_info(NO_ENDPOINT_NOTE)
        if data.sms is None:
            Annotations.of(self).add_info(_one_way_note(s.sns_sms_delivery_status))

    def _watched(self, data: DataStack) -> Watched:
        s = data.settings
        return Watched(
            api=self.api.api,
            stage=STAGE,
            router=self.functions["Router"],
            functions=[self.functions[name] for name in WATCH_ORDER if name in self.functions],
            queue=data.messaging.alerts,
            dead_letters=data.messaging.dead_letters,
            timer_dead_letters=data.timers.dead_letters,
            receipt_dead_letters=data.receipts.dead_letters,
            reply_dead_letters=data.sms.replies_dead_letters if data.sms else None,
            receipt_channels=tuple(s.receipt_timeouts),
            delivery_rate_alarm_pct=s.delivery_rate_alarm_pct,
            ack_target_s=dict(s.ack_target_s),
            ack_required=s.ack_required,
            on_call=data.messaging.on_call,
            sms_spend_limit_usd=s.sms_monthly_spend_limit_usd,
            runbook_url=s.runbook_url,
        )

    def _outputs(self, default_tier: str) -> None:
        outputs = {
            "ApiUrl": self.api.api.url,
            "RestApiId": self.api.api.rest_api_id,  # tools.tokens flushes its authorizer cache on a revoke
            "UsagePlans": Stack.of(self).to_json_string(self.api.usage_plans.plan_ids),  # tools.tokens: tier -> plan
            "UsageTierDefault": default_tier,
            "SesConfigurationSet": self.email.configuration_set.configuration_set_name,
            "EmailTemplates": Stack.of(self).to_json_string(self.email.template_names),
            "DashboardName": self.monitoring.dashboard.dashboard_name,
            "RouterFunction": self.functions["Router"].function_name,
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
