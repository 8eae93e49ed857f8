"""The delivery log table: one alert item and one item per provider attempt.

Layout (key names are fixed by the stack):
  pk = "<client_id>#<message_id>"
  sk = "ALERT"            the alert: status, priority, plan, accepted_at, ...
  sk = "ATTEMPT#0001"     one provider attempt: channel, attempt, outcome, at, provider id, error
GSI "by-contact": contact_id (hash) + at (range), for a contact's history over time.
Every item expires `retention_days` after it is written (TTL attribute `expires_at`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from clarion.domain.models import Alert, AlertStatus, Attempt, Channel, Outcome
from clarion.names import ENV_DELIVERY_TABLE
from clarion.shared import clients
from clarion.shared.settings import required, settings

ALERT_SK = "ALERT"
ATTEMPT_PREFIX = "ATTEMPT#"
BY_CONTACT_INDEX = "by-contact"


@dataclass(frozen=True)
class AlertRecord:
    client_id: str
    message_id: str
    type: str
    contact_id: str
    priority: str
    plan: list[str]
    status: AlertStatus
    accepted_at: str
    updated_at: str
    attempts: list[Attempt]


def _table() -> Any:
    return clients.dynamodb_table(required(settings().delivery_table, ENV_DELIVERY_TABLE))


def _expires_at() -> int:
    return int(time.time()) + settings().delivery_retention_days * 86400


def alert_key(client_id: str, message_id: str) -> str:
    return f"{client_id}#{message_id}"


def create_alert(alert: Alert) -> None:
    """Write the alert as `accepted`. A second write of the same alert changes nothing."""
    item = {
        "pk": alert.key,
        "sk": ALERT_SK,
        "client_id": alert.client_id,
        "message_id": alert.message_id,
        "type": alert.type,
        "contact_id": alert.contact_id,
        "priority": alert.priority.value,
        "plan": [c.value for c in alert.plan],
        "status": AlertStatus.ACCEPTED.value,
        "accepted_at": alert.accepted_at,
        "updated_at": alert.accepted_at,
        "at": alert.accepted_at,
        "expires_at": _expires_at(),
    }
    try:
        _table().put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def set_final_status(alert: Alert, status: AlertStatus, at: str) -> bool:
    """Move the alert to `status` (delivered or failed). False when it had already ended."""
    try:
        _table().update_item(
            Key={"pk": alert.key, "sk": ALERT_SK},
            UpdateExpression="SET #s = :s, updated_at = :at",
            ConditionExpression="attribute_exists(pk) AND NOT #s IN (:delivered, :failed)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":s": status.value,
                ":at": at,
                ":delivered": AlertStatus.DELIVERED.value,
                ":failed": AlertStatus.FAILED.value,
            },
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def record_attempt(alert: Alert, attempt: Attempt) -> None:
    """Write (or overwrite) the item for `attempt.attempt`."""
    item: dict[str, Any] = {
        "pk": alert.key,
        "sk": f"{ATTEMPT_PREFIX}{attempt.attempt:04d}",
        "contact_id": alert.contact_id,
        "channel": attempt.channel.value,
        "attempt": attempt.attempt,
        "outcome": attempt.outcome.value,
        "at": attempt.at,
        "expires_at": _expires_at(),
    }
    if attempt.provider_message_id:
        item["provider_message_id"] = attempt.provider_message_id
    if attempt.error:
        item["error"] = attempt.error
    _table().put_item(Item=item)


def _attempt_from_item(item: dict[str, Any]) -> Attempt:
    return Attempt(
        channel=Channel(item["channel"]),
        attempt=int(item["attempt"]),
        outcome=Outcome(item["outcome"]),
        at=item["at"],
        provider_message_id=item.get("provider_message_id"),
        error=item.get("error"),
    )


def _query_all(key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(key), "ConsistentRead": True}
    while True:
        page = _table().query(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _attempts(items: list[dict[str, Any]]) -> list[Attempt]:
    return sorted((_attempt_from_item(i) for i in items if i["sk"].startswith(ATTEMPT_PREFIX)), key=lambda a: a.attempt)


def _status(stored: AlertStatus, attempts: list[Attempt]) -> AlertStatus:
    """`delivering` is never written: it is an accepted alert with at least one attempt."""
    return AlertStatus.DELIVERING if stored is AlertStatus.ACCEPTED and attempts else stored


def get_alert(client_id: str, message_id: str) -> AlertRecord | None:
    """The alert and all its attempts, or None when this client has no such alert."""
    items = _query_all(alert_key(client_id, message_id))
    head = next((i for i in items if i["sk"] == ALERT_SK), None)
    if head is None:
        return None
    attempts = _attempts(items)
    return AlertRecord(
        client_id=head["client_id"],
        message_id=head["message_id"],
        type=head["type"],
        contact_id=head["contact_id"],
        priority=head["priority"],
        plan=list(head.get("plan", [])),
        status=_status(AlertStatus(head["status"]), attempts),
        accepted_at=head["accepted_at"],
        updated_at=head["updated_at"],
        attempts=attempts,
    )
