"""Deliver one alert to one recipient (its addressee, or a contact of an escalation stage): each channel of its
plan in order, retrying what can succeed and falling back when a channel fails, resuming from the delivery log.

The log decides where to resume (`routing.next_step`). Every provider call is preceded by its fence: one
conditional write on the alert that commits the decision to send (the alert still open; for one that needs an
acknowledgement, not acknowledged and not declined by this recipient) and takes the attempt's place in the alert's
order, then its `pending` attempt item, and is followed by its outcome. So an acknowledgement, a decline or the end
that commits first stops the send, and a send fenced first is on record before it. A sent attempt whose channel
has receipts waits for its receipt (the receipts resume the delivery); without receipts, a sent attempt delivers.
The recipient's reach (delivered, or unreachable on every channel) is recorded for the escalator. An alert that needs
none ends `delivered` or `failed` (then `unroutable`, alarmed). A delivery that cannot finish in the time left
raises `OutOfTimeError` after handing its message back to the queue at once, and resumes from the log.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import replace

from clarion import names
from clarion.adapters import channels, contacts, delivery_log, escalations, events, links, receipts, reply_codes, timers
from clarion.adapters.channels import SendError, sms
from clarion.adapters.commits import Head
from clarion.domain import routing
from clarion.domain.escalation import Reach
from clarion.domain.models import Alert, AlertStatus, Attempt, Channel, Contact, Outcome
from clarion.domain.routing import AwaitReceipt, Delivered, RetryPolicy, Send
from clarion.shared import clock, metrics
from clarion.shared.aws_errors import AWS_ERRORS, describe
from clarion.shared.batches import QueueMessage
from clarion.shared.observability import logger, tracer
from clarion.shared.settings import settings

BASE_DELAY_SECONDS = 0.2
MAX_DELAY_SECONDS = 5.0
CODE_ERRORS: tuple[type[Exception], ...] = (*AWS_ERRORS, RuntimeError)  # a code that cannot be given now
LINKED_CHANNELS = frozenset({Channel.SMS, Channel.EMAIL})  # the messages that carry an acknowledgement link

# Replaceable in tests: the wait between retries and the jitter source.
sleep: Callable[[float], None] = time.sleep
jitter: Callable[[], float] = random.SystemRandom().random


class OutOfTimeError(Exception):
    """The next wait and send do not fit in the time left; the alert resumes from the log on redelivery."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"next send needs {delay:.2f}s of waiting plus the send budget")
        self.delay = delay


@tracer.capture_method
def deliver(alert: Alert, seconds_left: Callable[[], float], message: QueueMessage | None = None) -> None:
    """Route `alert` until it is delivered or failed, or raise `OutOfTimeError` (with `message` made visible again
    at once: the resumed run computes and waits its own backoff, with a fresh time budget).

    The log is read once; after that this invocation's own writes are the log, so each step decides from the
    attempts read plus the attempts made here (a resend replaces the `pending` attempt it repeats)."""
    try:
        _deliver(alert, seconds_left)
    except OutOfTimeError as stop:
        logger.info("Time budget exhausted; the alert resumes on redelivery", extra={"wait_seconds": stop.delay})
        if message is not None:
            message.visible_in(0)
        raise


def _deliver(alert: Alert, seconds_left: Callable[[], float]) -> None:
    logged = _logged_attempts(alert)
    if logged is None:
        logger.info("Nothing left to send for this delivery: the alert ended or the recipient answered or was tried")
        return
    attempts, order = logged
    contact = contacts.get_contact(alert.recipient)
    if contact is None:
        logger.warning("Contact not found; no channel can be tried", extra={"contact_id": alert.recipient})
    policy = _policy()
    while True:
        step = routing.next_step(alert.plan, attempts, policy, jitter)
        if isinstance(step, Send) and contact is not None:
            made = _send(alert, contact, step, policy, seconds_left(), order)
            if made is None:
                return
            order = Head(made.seq, made.at)  # this invocation's own fence is the alert's order as it knows it
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


def _logged_attempts(alert: Alert) -> tuple[list[Attempt], Head] | None:
    """The attempts the delivery log holds for this delivery (the alert's recipient at its stage) and the alert's
    order as read, or None when there is nothing left to send: the alert ended, or this recipient was reached, was
    unreachable or declined."""
    record = delivery_log.get_alert(alert.client_id, alert.message_id)
    if record is None:
        delivery_log.create_alert(alert)  # normally written by intake; never route an alert the log cannot track
        return [], Head(0, alert.accepted_at)
    if record.ended:
        return None
    if alert.ack_required:
        if record.reach.get((alert.stage, alert.recipient)) in (Reach.DELIVERED, Reach.FAILED):
            return None
        if alert.recipient in record.declines:
            return None
    mine = [a for a in record.attempts if a.stage == alert.stage and a.contact_id == alert.recipient]
    return mine, Head(record.seq, record.seq_at)


def _policy() -> RetryPolicy:
    config = settings()
    return RetryPolicy(
        max_attempts_per_channel=config.max_attempts_per_channel,
        base_delay=BASE_DELAY_SECONDS,
        max_delay=MAX_DELAY_SECONDS,
        receipts=frozenset(Channel(c) for c in config.receipt_timeouts),
    )


