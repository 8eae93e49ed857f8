"""The closed loop's functions: the escalator (the timer queue's consumer), the public acknowledgement links, the
receipts function (the receipts queue's consumer) and the dead-letters function (the alert dead-letter queue's).
Built for the service stack, beside the router."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs

from clarion import names
from stacks.constructs.functions import FunctionFactory
from stacks.constructs.receipts import RECEIPTS_TIMEOUT
from stacks.constructs.sms import REPLIES_TIMEOUT
from stacks.constructs.timers import ESCALATOR_TIMEOUT
from stacks.data_stack import DataStack

DELIVERY_LOG_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
# One timer per invocation: timers due together are handled side by side, not one after another in a batch
# (with ten to a batch the last of them started a stage ~1.5 s late here). An invocation per stage costs little.
ESCALATOR_BATCH_SIZE = 1
RECEIPTS_BATCH_SIZE = 10
MAX_CONCURRENCY = 20
KEYPRESS_TIMEOUT = Duration.seconds(8)  # the contact flow waits 8 s at most for the answer


@dataclass(frozen=True)
class LoopFunctions:
    escalator: lambda_.Function
    links: lambda_.Function
    receipts: lambda_.Function
    dead_letters: lambda_.Function
    replies: lambda_.Function | None  # with two-way SMS only

    @property
    def all(self) -> tuple[lambda_.Function, ...]:
        functions = (self.escalator, self.links, self.receipts, self.dead_letters, self.replies)
        return tuple(f for f in functions if f is not None)


def max_concurrency(reserved: int) -> int:
    """An event source's maximum concurrency: never above a function's reserved concurrency (min 2)."""
    return MAX_CONCURRENCY if reserved == 0 else max(2, min(MAX_CONCURRENCY, reserved))


def allow(fn: lambda_.Function, actions: list[str], resources: list[str]) -> None:
    fn.add_to_role_policy(iam.PolicyStatement(actions=actions, resources=resources))


def _consume(fn: lambda_.Function, queue: sqs.IQueue, batch_size: int, reserved: int) -> None:
    fn.add_event_source(
        sources.SqsEventSource(
            queue,
            batch_size=batch_size,
            max_batching_window=Duration.seconds(0),
            report_batch_item_failures=True,
            max_concurrency=max_concurrency(reserved),
        )
    )


def build(factory: FunctionFactory, data: DataStack, common: dict[str, str], walk: dict[str, str]) -> LoopFunctions:
    tables, msg, timer_queue, reserved = (
        data.storage,
        data.messaging,
        data.timers.queue,
        data.settings.reserved_concurrency,
    )
    escalator = factory.build(
        "Escalator",
        handler=names.ESCALATOR_HANDLER,
        description="Clarion: starts the next escalation stage when a window ends unacknowledged",
        service=names.SERVICE_ESCALATOR,
        environment={
            **common,
            **walk,
            names.ENV_CONTACTS_TABLE: tables.contacts.table_name,
            names.ENV_ALERT_QUEUE_URL: msg.alerts.queue_url,
        },
        timeout=ESCALATOR_TIMEOUT,
        invoked_by="the SQS event source mapping of the timer queue",
    )
    allow(escalator, ["dynamodb:GetItem"], [tables.contacts.table_arn])
    allow(escalator, DELIVERY_LOG_ACTIONS, [tables.delivery_log.table_arn])
    allow(escalator, ["sqs:SendMessage"], [msg.alerts.queue_arn, timer_queue.queue_arn])
    allow(escalator, ["sns:Publish"], [msg.events.topic_arn])
    _consume(escalator, timer_queue, ESCALATOR_BATCH_SIZE, reserved)

    links = factory.build(
        "Links",
        handler=names.LINKS_HANDLER,
        description="Clarion: the acknowledgement links' page (public, signed, expiring)",
        service="links",
        environment={
            **walk,
            names.ENV_LINK_KEY_ID: data.link_key.key_arn,
            names.ENV_ALERT_QUEUE_URL: msg.alerts.queue_url,
            names.ENV_NOTIFY_ON_ACK: "true" if data.settings.notify_on_ack else "false",
        },
    )
    allow(links, DELIVERY_LOG_ACTIONS, [tables.delivery_log.table_arn])
    allow(links, ["kms:GenerateMac"], [data.link_key.key_arn])
    allow(links, ["sns:Publish"], [msg.events.topic_arn])
    allow(links, ["sqs:SendMessage"], [timer_queue.queue_arn, msg.alerts.queue_arn])

    receipt_queue = data.receipts.queue
    receipts = factory.build(
        "Receipts",
        handler=names.RECEIPTS_HANDLER,
        description="Clarion: settles sent attempts with the providers' delivery receipts",
        service=names.SERVICE_RECEIPTS,
        environment={
            names.ENV_DELIVERY_TABLE: tables.delivery_log.table_name,
            names.ENV_ALERT_QUEUE_URL: msg.alerts.queue_url,
        },
        timeout=RECEIPTS_TIMEOUT,
        invoked_by="the SQS event source mapping of the receipts queue",
    )
    allow(receipts, ["dynamodb:GetItem", "dynamodb:UpdateItem"], [tables.delivery_log.table_arn])
    allow(receipts, ["sqs:SendMessage"], [msg.alerts.queue_arn])
    allow(receipts, ["sqs:ChangeMessageVisibility"], [receipt_queue.queue_arn])
    _consume(receipts, receipt_queue, RECEIPTS_BATCH_SIZE, reserved)
    return LoopFunctions(escalator, links, receipts, _dead_letters(factory, data, walk), _replies(factory, data, walk))


def _dead_letters(factory: FunctionFactory, data: DataStack, walk: dict[str, str]) -> lambda_.Function:
    """The alert dead-letter queue's consumer: ends each alert there failed and parks it for a redrive."""
    tables, msg, timer_queue = data.storage, data.messaging, data.timers.queue
    fn = factory.build(
        "DeadLetters",
        handler=names.DEAD_LETTERS_HANDLER,
        description="Clarion: ends alerts the router gave up on as failed and parks them for a redrive",
        service=names.SERVICE_DEAD_LETTERS,
        environment={**walk, names.ENV_DELIVERY_RETENTION_DAYS: str(data.settings.delivery_log_retention_days)},
        invoked_by="the SQS event source mapping of the alert dead-letter queue",
    )
    allow(fn, ["dynamodb:PutItem", "dynamodb:UpdateItem"], [tables.delivery_log.table_arn])
    allow(fn, ["sns:Publish"], [msg.events.topic_arn])
    allow(fn, ["sqs:SendMessage"], [timer_queue.queue_arn])
    _consume(fn, msg.dead_letters, RECEIPTS_BATCH_SIZE, data.settings.reserved_concurrency)
    return fn


