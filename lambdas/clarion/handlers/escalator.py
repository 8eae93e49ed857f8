"""Escalator: the timer queue's consumer. Each timer moves its alert's walk on (`clarion.usecases.advance_walk`);
a failed one goes back to the queue (ReportBatchItemFailures)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.domain.timers import Timer
from clarion.shared.batches import each_record, receive_count
from clarion.shared.observability import logger, metrics, tracer
from clarion.usecases import advance_walk


def _due(record: dict[str, Any]) -> float:
    try:
        return Timer.parse(record["body"]).due
    except (ValueError, KeyError, TypeError):
        return 0.0  # not a timer: handled (and refused) first


def record_handler(record: dict[str, Any]) -> None:
    logger.remove_keys(["message_id", "client_id"])
    timer = Timer.parse(record["body"])
    logger.set_correlation_id(timer.message_id)
    logger.append_keys(message_id=timer.message_id, client_id=timer.client_id)
    advance_walk.advance(timer, receive_count(record))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    """Each timer on its own, soonest due first (a timer that came early and waits out its last second must not
    hold back one already due)."""
    return each_record(sorted(event["Records"], key=_due), record_handler, "Timer not handled; it comes back")
