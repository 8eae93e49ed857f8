"""Manage a schedule's overrides (scope `admin`): these contacts on call instead of whoever the schedule gives, from
`start` to `end`.

An override names only contacts that exist, ends after it starts and after now, spans at most `MAX_OVERRIDE`, and
shares no instant with another override of the schedule (409 naming it). Two added at once cannot both pass that
check: each takes the schedule's overrides' lock in its transaction, and the loser is told to retry (409).
Deleting an override that is running ends it now (it stays on record, as past ones do); one not yet started is
removed; one already over is left as it is. Every change is recorded in the schedule's history.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from clarion.adapters import audit, schedules
from clarion.adapters.schedules import StoredOverride
from clarion.domain.errors import ConcurrentChange, NotFound, OverlappingOverride
from clarion.domain.rotations import MAX_YEAR, MIN_YEAR, invalid
from clarion.domain.schedules import Override, overlapping
from clarion.shared import clock
from clarion.shared.observability import logger
from clarion.usecases.manage_schedules import check_contacts, not_found, subject

MAX_OVERRIDE = timedelta(days=366)
_TRIES = 3


def within_years(at: datetime, field: str) -> datetime:
    """`at` (aware), refused (naming `field`) outside the years a schedule can be read for."""
    if not MIN_YEAR <= at.astimezone(UTC).year <= MAX_YEAR - 1:
        raise invalid(field, f"must fall in the years {MIN_YEAR} to {MAX_YEAR - 1}")
    return at


def add(schedule_id: str, start: datetime, end: datetime, contact_ids: tuple[str, ...], by: str) -> StoredOverride:
    """Store a new override for the client `by`."""
    within_years(start, "start")
    within_years(end, "end")
    if end <= start:
        raise invalid("end", "must be after start")
    if end - start > MAX_OVERRIDE:
        raise invalid("end", f"must be at most {MAX_OVERRIDE.days} days after start")
    now = clock.now()
    if end <= now:
        raise invalid("end", "must be in the future")
    check_contacts([("contact_ids", contact_ids)])
    new = Override(clock.parse(clock.stamp(start)), clock.parse(clock.stamp(end)), contact_ids)  # as stored: to the ms
    stored = StoredOverride(secrets.token_hex(8), new, clock.stamp(now))
    entry = audit.Entry(subject(schedule_id), by, clock.stamp(now), None, stored.to_item())
    for _ in range(_TRIES):
        if schedules.get_schedule(schedule_id) is None:
            raise not_found(schedule_id)
        version = schedules.lock_version(schedule_id)
        others = schedules.overrides(schedule_id, ending_after=new.start)
        clash = overlapping([o.override for o in others], new)
        if clash is not None:
            other = next(o for o in others if o.override is clash)
            raise OverlappingOverride(
                f"The override overlaps override '{other.override_id}' "
                f"({clock.stamp(clash.start)} to {clock.stamp(clash.end)}).",
                field="start",
            )
        if schedules.add_override_audited(schedule_id, stored, version, entry):
            logger.info("override stored", extra={"schedule_id": schedule_id, "override_id": stored.override_id})
            return stored
    raise ConcurrentChange("The schedule's overrides changed while this one was added; retry it.", field="start")


def listing(schedule_id: str, include_past: bool) -> list[StoredOverride]:
    """The schedule's overrides by start: those running or to come, or every one on record."""
    if schedules.get_schedule(schedule_id) is None:
        raise not_found(schedule_id)
    return schedules.overrides(schedule_id, ending_after=None if include_past else clock.now())


def remove(schedule_id: str, override_id: str, by: str) -> None:
    """End a running override now, or remove one not yet started; one already over stays as it was."""
    for _ in range(_TRIES):
        stored = schedules.get_override(schedule_id, override_id)
        if stored is None:
            if schedules.get_schedule(schedule_id) is None:
                raise not_found(schedule_id)
            raise NotFound(f"Schedule '{schedule_id}' has no override '{override_id}'.", field="override_id")
        now = clock.parse(clock.stamp())  # to the ms, as stored
        window = stored.override
        if window.end <= now:
            return
        if window.start < now:
            ended = StoredOverride(override_id, Override(window.start, now, window.contact_ids), stored.created_at)
            entry = audit.Entry(subject(schedule_id), by, clock.stamp(now), stored.to_item(), ended.to_item())
            done = schedules.end_override_audited(schedule_id, override_id, now, entry)
        else:
            entry = audit.Entry(subject(schedule_id), by, clock.stamp(now), stored.to_item(), None)
            done = schedules.remove_override_audited(schedule_id, override_id, now, entry)
        if done:
            logger.info("override ended", extra={"schedule_id": schedule_id, "override_id": override_id})
            return
    raise ConcurrentChange("The override changed while it was being deleted; retry.", field="override_id")