def _replies(factory: FunctionFactory, data: DataStack, walk: dict[str, str]) -> lambda_.Function | None:
    """The function that reads clinicians' SMS replies (two-way SMS only)."""
    sms = data.sms
    if sms is None:
        return None
    tables, msg, timer_queue = data.storage, data.messaging, data.timers.queue
    replies = factory.build(
        "Replies",
        handler=names.REPLIES_HANDLER,
        description="Clarion: acknowledges or declines alerts from clinicians' SMS replies",
        service=names.SERVICE_REPLIES,
        environment={
            **walk,
            names.ENV_ALERT_QUEUE_URL: msg.alerts.queue_url,
            names.ENV_NOTIFY_ON_ACK: "true" if data.settings.notify_on_ack else "false",
            names.ENV_SMS_ORIGINATION: sms.identity,
            names.ENV_SMS_TYPE: data.settings.sms_type,
            names.ENV_SMS_MAX_PRICE: data.settings.sms_max_price_usd,
        },
        timeout=REPLIES_TIMEOUT,
        invoked_by="the SQS event source mapping of the replies queue",
    )
    allow(replies, DELIVERY_LOG_ACTIONS, [tables.delivery_log.table_arn])
    allow(replies, ["sns:Publish"], [msg.events.topic_arn])
    allow(replies, ["sqs:SendMessage"], [timer_queue.queue_arn, msg.alerts.queue_arn])
    allow(replies, ["sms-voice:SendTextMessage"], [sms.identity_arn])  # the answer, without the configuration set
    _consume(replies, sms.replies, RECEIPTS_BATCH_SIZE, data.settings.reserved_concurrency)
    return replies


def sms_status(factory: FunctionFactory, data: DataStack) -> lambda_.Function:
    """The function SNS's SMS delivery-status log groups invoke (one-way SMS with delivery status only)."""
    receipt_queue = data.receipts.queue
    fn = factory.build(
        "SmsStatus",
        handler=names.SMS_STATUS_HANDLER,
        description="Clarion: forwards SNS's SMS delivery status to the receipts queue (no destinations)",
        service=names.SERVICE_SMS_STATUS,
        environment={names.ENV_RECEIPTS_QUEUE_URL: receipt_queue.queue_url},
        dead_letter_queue=data.receipts.dead_letters,
        invoked_by="the subscription filters of SNS's SMS delivery-status log groups (asynchronously)",
    )
    allow(fn, ["sqs:SendMessage"], [receipt_queue.queue_arn])
    return fn


def keypress(factory: FunctionFactory, data: DataStack, walk: dict[str, str]) -> lambda_.Function:
    """The function the call's contact flow invokes with the clinician's keypress (or its absence)."""
    tables, msg, timer_queue = data.storage, data.messaging, data.timers.queue
    fn = factory.build(
        "Keypress",
        handler=names.KEYPRESS_HANDLER,
        description="Clarion: records a clinician's keypress during an alert call (acknowledge, decline, none)",
        service=names.SERVICE_KEYPRESS,
        environment={
            **walk,
            names.ENV_ALERT_QUEUE_URL: msg.alerts.queue_url,
            names.ENV_NOTIFY_ON_ACK: "true" if data.settings.notify_on_ack else "false",
        },
        timeout=KEYPRESS_TIMEOUT,
        invoked_by="the Connect instance's contact flow (its integration association)",
    )
    allow(fn, DELIVERY_LOG_ACTIONS, [tables.delivery_log.table_arn])
    allow(fn, ["sns:Publish"], [msg.events.topic_arn])
    allow(fn, ["sqs:SendMessage"], [timer_queue.queue_arn, msg.alerts.queue_arn])
    return fn
