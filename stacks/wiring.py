"""What the function entries of `stacks/functions_table.py` read: the data stack's resources, the service stack's
email, the functions built so far, and what the stack learns only after building them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jsii
from aws_cdk import IStableStringProducer, Lazy, Stack
from aws_cdk import aws_lambda as lambda_

from clarion import names
from stacks.constructs.email import Email
from stacks.data_stack import DataStack


@jsii.implements(IStableStringProducer)
class Later:
    """A value the stack learns only after building the functions that need it (the call flow is made from the
    keypress function, the API from the API's functions): `token` now, the value at synth."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.value: str | None = None
        self.token = Lazy.string(self)

    def set(self, value: str) -> None:
        self.value = value

    def produce(self) -> str:
        if self.value is None:
            raise RuntimeError(f"{self.what} was never set: the service stack sets it after building the functions")
        return self.value


@dataclass
class Wiring:
    """What the entries read: the data stack, the service stack's email, the functions built so far (by name),
    and the values the stack learns after building them."""

    stack: Stack
    data: DataStack
    email: Email
    built: dict[str, lambda_.Function] = field(default_factory=dict)
    flow_id: Later = field(default_factory=lambda: Later("the call flow's id"))
    api_url: Later = field(default_factory=lambda: Later("the API's URL"))
    usage_keys: Later = field(default_factory=lambda: Later("the usage tiers' shared API keys"))

    def __post_init__(self) -> None:
        d = self.data
        self.s, self.tables, self.msg, self.sms, self.voice = d.settings, d.storage, d.messaging, d.sms, d.voice
        self.timer_queue, self.receipt_queue = d.timers.queue, d.receipts.queue

    def json(self, value: Any) -> str:
        return self.stack.to_json_string(value)

    @property
    def common(self) -> dict[str, str]:
        return {
            names.ENV_DELIVERY_RETENTION_DAYS: str(self.s.delivery_log_retention_days),
            names.ENV_CALL_ENABLED: "true" if self.s.call_enabled else "false",
        }

    @property
    def walk(self) -> dict[str, str]:
        """What every function that moves an alert's walk on needs."""
        return {
            names.ENV_DELIVERY_TABLE: self.tables.delivery_log.table_name,
            names.ENV_EVENTS_TOPIC_ARN: self.msg.events.topic_arn,
            names.ENV_TIMER_QUEUE_URL: self.timer_queue.queue_url,
        }

    @property
    def notify_on_ack(self) -> str:
        return "true" if self.s.notify_on_ack else "false"
