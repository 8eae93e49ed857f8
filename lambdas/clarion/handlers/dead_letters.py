"""Dead letters: drains the alert, receipt and reply dead-letter queues (`clarion.usecases.park_dead_letter`), so
nothing waits there unseen. A record that cannot be handled stays in its dead-letter queue and comes again."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.shared.batches import each_record
from clarion.shared.observability import logger, metrics, tracer
from clarion.shared.settings import settings
from clarion.usecases import park_dead_letter


def record_handler(record: dict[str, Any]) -> None:
    logger.remove_keys(["message_id", "client_id", "stage"])
    source = settings().dead_letter_sources.get(str(record.get("eventSourceARN", "")), "alerts")
    park_dead_letter.park(record["messageId"], str(record.get("body") or ""), source)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    return each_record(event["Records"], record_handler, "Dead letter not handled; it stays in the dead-letter queue")
