"""Settle a sent attempt with what its provider reported: a receipt (SES, End User Messaging, Connect's contact
event, SNS's SMS status), a deadline the router set, or the call's keypress.

A receipt names the provider's message id; the delivery log finds the attempt by it and records the verdict with a
conditional write, so only the first final verdict counts: a duplicate, a late or an out-of-order receipt changes
nothing. When the verdict is new, the delivery it belongs to goes back on the alert queue and the router resumes
from the log: a delivered receipt ends the delivery, a failure sends the next channel at once (or, with none left,
reports the recipient unreachable). A receipt can overtake the write of its attempt (no attempt yet, or one still
`pending`): it comes back a few seconds later, a few times, before it is counted unmatched or dropped.

Logs name the provider's message id and the receipt's kind, never a destination or message text.
"""

from __future__ import annotations

from clarion import names
from clarion.adapters import delivery_log, queue
from clarion.adapters.delivery_log import SentAttempt
from clarion.domain import receipts
from clarion.domain.models import Outcome
from clarion.domain.receipts import Receipt
from clarion.shared import clock, metrics
from clarion.shared.batches import QueueMessage
from clarion.shared.observability import logger

UNMATCHED_RETRIES = 3  # a receipt can overtake the write of its attempt: look again, a few seconds later
RETRY_AFTER_S = 3


class NotYetKnownError(Exception):
    """A receipt for a message id the log does not hold (yet): it comes back in a few seconds."""


def settle(
    receipt: Receipt, receive_count: int = 1, message: QueueMessage | None = None, sent: SentAttempt | None = None
) -> bool:
    """Record `receipt` on its attempt (`sent`, when the caller found it already) and resume its delivery; False when
    it changed nothing. Raises `NotYetKnownError` for an attempt not logged yet, after making `message` visible again
    in a few seconds."""
    log = {"channel": receipt.channel.value, "provider_message_id": receipt.provider_id, "receipt": receipt.kind}
    outcome = receipt.outcome
    if outcome is None:
        logger.debug("Receipt is no verdict (progress or ignored)", extra=log)
        return False
    sent = sent or delivery_log.find_sent(receipt.channel, receipt.provider_id)
    if sent is None:
        if receipt.kind != receipts.NO_RECEIPT and receive_count < UNMATCHED_RETRIES:
            logger.info("Receipt for a message id not logged yet; it comes back", extra=log)
            if message is not None:
                message.visible_in(RETRY_AFTER_S)
            raise NotYetKnownError(receipt.provider_id)
        metrics.emit(names.METRIC_RECEIPTS_UNMATCHED)
        logger.warning("Receipt for no attempt Clarion knows; nothing changed", extra=log)
        return False
    return _apply(sent, receipt, outcome, receive_count, message, log)


def _apply(
    sent: SentAttempt,
    receipt: Receipt,
    outcome: Outcome,
    receive_count: int,
    message: QueueMessage | None,
    log: dict[str, str],
) -> bool:
    delivery = sent.delivery
    logger.set_correlation_id(delivery.message_id)
    logger.append_keys(message_id=delivery.message_id, client_id=delivery.client_id, stage=delivery.stage)
    at = receipt.at or clock.stamp()
    stood = delivery_log.settle_attempt(sent, outcome, receipt.kind, at)
    if stood is Outcome.PENDING and message is not None and receive_count < UNMATCHED_RETRIES:
        logger.info("Receipt for an attempt whose send is not recorded yet; it comes back", extra=log)
        message.visible_in(RETRY_AFTER_S)
        raise NotYetKnownError(receipt.provider_id)
    if stood is not None:
        logger.info("Receipt changes nothing: the attempt was settled already", extra={**log, "stood": stood.value})
        if receive_count > 1:
            queue.enqueue(delivery)  # this receipt may have settled it before a crash: the router resumes (idempotent)
        return False
    _count(receipt, outcome, sent.sent_at, at)
    logger.info("Receipt recorded", extra={**log, "outcome": outcome.value})
    queue.enqueue(delivery)
    return True


def _count(receipt: Receipt, outcome: Outcome, sent_at: str, at: str) -> None:
    channel = receipt.channel.value
    metrics.emit(names.METRIC_RECEIPTS, dimensions={"channel": channel, "outcome": outcome.value})
    delivered = outcome is Outcome.DELIVERED
    name = names.METRIC_RECEIPTS_DELIVERED if delivered else names.METRIC_RECEIPTS_FAILED
    metrics.emit(name, dimensions={"channel": channel})
    if delivered:
        seconds = clock.seconds_between(sent_at, at)
        metrics.emit(names.METRIC_SEND_TO_RECEIPT, seconds, "Seconds", {"channel": channel})
