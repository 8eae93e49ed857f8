"""The alert queue: intake puts each accepted alert on it, the router takes it off."""

from __future__ import annotations

import json

from clarion.domain.models import Alert
from clarion.names import ENV_ALERT_QUEUE_URL
from clarion.shared import clients
from clarion.shared.settings import required, settings


def enqueue(alert: Alert) -> None:
    clients.client("sqs").send_message(
        QueueUrl=required(settings().alert_queue_url, ENV_ALERT_QUEUE_URL),
        MessageBody=json.dumps(alert.to_message()),
    )
