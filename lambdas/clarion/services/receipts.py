"""Settling a sent attempt with its receipt: shared by the receipts function (providers' receipts and deadlines)
and the keypress function (a call's answer, reported by its contact flow).

The verdict is recorded with a conditional write, so only the first final verdict counts; when it is new, the
delivery it belongs to goes back on the alert queue and the router resumes from the log.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from clarion import names
from clarion.adapters import delivery_log, queue
from clarion.adapters.delivery_log import SentAttempt
from clarion.domain.models import Outcome
from clarion.domain.receipts import Receipt
from clarion.shared.observability import logger


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def metric(name: str, dimensions: dict[str, str], value: float = 1, unit: MetricUnit = MetricUnit.Count) -> None:
    """One metric with `dimensions` (and `service`, the function's)."""
    with single_metric(name=name, unit=unit, value=value, namespace=names.METRICS_NAMESPACE) as emitted:
        for key, dimension in dimensions.items():
            emitted.add_dimension(name=key, value=dimension)


def _count(receipt: Receipt, outcome: Outcome, sent_at: str, at: str) -> None:
    channel = receipt.channel.value
    metric(names.METRIC_RECEIPTS, {"channel": channel, "outcome": outcome.value})
    delivered = outcome is Outcome.DELIVERED
    metric(names.METRIC_RECEIPTS_DELIVERED if delivered else names.METRIC_RECEIPTS_FAILED, {"channel": channel})
    if delivered:
        seconds = max(0.0, _seconds_between(sent_at, at))
        metric(names.METRIC_SEND_TO_RECEIPT, {"channel": channel}, seconds, MetricUnit.Seconds)


def apply(sent: SentAttempt, receipt: Receipt, receive_count: int = 1) -> bool:
    """Record `receipt` on the attempt `sent` and resume its delivery; False when it changed nothing."""
    outcome = receipt.outcome
    assert outcome is not None
    delivery = sent.delivery
    logger.set_correlation_id(delivery.message_id)
    logger.append_keys(message_id=delivery.message_id, client_id=delivery.client_id, stage=delivery.stage)
    log = {"channel": receipt.channel.value, "provider_message_id": receipt.provider_id, "receipt": receipt.kind}
    at = receipt.at or _now()
    if not delivery_log.settle_attempt(sent, outcome, receipt.kind, at):
        logger.info("Receipt changes nothing: the attempt was settled already", extra=log)
        if receive_count > 1:
            queue.enqueue(delivery)  # this receipt may have settled it before a crash: the router resumes (idempotent)
        return False
    _count(receipt, outcome, sent.sent_at, at)
    logger.info("Receipt recorded", extra={**log, "outcome": outcome.value})
    queue.enqueue(delivery)
    return True