def _send(
    alert: Alert, contact: Contact, step: Send, policy: RetryPolicy, seconds_left: float, order: Head
) -> Attempt | None:
    """Make the attempt `step`, record its outcome and return it; None when it is no longer wanted (the fence
    refused it: acknowledged, declined or ended meanwhile). No provider request starts before its fence commits."""
    if not routing.has_time_for(step, seconds_left, policy):
        raise OutOfTimeError(step.delay)
    if step.delay:
        sleep(step.delay)
    link = _link(alert) if alert.ack_required and step.channel in LINKED_CHANNELS else None
    code = _reply_code(alert, contact) if alert.ack_required and step.channel is Channel.SMS else None
    fenced = escalations.fence(alert, step.channel, order)
    if fenced is None:
        logger.info("Acknowledged, declined or ended meanwhile: nothing more is sent to this recipient")
        return None
    channel = step.channel.value
    pending = Attempt(step.channel, step.attempt, Outcome.PENDING, fenced.at, seq=fenced.seq)
    delivery_log.record_attempt(alert, pending)
    metrics.per_channel(names.METRIC_DELIVERY_ATTEMPTS, channel)
    if step.resend:
        metrics.per_channel(names.METRIC_AMBIGUOUS_RESENDS, channel)
    if step.fallback:
        metrics.per_channel(names.METRIC_FALLBACKS, channel)
    log = {"channel": channel, "attempt": step.attempt, "resend": step.resend}
    try:
        provider_id = channels.send(step.channel, alert, contact, step.attempt, link, code)
    except SendError as error:
        failed = replace(pending, outcome=error.outcome, at=clock.stamp(), error=error.text)
        delivery_log.record_attempt(alert, failed)
        failure = names.METRIC_RETRYABLE_FAILURES if error.retryable else names.METRIC_PERMANENT_FAILURES
        metrics.per_channel(failure, channel)
        metrics.per_channel(names.METRIC_DELIVERY_FAILURES, channel)
        logger.warning("Send failed", extra={**log, "code": error.code, "retryable": error.retryable})
        return failed
    sent = replace(pending, outcome=Outcome.SENT, at=clock.stamp(), provider_message_id=provider_id)
    # Findable by its provider id: an attempt awaiting its receipt, and every call (its keypress finds it so)
    findable = step.channel in policy.receipts or step.channel is Channel.CALL
    delivery_log.record_attempt(alert, sent, awaits_receipt=findable)
    metrics.per_channel(names.METRIC_DELIVERY_SUCCESSES, channel)
    logger.info("Sent", extra={**log, "provider_message_id": provider_id})
    return sent


def _link(alert: Alert) -> str | None:
    """The recipient's acknowledgement link; None when it cannot be made now (KMS or the table failing): the
    message goes out without it rather than not at all, and the API still takes the acknowledgement."""
    try:
        return links.issue(alert)
    except AWS_ERRORS as error:
        logger.warning("Sending without an acknowledgement link: it could not be made", extra=describe(error))
        return None


def _reply_code(alert: Alert, contact: Contact) -> str | None:
    """The code the recipient can reply with (two-way SMS only); None when there is no two-way SMS or the code
    cannot be given now: the SMS goes out with its link alone rather than not at all."""
    if not sms.two_way() or not contact.phone_sms:
        return None
    try:
        return reply_codes.code_for(alert, contact.phone_sms)
    except CODE_ERRORS as error:
        logger.warning("Sending without a reply code: it could not be given", extra=describe(error))
        return None


def _await_receipt(step: AwaitReceipt, attempts: list[Attempt]) -> None:
    """Schedule the deadline of the receipt the sent attempt waits for (again, after a crash: a second deadline
    for a settled attempt changes nothing)."""
    sent = next(a for a in attempts if a.attempt == step.attempt)
    receipts.await_receipt(sent, settings().receipt_timeouts[step.channel.value])
    logger.info("Awaiting the delivery receipt", extra={"channel": step.channel.value, "attempt": step.attempt})


def _finish_delivered(alert: Alert, step: Delivered, attempts: list[Attempt]) -> None:
    moment = clock.now()
    at = clock.stamp(moment)
    if alert.ack_required:
        first = escalations.record_reach(alert, Reach.DELIVERED, at)
        logger.info("Recipient reached", extra={"stage": alert.stage, "channel": step.channel.value})
        if first:
            events.publish_status(alert, AlertStatus.DELIVERED, at, channel=step.channel, attempts=len(attempts))
            seconds = clock.seconds_between(alert.accepted_at, clock.now())
            metrics.loop(names.METRIC_TIME_TO_FIRST_DELIVERY, alert.priority.value, seconds, "Seconds")
        return
    if delivery_log.set_final_status(alert, AlertStatus.DELIVERED, at):
        events.publish_status(alert, AlertStatus.DELIVERED, at, channel=step.channel, attempts=len(attempts))
        logger.info("Alert status changed", extra={"status": AlertStatus.DELIVERED.value})
        elapsed = clock.seconds_between(alert.accepted_at, clock.now()) * 1000
        metrics.per_channel(names.METRIC_ACCEPT_TO_DELIVERED, step.channel.value, elapsed, "Milliseconds")


def _finish_failed(alert: Alert, attempts: list[Attempt]) -> None:
    at = clock.stamp()
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
        metrics.emit(names.METRIC_UNROUTABLE)
        logger.error("Alert unroutable: every channel failed", extra={"attempts": len(attempts)})
