"""The audit table: every change to a contact, an escalation policy or an on-call schedule (its overrides too), with
who made it and what it replaced.

  subject = "contact#<id>" | "policy#<id>" | "schedule#<id>"
  sk = "<epoch ns, 20 digits>#<8 hex>" (so entries sort by time)
  at, client_id (the admin token's client), action (created | replaced | deleted), before, after (the item's fields)

A change and its entry are written in one transaction, so no change is ever unrecorded. Entries never expire and
never reach the application log: they hold destinations.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from clarion.names import ENV_AUDIT_TABLE
from clarion.shared import clients
from clarion.shared.settings import required, settings

_SERIALIZER = TypeSerializer()


@dataclass(frozen=True)
class Entry:
    subject: str  # "contact#C-1"
    client_id: str
    at: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def action(self) -> str:
        return "deleted" if self.after is None else "created" if self.before is None else "replaced"


def _name() -> str:
    return required(settings().audit_table, ENV_AUDIT_TABLE)


def _wire(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _SERIALIZER.serialize(v) for k, v in item.items() if v is not None}


def write(entry: Entry, table: str, *changes: dict[str, Any]) -> bool:
    """Make `changes` (TransactWriteItems Put, Update, Delete or ConditionCheck requests on `table`, in resource form)
    and record `entry`, together. False when a change's own condition failed (nothing is written then)."""
    items = [{kind: _wire_request(table, request)} for change in changes for kind, request in change.items()]
    record = {
        "subject": entry.subject,
        "sk": f"{time.time_ns():020d}#{secrets.token_hex(4)}",
        "at": entry.at,
        "client_id": entry.client_id,
        "action": entry.action,
        "before": entry.before,
        "after": entry.after,
    }
    try:
        clients.client("dynamodb").transact_write_items(
            TransactItems=[*items, {"Put": {"TableName": _name(), "Item": _wire(record)}}]
        )
    except ClientError as error:
        reasons = error.response.get("CancellationReasons") or []
        if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
            return False
        raise
    return True


def _wire_request(table: str, request: dict[str, Any]) -> dict[str, Any]:
    wire = {"TableName": table, **{k: _wire(v) if k in ("Item", "Key") else v for k, v in request.items()}}
    if "ExpressionAttributeValues" in request:
        wire["ExpressionAttributeValues"] = _wire(request["ExpressionAttributeValues"])
    return wire


def history(subject: str) -> list[dict[str, Any]]:
    """Every entry for `subject`, oldest first."""
    table = clients.dynamodb_table(_name())
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"KeyConditionExpression": Key("subject").eq(subject), "ConsistentRead": True}
    while True:
        page = table.query(**request)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
