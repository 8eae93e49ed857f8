"""The schedules table: one partition per on-call schedule, keyed by `schedule_id`, with these items (`sk`):

  "schedule"            name, time_zone, layers, fallback_contact_ids (`Schedule.to_json()`), updated_at
  "overrides"           version: taken (incremented) by every new override, so two written at once cannot overlap
  "override#<id>"       override_id, start, end (Clarion's UTC stamps, which sort as text), contact_ids, created_at

Every change is written with its audit entry (subject "schedule#<id>") in one transaction. Deleting a schedule
deletes its definition with its audit entry, then sweeps the rest of the partition (`purge`); a sweep cut short is
finished by the next delete or by a schedule made anew under the same id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from clarion.adapters import audit
from clarion.domain.schedules import Override, Schedule, parse_schedule
from clarion.names import ENV_SCHEDULES_TABLE
from clarion.shared import clients, clock
from clarion.shared.settings import required, settings

SCHEDULE = "schedule"
LOCK = "overrides"
OVERRIDE = "override#"


@dataclass(frozen=True)
class StoredOverride:
    override_id: str
    override: Override
    created_at: str

    def to_item(self) -> dict[str, Any]:
        return {
            "override_id": self.override_id,
            "start": clock.stamp(self.override.start),
            "end": clock.stamp(self.override.end),
            "contact_ids": list(self.override.contact_ids),
            "created_at": self.created_at,
        }


def _name() -> str:
    return required(settings().schedules_table, ENV_SCHEDULES_TABLE)


def _table() -> Any:
    return clients.dynamodb_table(_name())


def _plain(value: Any) -> Any:
    """DynamoDB's Decimals back to ints, as the schedule's JSON form has them."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return int(value) if isinstance(value, Decimal) else value


def _override(item: dict[str, Any]) -> StoredOverride:
    window = Override(clock.parse(item["start"]), clock.parse(item["end"]), tuple(item["contact_ids"]))
    return StoredOverride(str(item["override_id"]), window, str(item.get("created_at", "")))


def get_schedule(schedule_id: str) -> Schedule | None:
    item = _table().get_item(Key={"schedule_id": schedule_id, "sk": SCHEDULE}, ConsistentRead=True).get("Item")
    if item is None:
        return None
    return parse_schedule({k: _plain(v) for k, v in item.items() if k in Schedule.__dataclass_fields__})


def put_audited(schedule_id: str, schedule: Schedule, updated_at: str, entry: audit.Entry) -> None:
    item = {"schedule_id": schedule_id, "sk": SCHEDULE, **schedule.to_json(), "updated_at": updated_at}
    audit.write(entry, _name(), {"Put": {"Item": item}})


def delete_audited(schedule_id: str, entry: audit.Entry) -> bool:
    """Delete the definition and record it together. False when there was none (and nothing is recorded)."""
    condition = {
        "Key": {"schedule_id": schedule_id, "sk": SCHEDULE},
        "ConditionExpression": "attribute_exists(sk)",
    }
    return audit.write(entry, _name(), {"Delete": condition})


def purge(schedule_id: str) -> int:
    """Delete every item left in the schedule's partition but its definition; how many."""
    removed = 0
    request: dict[str, Any] = {
        "KeyConditionExpression": Key("schedule_id").eq(schedule_id),
        "ProjectionExpression": "schedule_id, sk",
        "ConsistentRead": True,
    }
    while True:
        page = _table().query(**request)
        for key in page.get("Items", []):
            if key["sk"] != SCHEDULE:
                _table().delete_item(Key=key)
                removed += 1
        if "LastEvaluatedKey" not in page:
            return removed
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def overrides(schedule_id: str, ending_after: datetime | None = None) -> list[StoredOverride]:
    """The schedule's overrides (those ending after `ending_after`, when given), by start."""
    request: dict[str, Any] = {
        "KeyConditionExpression": Key("schedule_id").eq(schedule_id) & Key("sk").begins_with(OVERRIDE),
        "ConsistentRead": True,
    }
    if ending_after is not None:
        request["FilterExpression"] = Attr("end").gt(clock.stamp(ending_after))
    found: list[StoredOverride] = []
    while True:
        page = _table().query(**request)
        found.extend(_override(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return sorted(found, key=lambda o: (o.override.start, o.override_id))
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def get_override(schedule_id: str, override_id: str) -> StoredOverride | None:
    key = {"schedule_id": schedule_id, "sk": OVERRIDE + override_id}
    item = _table().get_item(Key=key, ConsistentRead=True).get("Item")
    return _override(item) if item else None


def lock_version(schedule_id: str) -> int:
    """The version of the schedule's overrides: 0 before the first."""
    item = _table().get_item(Key={"schedule_id": schedule_id, "sk": LOCK}, ConsistentRead=True).get("Item")
    return int(item["version"]) if item else 0


def add_override_audited(schedule_id: str, stored: StoredOverride, version: int, entry: audit.Entry) -> bool:
    """Write the override if the schedule exists and no other was added since `version` was read, with its audit
    entry. False when either condition failed (nothing is written then)."""
    name = _name()
    check = {
        "ConditionCheck": {
            "Key": {"schedule_id": schedule_id, "sk": SCHEDULE},
            "ConditionExpression": "attribute_exists(sk)",
        }
    }
    lock = {
        "Update": {
            "Key": {"schedule_id": schedule_id, "sk": LOCK},
            "UpdateExpression": "SET version = :next",
            "ConditionExpression": "version = :seen" if version else "attribute_not_exists(sk)",
            "ExpressionAttributeValues": {":next": version + 1, **({":seen": version} if version else {})},
        }
    }
    item = {"schedule_id": schedule_id, "sk": OVERRIDE + stored.override_id, **stored.to_item()}
    put = {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(sk)"}}
    return audit.write(entry, name, check, lock, put)


def end_override_audited(schedule_id: str, override_id: str, at: datetime, entry: audit.Entry) -> bool:
    """End a running override at `at`. False when it is gone, not started or already ended by then."""
    when = clock.stamp(at)
    change = {
        "Update": {
            "Key": {"schedule_id": schedule_id, "sk": OVERRIDE + override_id},
            "UpdateExpression": "SET #end = :at",
            "ConditionExpression": "attribute_exists(sk) AND #start < :at AND #end > :at",
            "ExpressionAttributeNames": {"#start": "start", "#end": "end"},
            "ExpressionAttributeValues": {":at": when},
        }
    }
    return audit.write(entry, _name(), change)


def remove_override_audited(schedule_id: str, override_id: str, at: datetime, entry: audit.Entry) -> bool:
    """Delete an override that starts at `at` or later. False when it is gone or has started."""
    change = {
        "Delete": {
            "Key": {"schedule_id": schedule_id, "sk": OVERRIDE + override_id},
            "ConditionExpression": "attribute_exists(sk) AND #start >= :at",
            "ExpressionAttributeNames": {"#start": "start"},
            "ExpressionAttributeValues": {":at": clock.stamp(at)},
        }
    }
    return audit.write(entry, _name(), change)
