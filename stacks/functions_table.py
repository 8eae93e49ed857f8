"""Every Clarion function, one entry each: its handler, environment, grants, event source and sizing.

The service stack builds the entries in `TABLE`'s order (the template's) with the one factory in
`constructs/functions.py`, which adds the shared defaults. An entry reads what it is wired to from `Wiring`
(`stacks/wiring.py`) and returns None where the configuration has no such function. Its grants are applied in the
order listed, the order of the statements in the function's policy (keep it, or the template changes); `Consume` is
its SQS event source.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Duration

from clarion import names
from stacks.constructs.functions import Consume, FunctionSpec, Grant
from stacks.constructs.messaging import ROUTER_TIMEOUT
from stacks.constructs.receipts import RECEIPTS_TIMEOUT
from stacks.constructs.sms import REPLIES_TIMEOUT
from stacks.constructs.timers import ESCALATOR_TIMEOUT
from stacks.grants import (
    DELIVERY_LOG_ACTIONS,
    GET,
    IDEMPOTENCY_ACTIONS,
    PUBLISH,
    SEND,
    allow,
    direct_sms,
    send_email,
    use_key,
)
from stacks.wiring import Wiring

ROUTER_BATCH_SIZE = 10
# Ten timers to an invocation, each in its own thread (clarion.handlers.escalator): a burst of due timers is
# handled ten at a time per unit of concurrency, none waiting behind another's last second (docs/architecture.md).
ESCALATOR_BATCH_SIZE = 10
QUEUE_BATCH_SIZE = 10  # the receipts, dead-letters and replies consumers
SCHEDULE_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
]
KEYPRESS_TIMEOUT = Duration.seconds(8)  # the contact flow waits 8 s at most for the answer


def authorizer(w: Wiring) -> FunctionSpec:
    return FunctionSpec(
        "Authorizer",
        handler=names.AUTHORIZER_HANDLER,
        description="Clarion: checks client tokens and scopes",
        service="authorizer",
        environment={
            names.ENV_CLIENTS_TABLE: w.tables.clients.table_name,
            names.ENV_USAGE_KEYS: w.usage_keys.token,
            names.ENV_USAGE_TIER_DEFAULT: w.s.usage_tier_default,
        },
        grants=(allow(GET, w.tables.clients.table_arn), use_key(w)),
    )


def intake(w: Wiring) -> FunctionSpec:
    t = w.tables
    return FunctionSpec(
        "Intake",
        handler=names.INTAKE_HANDLER,
        description="Clarion: accepts alerts and answers their status",
        service=names.SERVICE_INTAKE,
        environment={
            **w.common,
            **w.walk,
            names.ENV_CONTACTS_TABLE: t.contacts.table_name,
            names.ENV_POLICIES_TABLE: t.policies.table_name,
            names.ENV_IDEMPOTENCY_TABLE: t.idempotency.table_name,
            names.ENV_LINK_KEY_ID: w.data.link_key.key_arn,
            names.ENV_ALERT_QUEUE_URL: w.msg.alerts.queue_url,
            names.ENV_ACK_POLICY: w.json(w.s.ack_policy()),
            names.ENV_NOTIFY_ON_ACK: w.notify_on_ack,
        },
        grants=(
            allow(GET, t.contacts.table_arn, t.policies.table_arn),
            allow(SEND, w.timer_queue.queue_arn),
            allow(IDEMPOTENCY_ACTIONS, t.idempotency.table_arn),
            allow(["kms:GenerateMac"], w.data.link_key.key_arn),  # the key of the idempotency records' body HMAC
            allow(DELIVERY_LOG_ACTIONS, t.delivery_log.table_arn),
            allow(SEND, w.msg.alerts.queue_arn),
            allow(PUBLISH, w.msg.events.topic_arn),
            use_key(w),
        ),
    )


def contacts(w: Wiring) -> FunctionSpec:
    t = w.tables
    return FunctionSpec(
        "Contacts",
        handler=names.CONTACTS_HANDLER,
        description="Clarion: manages contacts, escalation policies and on-call schedules",
        service="contacts",
        environment={
            names.ENV_CONTACTS_TABLE: t.contacts.table_name,
            names.ENV_POLICIES_TABLE: t.policies.table_name,
            names.ENV_AUDIT_TABLE: t.audit.table_name,
            names.ENV_SCHEDULES_TABLE: t.schedules.table_name,
        },
        with_deps=True,
        grants=(
            # Each change is written with its audit entry in one transaction; the history is read back by Query.
            allow(["dynamodb:PutItem", "dynamodb:Query"], t.audit.table_arn),
            allow(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"], t.contacts.table_arn),
            allow(["dynamodb:Query"], f"{t.contacts.table_arn}/index/by-policy"),
            allow(
                ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan"], t.policies.table_arn
            ),
            # A schedule's items: read by key and by partition; an override is written in a transaction that checks
            # the schedule, takes its overrides' lock and records the change.
            allow(SCHEDULE_ACTIONS, t.schedules.table_arn),
            use_key(w),
        ),
    )


def keypress(w: Wiring) -> FunctionSpec | None:
    if w.voice is None:
        return None
    return FunctionSpec(
        "Keypress",
        handler=names.KEYPRESS_HANDLER,
        description="Clarion: records a clinician's keypress during an alert call (acknowledge, decline, none)",
        service=names.SERVICE_KEYPRESS,
        environment={
            **w.walk,
            names.ENV_ALERT_QUEUE_URL: w.msg.alerts.queue_url,
            names.ENV_NOTIFY_ON_ACK: w.notify_on_ack,
        },
        timeout=KEYPRESS_TIMEOUT,
        invoked_by="the Connect instance's contact flow (its integration association)",
        grants=(
            allow(DELIVERY_LOG_ACTIONS, w.tables.delivery_log.table_arn),
            allow(PUBLISH, w.msg.events.topic_arn),
            allow(SEND, w.timer_queue.queue_arn, w.msg.alerts.queue_arn),
            use_key(w),
        ),
    )


def dialer(w: Wiring) -> FunctionSpec | None:
    """With private networking only: Amazon Connect has no VPC endpoint, so the router asks this function to call."""
    if w.voice is None or w.data.network is None:
        return None
    return FunctionSpec(
        "Dialer",
        handler=names.DIALER_HANDLER,
        description="Clarion: starts Amazon Connect calls for the router (Connect has no VPC endpoint)",
        service="dialer",
        environment={},
        in_vpc=False,
        outside_vpc_reason="Amazon Connect offers no VPC endpoint; this function only starts calls "
        "(connect:StartOutboundVoiceContact on Clarion's instance) for the router, which stays in the VPC.",
        invoked_by="the router (RequestResponse)",
        grants=(w.voice.start_calls_policy,),
    )


def router(w: Wiring) -> FunctionSpec:
    s, t, voice, sms, dialer_fn = w.s, w.tables, w.voice, w.sms, w.built.get("Dialer")
    # With private networking the router asks the dialer to start calls, else it starts them itself.
    calls: Grant | None = None
    if voice is not None:
        calls = allow(["lambda:InvokeFunction"], dialer_fn.function_arn) if dialer_fn else voice.start_calls_policy
    return FunctionSpec(
        "Router",
        handler=names.ROUTER_HANDLER,
        description="Clarion: delivers queued alerts by call, SMS and email with retries and fallback",
        service=names.SERVICE_ROUTER,
        environment={
            **w.common,
            names.ENV_CONTACTS_TABLE: t.contacts.table_name,
            names.ENV_DELIVERY_TABLE: t.delivery_log.table_name,
            names.ENV_EVENTS_TOPIC_ARN: w.msg.events.topic_arn,
            names.ENV_SENDER_EMAIL: s.sender_email,
            names.ENV_SES_CONFIGURATION_SET: w.email.configuration_set.configuration_set_name,
            names.ENV_EMAIL_TEMPLATES: w.json(w.email.template_names),
            names.ENV_SMS_SENDER_ID: s.sms_sender_id,
            names.ENV_SMS_TYPE: s.sms_type,
            names.ENV_SMS_MAX_PRICE: s.sms_max_price_usd,
            names.ENV_MAX_ATTEMPTS_PER_CHANNEL: str(s.max_attempts_per_channel),
            names.ENV_TIMER_QUEUE_URL: w.timer_queue.queue_url,
            names.ENV_LINK_KEY_ID: w.data.link_key.key_arn,
            names.ENV_LINK_EXPIRY_S: str(s.ack_link_expiry_hours * 3600),
            names.ENV_SMS_DETAIL: s.sms_detail,
            **(
                {
                    names.ENV_CONNECT_INSTANCE_ID: voice.instance_id,
                    names.ENV_CONNECT_FLOW_ID: w.flow_id.token,
                    names.ENV_CONNECT_SOURCE_PHONE: voice.source_phone,
                }
                if voice
                else {}
            ),
            **({names.ENV_DIALER_FUNCTION: dialer_fn.function_name} if dialer_fn else {}),
            **(
                {names.ENV_SMS_ORIGINATION: sms.identity, names.ENV_SMS_CONFIGURATION_SET: sms.configuration_set}
                if sms
                else {}
            ),
            names.ENV_RECEIPTS_QUEUE_URL: w.receipt_queue.queue_url,
            names.ENV_RECEIPT_TIMEOUTS: w.json(s.receipt_timeouts),
            names.ENV_LINK_BASE_URL: w.api_url.token,
        },
        timeout=ROUTER_TIMEOUT,
        memory_mb=512,
        invoked_by="the SQS event source mapping",
        grants=(
            allow(GET, t.contacts.table_arn),
            allow(DELIVERY_LOG_ACTIONS, t.delivery_log.table_arn),
            allow(PUBLISH, w.msg.events.topic_arn),
            allow(SEND, w.timer_queue.queue_arn),
            allow(["kms:GenerateMac"], w.data.link_key.key_arn),
            allow(["sms-voice:SendTextMessage"], sms.identity_arn, sms.configuration_set_arn) if sms else direct_sms(),
            send_email(w),
            *([calls] if calls else []),
            allow(SEND, w.receipt_queue.queue_arn),
            use_key(w),
            Consume(w.msg.alerts, ROUTER_BATCH_SIZE),
        ),
    )


def escalator(w: Wiring) -> FunctionSpec:
    return _walker(
        w,
        ("Escalator", names.ESCALATOR_HANDLER, names.SERVICE_ESCALATOR),
        "Clarion: starts the next escalation stage when a window ends unacknowledged",
        Consume(w.timer_queue, ESCALATOR_BATCH_SIZE),
        "the SQS event source mapping of the timer queue",
    )


def links(w: Wiring) -> FunctionSpec:
    msg = w.msg
    return FunctionSpec(
        "Links",
        handler=names.LINKS_HANDLER,
        description="Clarion: the acknowledgement links' page (public, signed, expiring)",
        service="links",
        environment={
            **w.walk,
            names.ENV_LINK_KEY_ID: w.data.link_key.key_arn,
            names.ENV_ALERT_QUEUE_URL: msg.alerts.queue_url,
            names.ENV_NOTIFY_ON_ACK: w.notify_on_ack,
        },
        grants=(
            allow(DELIVERY_LOG_ACTIONS, w.tables.delivery_log.table_arn),
            allow(["kms:GenerateMac"], w.data.link_key.key_arn),
            allow(PUBLISH, msg.events.topic_arn),
            allow(SEND, w.timer_queue.queue_arn, msg.alerts.queue_arn),
            use_key(w),
        ),
    )


def receipts(w: Wiring) -> FunctionSpec:
    delivery_log, alerts = w.tables.delivery_log, w.msg.alerts
    return FunctionSpec(
        "Receipts",
        handler=names.RECEIPTS_HANDLER,
        description="Clarion: settles sent attempts with the providers' delivery receipts",
        service=names.SERVICE_RECEIPTS,
        environment={names.ENV_DELIVERY_TABLE: delivery_log.table_name, names.ENV_ALERT_QUEUE_URL: alerts.queue_url},
        timeout=RECEIPTS_TIMEOUT,
        invoked_by="the SQS event source mapping of the receipts queue",
        grants=(
            allow(["dynamodb:GetItem", "dynamodb:UpdateItem"], delivery_log.table_arn),
            allow(SEND, alerts.queue_arn),
            allow(["sqs:ChangeMessageVisibility"], w.receipt_queue.queue_arn),
            Consume(w.receipt_queue, QUEUE_BATCH_SIZE),
            use_key(w),
        ),
    )


def dead_letters(w: Wiring) -> FunctionSpec:
    """The alert, receipt and reply dead-letter queues' consumer: ends each alert there failed and parks it for a
    redrive; parks and counts each receipt and reply."""
    sources = {w.msg.dead_letters: "alerts", w.data.receipts.dead_letters: "receipts"}
    if w.sms is not None:
        sources[w.sms.replies_dead_letters] = "replies"
    return FunctionSpec(
        "DeadLetters",
        handler=names.DEAD_LETTERS_HANDLER,
        description="Clarion: ends alerts the router gave up on as failed and parks them for a redrive",
        service=names.SERVICE_DEAD_LETTERS,
        environment={
            **w.walk,
            names.ENV_DELIVERY_RETENTION_DAYS: str(w.s.delivery_log_retention_days),
            names.ENV_DEAD_LETTER_SOURCES: w.json({q.queue_arn: source for q, source in sources.items()}),
        },
        invoked_by="the SQS event source mappings of the alert, receipt and reply dead-letter queues",
        grants=(
            allow(["dynamodb:PutItem", "dynamodb:UpdateItem"], w.tables.delivery_log.table_arn),
            allow(PUBLISH, w.msg.events.topic_arn),
            allow(SEND, w.timer_queue.queue_arn),
            *(Consume(q, QUEUE_BATCH_SIZE) for q in sources),
            use_key(w),
        ),
    )


def timer_dead_letters(w: Wiring) -> FunctionSpec:
    """The timer dead-letter queue's consumer: moves on, or ends loudly, each walk whose timer dead-lettered, as the
    escalator would have, and parks the timer."""
    return _walker(
        w,
        ("TimerDeadLetters", names.TIMER_DEAD_LETTERS_HANDLER, names.SERVICE_TIMER_DEAD_LETTERS),
        "Clarion: moves on or ends the walk of each escalation timer the escalator gave up on",
        Consume(w.data.timers.dead_letters, QUEUE_BATCH_SIZE),
        "the SQS event source mapping of the timer dead-letter queue",
    )


def _walker(w: Wiring, named: tuple[str, str, str], description: str, source: Consume, invoked_by: str) -> FunctionSpec:
    """A function that walks escalations from a queue of timers: the same environment and grants for both."""
    t, msg = w.tables, w.msg
    name, handler, service = named
    return FunctionSpec(
        name,
        handler=handler,
        description=description,
        service=service,
        environment={
            **w.common,
            **w.walk,
            names.ENV_CONTACTS_TABLE: t.contacts.table_name,
            names.ENV_ALERT_QUEUE_URL: msg.alerts.queue_url,
        },
        timeout=ESCALATOR_TIMEOUT,
        invoked_by=invoked_by,
        grants=(
            allow(GET, t.contacts.table_arn),
            allow(DELIVERY_LOG_ACTIONS, t.delivery_log.table_arn),
            allow(SEND, msg.alerts.queue_arn, w.timer_queue.queue_arn),
            allow(PUBLISH, msg.events.topic_arn),
            source,
            use_key(w),
        ),
    )


def replies(w: Wiring) -> FunctionSpec | None:
    """The function that reads clinicians' SMS replies (two-way SMS only)."""
    sms, msg = w.sms, w.msg
    if sms is None:
        return None
    return FunctionSpec(
        "Replies",
        handler=names.REPLIES_HANDLER,
        description="Clarion: acknowledges or declines alerts from clinicians' SMS replies",
        service=names.SERVICE_REPLIES,
        environment={
            **w.walk,
            names.ENV_ALERT_QUEUE_URL: msg.alerts.queue_url,
            names.ENV_NOTIFY_ON_ACK: w.notify_on_ack,
            names.ENV_SMS_ORIGINATION: sms.identity,
            names.ENV_SMS_TYPE: w.s.sms_type,
            names.ENV_SMS_MAX_PRICE: w.s.sms_max_price_usd,
            names.ENV_SMS_BARE_ACK: "true" if w.s.sms_bare_ack else "false",
        },
        timeout=REPLIES_TIMEOUT,
        invoked_by="the SQS event source mapping of the replies queue",
        grants=(
            allow(DELIVERY_LOG_ACTIONS, w.tables.delivery_log.table_arn),
            allow(PUBLISH, msg.events.topic_arn),
            allow(SEND, w.timer_queue.queue_arn, msg.alerts.queue_arn),
            allow(["sms-voice:SendTextMessage"], sms.identity_arn),  # the answer, without the configuration set
            Consume(sms.replies, QUEUE_BATCH_SIZE),
            use_key(w),
        ),
    )


def sms_status(w: Wiring) -> FunctionSpec | None:
    """The function SNS's SMS delivery-status log groups invoke (one-way SMS with delivery status only)."""
    if not w.s.sns_sms_receipts:
        return None
    return FunctionSpec(
        "SmsStatus",
        handler=names.SMS_STATUS_HANDLER,
        description="Clarion: forwards SNS's SMS delivery status to the receipts queue (no destinations)",
        service=names.SERVICE_SMS_STATUS,
        environment={names.ENV_RECEIPTS_QUEUE_URL: w.receipt_queue.queue_url},
        dead_letter_queue=w.data.receipts.dead_letters,
        invoked_by="the subscription filters of SNS's SMS delivery-status log groups (asynchronously)",
        grants=(allow(SEND, w.receipt_queue.queue_arn), use_key(w)),
    )


# The build order, which is the template's: the keypress function and the dialer come before the router, which
# names them.
TABLE: tuple[Callable[[Wiring], FunctionSpec | None], ...] = (
    authorizer,
    intake,
    contacts,
    keypress,
    dialer,
    router,
    escalator,
    links,
    receipts,
    dead_letters,
    timer_dead_letters,
    replies,
    sms_status,
)
