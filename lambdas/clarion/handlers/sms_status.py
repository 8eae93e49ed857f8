"""SMS status: SNS's SMS delivery-status log lines, forwarded to the receipts queue as receipts.

Where SMS stays one-way on SNS (no `sms_origination`), SNS reports what became of each SMS in two CloudWatch Logs
groups of the account (`sns/<region>/<account>/DirectPublishToPhoneNumber`, and `.../Failure`). A subscription
filter on each invokes this function with a batch of lines (the `awslogs` event: gzip, then base64). Each line is
reduced to its message id, status and time (`clarion.domain.receipts.sns_sms_body`): the destination number, the
carrier and the price stay behind, in the account's log group. The receipts function then settles the attempt as
it settles every other receipt, with the same retries for a receipt that overtakes its attempt.

A batch that cannot be queued raises: CloudWatch Logs invokes asynchronously, so Lambda tries twice more, then
leaves the event on the function's dead-letter queue. Logs name message ids only.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion import names
from clarion.domain import receipts
from clarion.shared import clients
from clarion.shared.observability import logger, tracer

SQS_BATCH = 10


class NotQueuedError(Exception):
    """Some receipts could not be put on the receipts queue; the invocation is retried."""


def log_lines(event: dict[str, Any]) -> list[str]:
    """The log lines in a CloudWatch Logs subscription event (none for a control message or a malformed one)."""
    try:
        data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    except (KeyError, TypeError, ValueError, OSError):
        logger.warning("Not a CloudWatch Logs subscription event; dropped")
        return []
    if not isinstance(data, dict) or data.get("messageType") != "DATA_MESSAGE":
        return []  # CONTROL_MESSAGE: CloudWatch Logs checking that the destination is reachable
    return [str(e.get("message", "")) for e in data.get("logEvents", []) if isinstance(e, dict)]


def forward(lines: list[str], queue_url: str) -> int:
    """Put the receipt of each readable line on the receipts queue; how many were queued."""
    bodies = [b for b in (receipts.sns_sms_body(line) for line in lines) if b is not None]
    if len(bodies) < len(lines):
        logger.warning("SMS status lines not read as receipts", extra={"unreadable": len(lines) - len(bodies)})
    sqs = clients.client("sqs")
    for start in range(0, len(bodies), SQS_BATCH):
        chunk = bodies[start : start + SQS_BATCH]
        entries = [{"Id": str(i), "MessageBody": json.dumps(body)} for i, body in enumerate(chunk)]
        failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed", [])
        if failed:
            ids = [chunk[int(f["Id"])][receipts.SNS_SMS_KEY]["messageId"] for f in failed]
            logger.error("SMS status not queued; the invocation is retried", extra={"provider_message_ids": ids})
            raise NotQueuedError(f"{len(failed)} of {len(chunk)} not queued")
        for body in chunk:
            spec = body[receipts.SNS_SMS_KEY]
            logger.info(
                "SMS status queued as a receipt",
                extra={"provider_message_id": spec["messageId"], "receipt": spec["status"]},
            )
    return len(bodies)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    queued = forward(log_lines(event), os.environ[names.ENV_RECEIPTS_QUEUE_URL])
    return {"queued": queued}
