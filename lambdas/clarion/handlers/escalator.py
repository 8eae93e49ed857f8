"""Escalator: the timer queue's consumer. Each timer moves its alert's walk on (`clarion.usecases.advance_walk`).

The timers of a batch are handled side by side, each in its own thread (a timer that came early waits out its
last fraction of a second without holding back one already due), so a burst of due timers is handled in parallel
across batches and within each. A timer that fails is reported (ReportBatchItemFailures) and made visible again in
`RETRY_S` seconds, not after the queue's visibility timeout, so the repair of a half-started stage waits seconds.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.domain.timers import Timer
from clarion.shared.batches import each_record_at_once, message_of, receive_count
from clarion.shared.observability import logger, metrics, tracer
from clarion.usecases import advance_walk

RETRY_S = 2  # a failed timer is handed out again this soon


def _due(record: dict[str, Any]) -> float:
    try:
        return Timer.parse(record["body"]).due
    except (ValueError, KeyError, TypeError):
        return 0.0  # not a timer: handled (and refused) first


def record_handler(record: dict[str, Any]) -> None:
    logger.thread_safe_clear_keys()
    timer = Timer.parse(record["body"])
    logger.thread_safe_append_keys(
        message_id=timer.message_id, client_id=timer.client_id, correlation_id=timer.message_id
    )
    try:
        advance_walk.advance(timer, receive_count(record))
    except Exception:
        message_of(record).visible_in(RETRY_S)
        raise


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    """Every timer of the batch at once, soonest due first."""
    records = sorted(event["Records"], key=_due)
    return each_record_at_once(records, record_handler, "Timer not handled; it comes back in seconds")
