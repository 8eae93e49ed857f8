"""The receipts queue: providers' delivery receipts arrive on it (through the receipts topic and EventBridge), and
the router puts on it, delayed, the deadline of each receipt it awaits.

A deadline is durable from the moment `await_receipt` returns, like a timer: if no receipt has settled the attempt
when the deadline arrives, the receipts function counts it undelivered and the next channel starts.
"""

from __future__ import annotations

import json

from clarion.domain import receipts
from clarion.domain.models import Attempt
from clarion.names import ENV_RECEIPTS_QUEUE_URL
from clarion.shared import clients, clock
from clarion.shared.settings import required, settings

MAX_DELAY_S = 900  # SQS's limit for DelaySeconds; receipt timeouts are at most this (the stack checks)


def await_receipt(attempt: Attempt, timeout_s: int, now: float | None = None) -> None:
    """Schedule the deadline of `attempt`'s receipt: `timeout_s` after it was sent."""
    assert attempt.provider_message_id
    sent = clock.epoch(attempt.at)
    left = sent + timeout_s - (clock.time() if now is None else now)
    clients.client("sqs").send_message(
        QueueUrl=required(settings().receipts_queue_url, ENV_RECEIPTS_QUEUE_URL),
        MessageBody=json.dumps(receipts.deadline_body(attempt.channel, attempt.provider_message_id, timeout_s)),
        DelaySeconds=max(0, min(MAX_DELAY_S, round(left))),
    )


SQS_BATCH = 10


def put_many(bodies: list[dict[str, object]], queue_url: str | None = None) -> list[int]:
    """Put each receipt body on the receipts queue, ten to a call; the indexes of those SQS did not take."""
    url = queue_url or required(settings().receipts_queue_url, ENV_RECEIPTS_QUEUE_URL)
    failed: list[int] = []
    for start in range(0, len(bodies), SQS_BATCH):
        chunk = bodies[start : start + SQS_BATCH]
        entries = [{"Id": str(i), "MessageBody": json.dumps(body)} for i, body in enumerate(chunk)]
        answer = clients.client("sqs").send_message_batch(QueueUrl=url, Entries=entries)
        failed.extend(start + int(f["Id"]) for f in answer.get("Failed", []))
        if failed:
            return failed
    return failed
