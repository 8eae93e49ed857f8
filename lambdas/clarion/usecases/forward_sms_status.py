"""Forward SNS's SMS delivery status as receipts, where SMS stays one-way on SNS (no `sms_origination`).

SNS reports what became of each SMS in two CloudWatch Logs groups of the account; a subscription filter hands their
lines to Clarion. Each line is reduced to its message id, status and time (`clarion.domain.receipts.sns_sms_body`):
the destination number, the carrier and the price stay behind, in the account's log group. The receipts function
then settles the attempt as it settles every other receipt. A batch that cannot be queued raises `NotQueuedError`:
CloudWatch Logs invokes asynchronously, so Lambda tries twice more, then keeps the event on the function's
dead-letter queue. Logs name message ids only.
"""

from __future__ import annotations

from clarion.adapters import receipts as receipts_queue
from clarion.domain import receipts
from clarion.shared.observability import logger


class NotQueuedError(Exception):
    """Some receipts could not be put on the receipts queue; the invocation is retried."""


def forward(lines: list[str], queue_url: str | None = None) -> int:
    """Put the receipt of each readable line on the receipts queue; how many were queued."""
    bodies = [b for b in (receipts.sns_sms_body(line) for line in lines) if b is not None]
    if len(bodies) < len(lines):
        logger.warning("SMS status lines not read as receipts", extra={"unreadable": len(lines) - len(bodies)})
    failed = receipts_queue.put_many(bodies, queue_url)
    if failed:
        ids = [bodies[i][receipts.SNS_SMS_KEY]["messageId"] for i in failed]
        logger.error("SMS status not queued; the invocation is retried", extra={"provider_message_ids": ids})
        raise NotQueuedError(f"{len(failed)} receipts not queued")
    for body in bodies:
        spec = body[receipts.SNS_SMS_KEY]
        log = {"provider_message_id": spec["messageId"], "receipt": spec["status"]}
        logger.info("SMS status queued as a receipt", extra=log)
    return len(bodies)
