"""The contacts table: one item per clinician, keyed by `contact_id`.

Item: contact_id, name, phone_call?, phone_sms?, email?, channels = {"H": [...], "M": [...], "L": [...]},
escalation_policy_id?, updated_at. GSI "by-policy" (sparse, on escalation_policy_id): who a policy covers for.
"""

from __future__ import annotations

from typing import Any

from clarion.adapters import audit
from clarion.domain.models import Channel, Contact, Priority
from clarion.names import ENV_CONTACTS_TABLE
from clarion.shared import clients
from clarion.shared.settings import required, settings


def _name() -> str:
    return required(settings().contacts_table, ENV_CONTACTS_TABLE)


def _table() -> Any:
    return clients.dynamodb_table(_name())


def to_item(contact: Contact) -> dict[str, Any]:
    item: dict[str, Any] = {
        "contact_id": contact.contact_id,
        "name": contact.name,
        "channels": {p.value: [c.value for c in chain] for p, chain in contact.channels.items()},
    }
    for attr in ("phone_call", "phone_sms", "email", "escalation_policy_id"):
        value = getattr(contact, attr)
        if value:
            item[attr] = value
    return item


def from_item(item: dict[str, Any]) -> Contact:
    return Contact(
        contact_id=item["contact_id"],
        name=item.get("name", ""),
        phone_call=item.get("phone_call"),
        phone_sms=item.get("phone_sms"),
        email=item.get("email"),
        escalation_policy_id=item.get("escalation_policy_id"),
        channels={Priority(p): tuple(Channel(c) for c in chain) for p, chain in item.get("channels", {}).items()},
    )


def get_contact(contact_id: str) -> Contact | None:
    item = _table().get_item(Key={"contact_id": contact_id}, ConsistentRead=True).get("Item")
    return from_item(item) if item else None


def put_contact(contact: Contact, updated_at: str) -> None:
    _table().put_item(Item={**to_item(contact), "updated_at": updated_at})


def delete_contact(contact_id: str) -> bool:
    """Delete the contact. Returns False when there was none."""
    resp = _table().delete_item(Key={"contact_id": contact_id}, ReturnValues="ALL_OLD")
    return "Attributes" in resp


def put_audited(contact: Contact, updated_at: str, entry: audit.Entry) -> None:
    """Write the contact and its audit entry together."""
    audit.write(entry, _name(), {"Put": {"Item": {**to_item(contact), "updated_at": updated_at}}})


def delete_audited(contact_id: str, entry: audit.Entry) -> bool:
    """Delete the contact and record it together. False when there was none (and nothing is recorded)."""
    condition = {"Key": {"contact_id": contact_id}, "ConditionExpression": "attribute_exists(contact_id)"}
    return audit.write(entry, _name(), {"Delete": condition})


BY_POLICY_INDEX = "by-policy"


def covered_by(policy_id: str) -> list[str]:
    """The contacts whose `escalation_policy_id` is `policy_id`."""
    from boto3.dynamodb.conditions import Key

    found: list[str] = []
    kwargs: dict[str, Any] = {
        "IndexName": BY_POLICY_INDEX,
        "KeyConditionExpression": Key("escalation_policy_id").eq(policy_id),
        "ProjectionExpression": "contact_id",
    }
    while True:
        page = _table().query(**kwargs)
        found.extend(str(i["contact_id"]) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return sorted(found)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
