"""Receipts: the receipts queue's consumer. Each body is a provider's receipt or a deadline the router set
(`clarion.domain.receipts.read`); `clarion.usecases.settle_receipt` settles its attempt. A body that is no receipt
is dropped; one whose attempt is not logged yet comes back in a few seconds (ReportBatchItemFailures).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.domain import receipts
from clarion.shared.batches import each_record, message_of, receive_count
from clarion.shared.observability import logger, metrics, tracer
from clarion.usecases import settle_receipt


def record_handler(record: dict[str, Any]) -> None:
    logger.remove_keys(["message_id", "client_id", "stage"])
    logger.set_correlation_id(None)
    try:
        body = json.loads(record["body"])
    except ValueError:
        body = None
    receipt = receipts.read(body)
    if receipt is None:
        logger.warning("Not a receipt Clarion reads; dropped", extra={"sqs_message_id": record["messageId"]})
        return
    settle_receipt.settle(receipt, receive_count(record), message_of(record))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    return each_record(
        event["Records"],
        record_handler,
        "Receipt not handled; it comes back",
        quiet=(settle_receipt.NotYetKnownError,),
    )
