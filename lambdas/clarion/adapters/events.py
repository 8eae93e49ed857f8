"""Alert events: every status change of an alert, published to the alert-events SNS topic.

The event carries identifiers, status and routing facts only: no patient reference, no description text.
MessageAttributes `status`, `client_id` and `priority` let subscribers filter.
"""

from __future__ import annotations

import json

from clarion.domain.models import Alert, AlertStatus, Channel
from clarion.names import ENV_EVENTS_TOPIC_ARN
from clarion.shared import clients
from clarion.shared.settings import required, settings

UNROUTABLE = "unroutable"  # published next to `failed` when every channel of the plan failed


def event_body(
    alert: Alert, status: AlertStatus | str, at: str, *, channel: Channel | None = None, attempts: int = 0
) -> dict[str, object]:
    body: dict[str, object] = {
        "message_id": alert.message_id,
        "client_id": alert.client_id,
        "status": str(status),
        "priority": alert.priority.value,
        "type": alert.type,
        "attempts": attempts,
        "at": at,
    }
    if channel is not None:
        body["channel"] = channel.value
    return body


def publish_status(
    alert: Alert, status: AlertStatus | str, at: str, *, channel: Channel | None = None, attempts: int = 0
) -> None:
    """Publish that `alert` reached `status` (an `AlertStatus`, or `UNROUTABLE`) at `at` (ISO 8601)."""
    body = event_body(alert, status, at, channel=channel, attempts=attempts)
    clients.client("sns").publish(
        TopicArn=required(settings().events_topic_arn, ENV_EVENTS_TOPIC_ARN),
        Message=json.dumps(body),
        MessageAttributes={
            "status": {"DataType": "String", "StringValue": str(status)},
            "client_id": {"DataType": "String", "StringValue": alert.client_id},
            "priority": {"DataType": "String", "StringValue": alert.priority.value},
        },
    )


# Events of an alert's walk (closed loop), published beside the status events.
ESCALATED = "escalated"
ACKNOWLEDGED = "acknowledged"
DECLINED = "declined"
UNACKNOWLEDGED = "unacknowledged"


def publish_walk(
    client_id: str, message_id: str, priority: str, alert_type: str, event: str, at: str, **facts: object
) -> None:
    """Publish a walk event (`ESCALATED`, `ACKNOWLEDGED`, `DECLINED`, `UNACKNOWLEDGED`) with its facts: stage and
    contact ids, who and via what, time to acknowledge. Never a description, a reason text or a destination."""
    body: dict[str, object] = {
        "message_id": message_id,
        "client_id": client_id,
        "status": event,
        "priority": priority,
        "type": alert_type,
        "at": at,
        **facts,
    }
    clients.client("sns").publish(
        TopicArn=required(settings().events_topic_arn, ENV_EVENTS_TOPIC_ARN),
        Message=json.dumps(body),
        MessageAttributes={
            "status": {"DataType": "String", "StringValue": event},
            "client_id": {"DataType": "String", "StringValue": client_id},
            "priority": {"DataType": "String", "StringValue": priority},
        },
    )
