"""Timer dead letters: drains the timer dead-letter queue (`clarion.usecases.rescue_walk`), so no walk stalls on
a timer the escalator gave up on. A record that cannot be handled stays in the queue and comes again."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.shared.batches import each_record
from clarion.shared.observability import logger, metrics, tracer
from clarion.usecases import rescue_walk


def record_handler(record: dict[str, Any]) -> None:
    logger.remove_keys(["message_id", "client_id", "stage"])
    rescue_walk.rescue(record["messageId"], str(record.get("body") or ""))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    return each_record(event["Records"], record_handler, "Timer dead letter not handled; it stays in the queue")
