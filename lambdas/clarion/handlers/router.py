"""Router: the alert queue's consumer. Each record is a delivery (`clarion.usecases.deliver_alert`) or a request to
send "taken" notices (`clarion.usecases.notify_taken`); one out of time, or neither, comes back (then the DLQ)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.domain.models import Alert
from clarion.shared import clock
from clarion.shared.batches import each_record, message_of
from clarion.shared.observability import logger, metrics, tracer
from clarion.usecases import deliver_alert, notify_taken
from clarion.usecases.notify_taken import TakenRequest


class PoisonMessageError(Exception):
    """The record's body is not an alert; it goes back to the queue and on to the DLQ."""


def parse(record: dict[str, Any]) -> Alert | TakenRequest:
    """The alert in the SQS `record` (or a request to send `taken` notices), or `PoisonMessageError` (logged
    without the body)."""
    try:
        body = json.loads(record["body"])
        taken = TakenRequest.read(body)
        if taken is not None:
            return taken
        alert = Alert.from_message(body)
        clock.parse(alert.accepted_at)
    except (ValueError, KeyError, TypeError) as error:
        logger.error(
            "Poison message: the body is not a valid alert",
            extra={"sqs_message_id": record["messageId"], "error_type": type(error).__name__},
        )
        raise PoisonMessageError(record["messageId"]) from None
    return alert


def record_handler(record: dict[str, Any], context: LambdaContext) -> None:
    logger.remove_keys(["message_id", "client_id", "priority", "stage"])
    logger.set_correlation_id(None)
    alert = parse(record)
    logger.set_correlation_id(alert.message_id)
    if isinstance(alert, TakenRequest):
        notify_taken.notify(alert)
        return
    logger.append_keys(
        message_id=alert.message_id, client_id=alert.client_id, priority=alert.priority.value, stage=alert.stage
    )
    deliver_alert.deliver(alert, lambda: context.get_remaining_time_in_millis() / 1000, message_of(record))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    """Each record on its own; the failed ones are reported so SQS delivers only those again."""
    return each_record(
        event["Records"],
        lambda record: record_handler(record, context),
        "Delivery interrupted; the alert resumes on redelivery",
        quiet=(PoisonMessageError, deliver_alert.OutOfTimeError),
    )
