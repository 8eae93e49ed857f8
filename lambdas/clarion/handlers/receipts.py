"""Receipts: reads the receipts queue and settles each sent attempt with what its provider reported.

A receipt (`clarion.domain.receipts.read`) names the provider's message id; the delivery log finds the attempt by
it (`delivery_log.find_sent`) and records the verdict with a conditional write, so only the first final verdict
counts: a duplicate, a late or an out-of-order receipt changes nothing. When the verdict is new, the delivery it
belongs to goes back on the alert queue and the router resumes from the log: a delivered receipt ends the
delivery, a failure sends the next channel at once (or, with none left, reports the recipient unreachable).
A deadline the router scheduled settles an attempt no receipt has settled in time as undelivered.

Logs name the provider's message id and the receipt's kind, never a destination or message text.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from clarion import names
from clarion.adapters import delivery_log
from clarion.domain import receipts
from clarion.domain.receipts import Receipt
from clarion.services import receipts as settle
from clarion.shared import clients
from clarion.shared.batches import each_record
from clarion.shared.observability import logger, metrics, tracer

UNMATCHED_RETRIES = 3  # a receipt can overtake the write of its attempt: look again, a few seconds later
RETRY_AFTER_S = 3


class NotYetKnownError(Exception):
    """A receipt for a message id the log does not hold (yet): it comes back in a few seconds."""


def on_receipt(receipt: Receipt, receive_count: int) -> None:
    log = {"channel": receipt.channel.value, "provider_message_id": receipt.provider_id, "receipt": receipt.kind}
    outcome = receipt.outcome
    if outcome is None:
        logger.debug("Receipt is no verdict (progress or ignored)", extra=log)
        return
    sent = delivery_log.find_sent(receipt.channel, receipt.provider_id)
    if sent is None:
        if receipt.kind != receipts.NO_RECEIPT and receive_count < UNMATCHED_RETRIES:
            raise NotYetKnownError(receipt.provider_id)
        metrics.add_metric(name=names.METRIC_RECEIPTS_UNMATCHED, unit=MetricUnit.Count, value=1)
        logger.warning("Receipt for no attempt Clarion knows; nothing changed", extra=log)
        return
    settle.apply(sent, receipt, receive_count)


def _retry_soon(record: dict[str, Any]) -> None:
    _, _, _, region, account, name = record["eventSourceARN"].split(":", 5)
    try:
        clients.client("sqs").change_message_visibility(
            QueueUrl=f"https://sqs.{region}.amazonaws.com/{account}/{name}",
            ReceiptHandle=record["receiptHandle"],
            VisibilityTimeout=RETRY_AFTER_S,
        )
    except (ClientError, BotoCoreError) as error:
        logger.warning("Could not shorten the visibility timeout", extra={"error_type": type(error).__name__})


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
    try:
        on_receipt(receipt, int(record.get("attributes", {}).get("ApproximateReceiveCount", "1")))
    except NotYetKnownError:
        logger.info(
            "Receipt for a message id not logged yet; it comes back", extra={"provider_message_id": receipt.provider_id}
        )
        _retry_soon(record)
        raise


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    """Each receipt on its own; a failed one goes back to the queue (ReportBatchItemFailures)."""
    return each_record(
        event["Records"], record_handler, "Receipt not handled; it comes back", quiet=(NotYetKnownError,)
    )
