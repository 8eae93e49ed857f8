"""Manage the on-call schedules (scope `admin`): create or replace, read, delete, and read who changed one.

A schedule's definition is read by `clarion.domain.schedules.parse_schedule`; every contact it names (a layer's
participants, the fallback contacts) must exist. Every change is written together with its audit entry in one
transaction; the history holds the changes to the schedule's overrides too (`clarion.usecases.manage_overrides`).
No escalation policy can name a schedule yet, so none is ever in use.
"""

from __future__ import annotations

from typing import Any

from clarion.adapters import audit, contacts, schedules
from clarion.domain.errors import NotFound, UnknownContact
from clarion.domain.schedules import Schedule
from clarion.shared import clock
from clarion.shared.observability import logger


def not_found(schedule_id: str) -> NotFound:
    return NotFound(f"There is no schedule '{schedule_id}'.", field="schedule_id")


def subject(schedule_id: str) -> str:
    return f"schedule#{schedule_id}"


def check_contacts(named: list[tuple[str, tuple[str, ...]]]) -> None:
    """UnknownContact naming the field of the first contact that does not exist; `named` is (field, contact ids)."""
    known: dict[str, bool] = {}
    for field, contact_ids in named:
        for contact_id in contact_ids:
            if contact_id not in known:
                known[contact_id] = contacts.get_contact(contact_id) is not None
            if not known[contact_id]:
                raise UnknownContact(f"There is no contact '{contact_id}'.", field=field)


def put(schedule_id: str, schedule: Schedule, by: str) -> bool:
    """Store `schedule` for the client `by`; True when it is new."""
    named = [(f"layers[{i}].participants", layer.participants) for i, layer in enumerate(schedule.layers)]
    check_contacts([*named, ("fallback_contact_ids", schedule.fallback_contact_ids)])
    previous = schedules.get_schedule(schedule_id)
    if previous is None:
        schedules.purge(schedule_id)  # what a delete cut short left of an earlier schedule of this id
    now = clock.stamp()
    entry = audit.Entry(subject(schedule_id), by, now, previous.to_json() if previous else None, schedule.to_json())
    schedules.put_audited(schedule_id, schedule, now, entry)
    logger.info("schedule stored", extra={"schedule_id": schedule_id, "new_schedule": previous is None})
    return previous is None


def get(schedule_id: str) -> Schedule:
    schedule = schedules.get_schedule(schedule_id)
    if schedule is None:
        raise not_found(schedule_id)
    return schedule


def delete(schedule_id: str, by: str) -> None:
    """Delete the schedule and its overrides for the client `by` (their history is kept)."""
    previous = schedules.get_schedule(schedule_id)
    entry = audit.Entry(subject(schedule_id), by, clock.stamp(), previous.to_json() if previous else None, None)
    if previous is None or not schedules.delete_audited(schedule_id, entry):
        raise not_found(schedule_id)
    swept = schedules.purge(schedule_id)
    logger.info("schedule deleted", extra={"schedule_id": schedule_id, "items_swept": swept})


def history(schedule_id: str) -> list[dict[str, Any]]:
    """Every change to the schedule and its overrides, oldest first (kept after it is deleted)."""
    entries = audit.history(subject(schedule_id))
    if not entries:
        raise not_found(schedule_id)
    return entries
