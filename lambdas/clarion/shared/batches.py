"""The SQS batch boundary every queue consumer shares (the event source mappings have ReportBatchItemFailures)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from clarion.shared.observability import logger


def each_record(
    records: Iterable[dict[str, Any]],
    handle: Callable[[dict[str, Any]], None],
    failed: str,
    quiet: tuple[type[Exception], ...] = (),
) -> dict[str, list[dict[str, str]]]:
    """Handle each record on its own; those that raise are reported so SQS delivers only them again. `failed` is
    logged (with the error's type) for each, except for `quiet` errors the handler has logged already."""
    failures = []
    for record in records:
        try:
            handle(record)
        except quiet:
            failures.append({"itemIdentifier": record["messageId"]})
        except Exception as error:  # the batch boundary: the record comes back after the visibility timeout
            logger.error(failed, extra={"error_type": type(error).__name__})
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
