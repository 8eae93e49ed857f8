"""Who is on call for a schedule (scope `admin`): at an instant, or shift by shift over a period of at most 31 days.

The answer follows from the schedule's definition and its overrides alone (`clarion.domain.schedules`): nothing
about rotations is stored. Only the overrides that end after the instant or the period's start are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from clarion.adapters import schedules
from clarion.domain import schedules as resolver
from clarion.domain.rotations import invalid
from clarion.domain.schedules import MAX_PERIOD, OnCall, Shift, SourceKind
from clarion.shared import clock
from clarion.usecases.manage_overrides import within_years
from clarion.usecases.manage_schedules import get


@dataclass(frozen=True)
class Answer:
    at: datetime
    on_call: OnCall
    sources: dict[str, str]  # contact -> "layers[1]", "overrides/<override_id>" or "fallback_contact_ids"


def at(schedule_id: str, instant: datetime | None) -> Answer:
    """Who is on call at `instant` (default now), where each comes from, and until when."""
    moment = within_years(instant, "at") if instant is not None else clock.now()
    schedule = get(schedule_id)
    stored = schedules.overrides(schedule_id, ending_after=moment)
    answer = resolver.on_call(schedule, moment, [o.override for o in stored])
    sources = {
        contact: f"overrides/{stored[source.index].override_id}"
        if source.kind is SourceKind.OVERRIDE and source.index is not None
        else str(source)
        for contact, source in answer.sources.items()
    }
    return Answer(moment, answer, sources)


def shifts(schedule_id: str, start: datetime, end: datetime) -> list[Shift]:
    """[start, end) tiled by who is on call; the period is refused (naming `to`) when empty or over 31 days."""
    within_years(start, "from")
    within_years(end, "to")
    if end <= start:
        raise invalid("to", "must be after from")
    if end - start > MAX_PERIOD:
        raise invalid("to", f"must be at most {MAX_PERIOD.days} days after from")
    schedule = get(schedule_id)
    overrides = [o.override for o in schedules.overrides(schedule_id, ending_after=start)]
    return resolver.shifts(schedule, start, end, overrides)
