"""The SQS batch boundary every queue consumer shares (the event source mappings have ReportBatchItemFailures), and
what a consumer may ask of the queue a record came from (`QueueMessage`: make it visible again sooner)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from clarion.shared import clients
from clarion.shared.aws_errors import AWS_ERRORS, describe
from clarion.shared.observability import logger


def each_record(
    records: Iterable[dict[str, Any]],
    handle: Callable[[dict[str, Any]], None],
    failed: str,
    quiet: tuple[type[Exception], ...] = (),
) -> dict[str, list[dict[str, str]]]:
    """Handle each record on its own; those that raise are reported so SQS delivers only them again. `failed` is
    logged (with the error's type and code) for each, except for `quiet` errors the handler has logged already."""
    failures = []
    for record in records:
        try:
            handle(record)
        except quiet:
            failures.append({"itemIdentifier": record["messageId"]})
        except Exception as error:  # the batch boundary: the record comes back after the visibility timeout
            logger.error(failed, extra=describe(error))
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def each_record_at_once(
    records: list[dict[str, Any]], handle: Callable[[dict[str, Any]], None], failed: str
) -> dict[str, list[dict[str, str]]]:
    """`each_record`, with every record handled at the same time in its own thread (for handlers that mostly
    wait: on AWS, on a due time). The answer lists the failures in the records' order."""
    if len(records) <= 1:
        return each_record(records, handle, failed)
    with ThreadPoolExecutor(max_workers=len(records)) as pool:
        answers = list(pool.map(lambda record: each_record([record], handle, failed), records))
    return {"batchItemFailures": [f for answer in answers for f in answer["batchItemFailures"]]}


def receive_count(record: dict[str, Any]) -> int:
    """How many times SQS has handed this record to a consumer (1 the first time)."""
    return int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))


@dataclass(frozen=True)
class QueueMessage:
    """Where an SQS record came from, so its consumer can hand it back sooner than the visibility timeout."""

    source_arn: str  # the event source mapping's queue ARN
    receipt_handle: str

    def visible_in(self, seconds: int) -> None:
        """Make the message visible again in `seconds` (0: at once); a failure is logged, not raised: it then comes
        back after the whole visibility timeout."""
        _, _, _, region, account, name = self.source_arn.split(":", 5)
        try:
            clients.client("sqs").change_message_visibility(
                QueueUrl=f"https://sqs.{region}.amazonaws.com/{account}/{name}",
                ReceiptHandle=self.receipt_handle,
                VisibilityTimeout=seconds,
            )
        except AWS_ERRORS as error:
            logger.warning("Could not shorten the visibility timeout", extra={"error_type": type(error).__name__})


def message_of(record: dict[str, Any]) -> QueueMessage:
    return QueueMessage(str(record.get("eventSourceARN", "")), str(record.get("receiptHandle", "")))
