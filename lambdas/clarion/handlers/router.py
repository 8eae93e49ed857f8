"""Router: delivers queued alerts, resuming each one from its delivery log.

One SQS record is one alert. The delivery log decides where to resume (`routing.next_step`); every provider
call is preceded by a `pending` attempt item and followed by its outcome. A record that cannot finish inside
the function's time budget, or whose body is not an alert, is reported as a batch item failure so SQS
delivers it again (and, after `maxReceiveCount`, moves it to the dead-letter queue).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from clarion import names
from clarion.adapters import (
    channels,
    contacts,
    delivery_log,
    escalations,
    events,
    links,
    receipts,
    reply_codes,
    timers,
)
from clarion.adapters.channels import SendError, sms
from clarion.domain import routing
from clarion.domain.escalation import Reach
from clarion.domain.models import Alert, AlertStatus, Attempt, Channel, Contact, Outcome
from clarion.domain.routing import AwaitReceipt, Delivered, RetryPolicy, Send
from clarion.services import taken
from clarion.shared import clients
from clarion.shared.observability import logger, loop_metric, metrics, tracer
from clarion.shared.settings import settings

BASE_DELAY_SECONDS = 0.2
MAX_DELAY_SECONDS = 5.0
LINKED_CHANNELS = frozenset({Channel.SMS, Channel.EMAIL})  # the messages that carry an acknowledgement link

# Replaceable in tests: the wait between retries and the jitter source.
sleep: Callable[[float], None] = time.sleep
jitter: Callable[[], float] = random.SystemRandom().random


class PoisonMessageError(Exception):
    """The record's body is not an alert; it goes back to the queue and on to the DLQ."""


