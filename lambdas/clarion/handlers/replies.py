"""Replies: the inbound-SMS queue's consumer (End User Messaging's two-way messages, through the inbound topic).
Each reply is read by `clarion.usecases.read_reply`; a body that is no inbound SMS is dropped. Logs name the
inbound message id and what was done, never the number or the text.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.shared.batches import each_record
from clarion.shared.observability import logger, metrics, tracer
from clarion.usecases import read_reply


def record_handler(record: dict[str, Any]) -> None:
    logger.remove_keys(["inbound_message_id"])
    try:
        inbound = json.loads(record["body"])
        number, text = str(inbound["originationNumber"]), str(inbound["messageBody"])
    except (ValueError, KeyError, TypeError):
        logger.warning("Not an inbound SMS; dropped", extra={"sqs_message_id": record["messageId"]})
        return
    logger.append_keys(inbound_message_id=str(inbound.get("inboundMessageId", "")))
    read_reply.read(number, text)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    return each_record(event["Records"], record_handler, "Reply not handled; it comes back")
