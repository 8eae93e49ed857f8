"""The alert queue: intake puts each accepted alert on it, the router takes it off."""

from __future__ import annotations

import json
from typing import Any

from clarion.domain.models import Alert
from clarion.names import ENV_ALERT_QUEUE_URL
from clarion.shared import clients
from clarion.shared.settings import required, settings


def enqueue(alert: Alert) -> None:
    clients.client("sqs").send_message(
        QueueUrl=required(settings().alert_queue_url, ENV_ALERT_QUEUE_URL),
        MessageBody=json.dumps(alert.to_message()),
    )


def enqueue_body(body: dict[str, Any]) -> None:
    """A message that is no delivery (a request to send `taken` notices) on the alert queue."""
    clients.client("sqs").send_message(
        QueueUrl=required(settings().alert_queue_url, ENV_ALERT_QUEUE_URL), MessageBody=json.dumps(body)
    )


def enqueue_many(alerts: list[Alert]) -> None:
    """One message per alert (a stage's deliveries: at most 10 contacts, one batch call)."""
    url = required(settings().alert_queue_url, ENV_ALERT_QUEUE_URL)
    for start in range(0, len(alerts), 10):
        batch = alerts[start : start + 10]
        response = clients.client("sqs").send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": json.dumps(a.to_message())} for i, a in enumerate(batch)],
        )
        if response.get("Failed"):
            raise RuntimeError(f"{len(response['Failed'])} of a stage's deliveries were not queued")