class OutOfTimeError(Exception):
    """The next wait and send do not fit in the time left; SQS redelivers and the alert resumes from the log."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"next send needs {delay:.2f}s of waiting plus the send budget")
        self.delay = delay


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def _accepted_at(alert: Alert) -> datetime:
    moment = datetime.fromisoformat(alert.accepted_at)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _count(name: str, channel: Channel | None = None, value: float = 1, unit: MetricUnit = MetricUnit.Count) -> None:
    """The aggregate metric (watched by the alarms) and, with a channel, a per-channel copy."""
    metrics.add_metric(name=name, unit=unit, value=value)
    if channel is None:
        return
    with single_metric(
        name=name,
        unit=unit,
        value=value,
        namespace=names.METRICS_NAMESPACE,
        default_dimensions=metrics.default_dimensions,
    ) as metric:
        metric.add_dimension(name="channel", value=channel.value)


def parse(record: dict[str, Any]) -> Alert | dict[str, Any]:
    """The alert in the SQS `record` (or a request to send `taken` notices), or `PoisonMessageError` (logged
    without the body)."""
    try:
        body = json.loads(record["body"])
        if isinstance(body, dict) and taken.is_request(body):
            return body
        alert = Alert.from_message(body)
        _accepted_at(alert)
    except (ValueError, KeyError, TypeError) as error:
        logger.error(
            "Poison message: the body is not a valid alert",
            extra={"sqs_message_id": record["messageId"], "error_type": type(error).__name__},
        )
        raise PoisonMessageError(record["messageId"]) from None
    return alert


def _finish_delivered(alert: Alert, step: Delivered, attempts: list[Attempt]) -> None:
    at = _iso(_now())
    if alert.ack_required:
        first = escalations.record_reach(alert, Reach.DELIVERED, at)
        logger.info("Recipient reached", extra={"stage": alert.stage, "channel": step.channel.value})
        if first:
            events.publish_status(alert, AlertStatus.DELIVERED, at, channel=step.channel, attempts=len(attempts))
            seconds = (_now() - _accepted_at(alert)).total_seconds()
            loop_metric(names.METRIC_TIME_TO_FIRST_DELIVERY, alert.priority.value, seconds, "Seconds")
        return
    if delivery_log.set_final_status(alert, AlertStatus.DELIVERED, at):
        events.publish_status(alert, AlertStatus.DELIVERED, at, channel=step.channel, attempts=len(attempts))
        logger.info("Alert status changed", extra={"status": AlertStatus.DELIVERED.value})
        elapsed = (_now() - _accepted_at(alert)).total_seconds() * 1000
        _count(names.METRIC_ACCEPT_TO_DELIVERED, step.channel, value=elapsed, unit=MetricUnit.Milliseconds)


def _finish_failed(alert: Alert, attempts: list[Attempt]) -> None:
    at = _iso(_now())
    if alert.ack_required:
        # This recipient cannot be reached; the escalator decides whether the stage has settled.
        escalations.record_reach(alert, Reach.FAILED, at)
        logger.warning(
            "Recipient unreachable on every channel", extra={"stage": alert.stage, "attempts": len(attempts)}
        )
        timers.check(alert.client_id, alert.message_id, alert.stage)
        return
    if delivery_log.set_final_status(alert, AlertStatus.FAILED, at):
        events.publish_status(alert, AlertStatus.FAILED, at, attempts=len(attempts))
        events.publish_status(alert, events.UNROUTABLE, at, attempts=len(attempts))
        logger.info("Alert status changed", extra={"status": AlertStatus.FAILED.value})
        _count(names.METRIC_UNROUTABLE)
        logger.error("Alert unroutable: every channel failed", extra={"attempts": len(attempts)})


def _send(alert: Alert, contact: Contact, step: Send, policy: RetryPolicy, context: LambdaContext) -> Attempt | None:
    """Make the attempt `step`, record its outcome and return it; None when it is no longer wanted.

    For an alert that needs an acknowledgement the walk is read again just before the send (after the wait, the
    link and the reply code), so an acknowledgement, a decline or the end that came meanwhile stops it."""
    if not routing.has_time_for(step, context.get_remaining_time_in_millis() / 1000, policy):
        raise OutOfTimeError(step.delay)
    if step.delay:
        sleep(step.delay)
    link = _link(alert) if alert.ack_required and step.channel in LINKED_CHANNELS else None
    code = _reply_code(alert, contact) if alert.ack_required and step.channel is Channel.SMS else None
    if alert.ack_required and not escalations.still_wanted(alert):
        logger.info("Acknowledged, declined or ended meanwhile: nothing more is sent to this recipient")
        return None
    delivery_log.record_attempt(alert, Attempt(step.channel, step.attempt, Outcome.PENDING, _iso(_now())))
    _count(names.METRIC_DELIVERY_ATTEMPTS, step.channel)
    if step.resend:
        _count(names.METRIC_AMBIGUOUS_RESENDS, step.channel)
    if step.fallback:
        _count(names.METRIC_FALLBACKS, step.channel)
    log = {"channel": step.channel.value, "attempt": step.attempt, "resend": step.resend}
    try:
        provider_id = channels.send(step.channel, alert, contact, step.attempt, link, code)
    except SendError as error:
        failed = Attempt(step.channel, step.attempt, error.outcome, _iso(_now()), error=error.text)
        delivery_log.record_attempt(alert, failed)
        failure = names.METRIC_RETRYABLE_FAILURES if error.retryable else names.METRIC_PERMANENT_FAILURES
        _count(failure, step.channel)
        _count(names.METRIC_DELIVERY_FAILURES, step.channel)
        logger.warning("Send failed", extra={**log, "code": error.code, "retryable": error.retryable})
        return failed
    sent = Attempt(step.channel, step.attempt, Outcome.SENT, _iso(_now()), provider_message_id=provider_id)
    # Findable by its provider id: an attempt awaiting its receipt, and every call (its keypress finds it so)
    findable = step.channel in policy.receipts or step.channel is Channel.CALL
    delivery_log.record_attempt(alert, sent, awaits_receipt=findable)
    _count(names.METRIC_DELIVERY_SUCCESSES, step.channel)
    logger.info("Sent", extra={**log, "provider_message_id": provider_id})
    return sent


def _link(alert: Alert) -> str | None:
    """The recipient's acknowledgement link; None when it cannot be made now (KMS or the table failing): the
    message goes out without it rather than not at all, and the API still takes the acknowledgement."""
    try:
        return links.issue(alert)
    except (ClientError, BotoCoreError) as error:
        logger.warning("Sending without an acknowledgement link: it could not be made", extra=_describe(error))
        return None


def _reply_code(alert: Alert, contact: Contact) -> str | None:
    """The code the recipient can reply with (two-way SMS only); None when there is no two-way SMS or the code
    cannot be given now: the SMS goes out with its link alone rather than not at all."""
    if not sms.two_way() or not contact.phone_sms:
        return None
    try:
        return reply_codes.code_for(alert, contact.phone_sms)
    except (ClientError, BotoCoreError, RuntimeError) as error:
        logger.warning("Sending without a reply code: it could not be given", extra=_describe(error))
        return None


def _policy() -> RetryPolicy:
    config = settings()
    return RetryPolicy(
        max_attempts_per_channel=config.max_attempts_per_channel,
        base_delay=BASE_DELAY_SECONDS,
        max_delay=MAX_DELAY_SECONDS,
        receipts=frozenset(Channel(c) for c in config.receipt_timeouts),
    )


def _await_receipt(step: AwaitReceipt, attempts: list[Attempt]) -> None:
    """Schedule the deadline of the receipt the sent attempt waits for (again, after a crash: a second deadline
    for a settled attempt changes nothing)."""
    sent = next(a for a in attempts if a.attempt == step.attempt)
    receipts.await_receipt(sent, settings().receipt_timeouts[step.channel.value])
    logger.info("Awaiting the delivery receipt", extra={"channel": step.channel.value, "attempt": step.attempt})


def _logged_attempts(alert: Alert) -> list[Attempt] | None:
    """The attempts the delivery log holds for this delivery (the alert's recipient at its stage), or None when
    there is nothing left to send: the alert ended, or this recipient was reached, was unreachable or declined."""
    record = delivery_log.get_alert(alert.client_id, alert.message_id)
    if record is None:
        delivery_log.create_alert(alert)  # normally written by intake; never route an alert the log cannot track
        return []
    if record.ended:
        return None
    if alert.ack_required:
        if record.reach.get((alert.stage, alert.recipient)) in (Reach.DELIVERED, Reach.FAILED):
            return None
        if alert.recipient in record.declines:
            return None
    return [a for a in record.attempts if a.stage == alert.stage and a.contact_id == alert.recipient]


@tracer.capture_method
def deliver(alert: Alert, context: LambdaContext) -> None:
    """Route `alert` until it is delivered or failed, or raise `OutOfTimeError`.

    The log is read once; after that this invocation's own writes are the log, so each step decides from the
    attempts read plus the attempts made here (a resend replaces the `pending` attempt it repeats)."""
    attempts = _logged_attempts(alert)
    if attempts is None:
        logger.info("Nothing left to send for this delivery: the alert ended or the recipient answered or was tried")
        return
    contact = contacts.get_contact(alert.recipient)
    if contact is None:
        logger.warning("Contact not found; no channel can be tried", extra={"contact_id": alert.recipient})
    policy = _policy()
    while True:
        step = routing.next_step(alert.plan, attempts, policy, jitter)
        if isinstance(step, Send) and contact is not None:
            made = _send(alert, contact, step, policy, context)
            if made is None:
                return
            attempts = sorted([a for a in attempts if a.attempt != made.attempt] + [made], key=lambda a: a.attempt)
        elif isinstance(step, AwaitReceipt):
            _await_receipt(step, attempts)
            return
        elif isinstance(step, Delivered):
            _finish_delivered(alert, step, attempts)
            return
        else:
            _finish_failed(alert, attempts)
            return


def _release_now(record: dict[str, Any]) -> None:
    """Make the record visible again at once rather than after the whole visibility timeout.

    The resumed run computes and waits its own backoff, with a fresh time budget."""
    _, _, _, region, account, queue = record["eventSourceARN"].split(":", 5)
    try:
        clients.client("sqs").change_message_visibility(
            QueueUrl=f"https://sqs.{region}.amazonaws.com/{account}/{queue}",
            ReceiptHandle=record["receiptHandle"],
            VisibilityTimeout=0,
        )
    except (ClientError, BotoCoreError) as error:
        logger.warning("Could not shorten the visibility timeout", extra={"error_type": type(error).__name__})


def _describe(error: Exception) -> dict[str, str]:
    if isinstance(error, ClientError):
        return {"error_type": "ClientError", "error_code": str(error.response.get("Error", {}).get("Code"))}
    return {"error_type": type(error).__name__}


def record_handler(record: dict[str, Any], lambda_context: LambdaContext) -> None:
    logger.remove_keys(["message_id", "client_id", "priority", "stage"])
    logger.set_correlation_id(None)
    alert = parse(record)
    if isinstance(alert, dict):
        logger.set_correlation_id(str(alert["message_id"]))
        taken.send_notices(alert)
        return
    logger.set_correlation_id(alert.message_id)
    logger.append_keys(
        message_id=alert.message_id, client_id=alert.client_id, priority=alert.priority.value, stage=alert.stage
    )
    try:
        deliver(alert, lambda_context)
    except OutOfTimeError as stop:
        logger.info("Time budget exhausted; the alert resumes on redelivery", extra={"wait_seconds": stop.delay})
        _release_now(record)
        raise
    except Exception as error:  # the batch boundary: report the record as failed, SQS redelivers it
        logger.error("Delivery interrupted; the alert resumes on redelivery", extra=_describe(error))
        raise


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    """Each record on its own; the failed ones are reported so SQS delivers only those again (the event source
    mapping has ReportBatchItemFailures). Written here rather than with Powertools' batch utility, whose import
    (asyncio and every event class) costs a third of `import boto3` at each cold start."""
    failures = []
    for record in event["Records"]:
        try:
            record_handler(record, context)
        except Exception:  # logged by record_handler (or parse); the record goes back to the queue
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
