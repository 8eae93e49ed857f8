"""Who is on call: a schedule's answer at an instant, and over a period. Pure logic, no I/O.

A schedule is a name, an IANA time zone, rotation layers (`clarion.domain.rotations`) and fallback contacts. Given
the overrides and the calendar events (already expanded) that apply to it, the answer at an instant is, in order:
- the contacts of every override whose [start, end) holds the instant (the API refuses overlapping overrides;
  should two hold, both count, in their order);
- else the contacts of every calendar event whose [start, end) holds it: events are the schedule's top layer;
- else the participant of the LAST layer in the list that has someone then (a layer outside its windows has
  nobody and leaves the earlier ones);
- else nobody from the schedule: the fallback contacts apply (`OnCall.fallback`), and with none, nobody is on call.
Nothing is stored about rotation positions: the answer follows from the definition and the instant alone.

`shifts` tiles a period (at most `MAX_PERIOD`) with the answers, consecutive equal ones merged (equal: the same
contacts, fallback or not; where a turn comes from does not split a shift); `on_call(...).until` is the end of the
tile holding the instant, looked for up to `MAX_PERIOD` ahead; `gaps` the tiles in which nobody, not even a fallback,
is on call. Instants in are aware datetimes in any zone; instants out are UTC.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from clarion.domain.errors import ClarionError
from clarion.domain.rotations import (
    Layer,
    changes_after,
    contact_id,
    fields,
    invalid,
    listed,
    on_duty,
    parse_layer,
    time_zone,
)
from clarion.domain.rotations import handoffs as handoffs  # re-exported: one layer's handoff instants
from clarion.domain.validation import MAX_NAME, printable_text

MAX_PERIOD = timedelta(days=31)
MAX_LAYERS = 10
MAX_FALLBACK = 10


class PeriodTooLong(ClarionError):
    code = "period_too_long"


@dataclass(frozen=True)
class Schedule:
    name: str
    time_zone: str
    layers: tuple[Layer, ...]
    fallback_contact_ids: tuple[str, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "time_zone": self.time_zone,
            "layers": [layer.to_json() for layer in self.layers],
            "fallback_contact_ids": list(self.fallback_contact_ids),
        }


@dataclass(frozen=True)
class Override:
    """These contacts instead of whoever the schedule gives, over [start, end) (aware instants)."""

    start: datetime
    end: datetime
    contact_ids: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.contact_ids:
            raise ValueError("an override names at least one contact")
        if _utc(self.end) <= _utc(self.start):
            raise ValueError("an override ends after it starts")


@dataclass(frozen=True)
class Event:
    """One occurrence of a calendar event, already expanded: `contact_ids` on call over [start, end)."""

    start: datetime
    end: datetime
    contact_ids: tuple[str, ...]


class SourceKind(StrEnum):
    LAYER = "layers"
    OVERRIDE = "overrides"
    EVENT = "events"
    FALLBACK = "fallback_contact_ids"


@dataclass(frozen=True)
class Source:
    """Where a contact's turn comes from: `layers[1]`, `overrides[0]`, `events[2]` (positions in the lists given),
    or `fallback_contact_ids`."""

    kind: SourceKind
    index: int | None = None

    def __str__(self) -> str:
        return self.kind.value if self.index is None else f"{self.kind.value}[{self.index}]"


@dataclass(frozen=True)
class OnCall:
    """Who is on call at an instant, and until when that answer holds (UTC)."""

    contact_ids: tuple[str, ...]  # whom to notify: the fallback contacts when `fallback`; empty: nobody
    sources: dict[str, Source]
    until: datetime  # the next instant the answer changes, or `at` + MAX_PERIOD if it holds that long
    fallback: bool  # nobody from overrides, events or layers: the fallback contacts apply

    @property
    def nobody(self) -> bool:
        return not self.contact_ids


@dataclass(frozen=True)
class Shift:
    start: datetime
    end: datetime
    contact_ids: tuple[str, ...]
    fallback: bool = False


# --- reading a schedule from JSON ----------------------------------------------------------------


def parse_schedule(body: object) -> Schedule:
    """A schedule from its JSON form, or InvalidSchedule (or Missing/UnknownScheduleField) naming the field."""
    data = fields(body, None, ("name", "time_zone", "layers"), ("fallback_contact_ids",))
    name = data["name"]
    if not isinstance(name, str) or len(name) > MAX_NAME:
        raise invalid("name", f"must be text of at most {MAX_NAME} characters")
    try:
        printable_text(name)
    except ValueError as exc:
        raise invalid("name", str(exc)) from None
    zone = time_zone(data["time_zone"], "time_zone")
    given = listed(data["layers"], "layers", MAX_LAYERS)
    layers = tuple(parse_layer(layer, f"layers[{i}]") for i, layer in enumerate(given))
    fallback = listed(data.get("fallback_contact_ids", []), "fallback_contact_ids", MAX_FALLBACK)
    contacts = tuple(contact_id(c, f"fallback_contact_ids[{i}]") for i, c in enumerate(fallback))
    if len(set(contacts)) != len(contacts):
        raise invalid("fallback_contact_ids", "must not name a contact twice")
    return Schedule(name, zone.key, layers, contacts)


def overlapping(overrides: Iterable[Override], new: Override) -> Override | None:
    """The first of `overrides` that shares an instant with `new`, or None ([start, end): touching is not sharing)."""
    return next((o for o in overrides if _utc(o.start) < _utc(new.end) and _utc(new.start) < _utc(o.end)), None)


# --- resolution ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    contact_ids: tuple[str, ...]
    sources: dict[str, Source]
    fallback: bool

    @property
    def key(self) -> tuple[tuple[str, ...], bool]:
        return self.contact_ids, self.fallback


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("instants must be aware datetimes")
    return at.astimezone(UTC)


def _gathered(items: Sequence[Override | Event], kind: SourceKind, at: datetime) -> _Answer | None:
    sources: dict[str, Source] = {}
    for i, item in enumerate(items):
        if item.start <= at < item.end:
            for contact in item.contact_ids:
                sources.setdefault(contact, Source(kind, i))
    return _Answer(tuple(sources), sources, False) if sources else None


def _answer(
    schedule: Schedule, zone: ZoneInfo, at: datetime, overrides: Sequence[Override], events: Sequence[Event]
) -> _Answer:
    found = _gathered(overrides, SourceKind.OVERRIDE, at) or _gathered(events, SourceKind.EVENT, at)
    if found is not None:
        return found
    for i in reversed(range(len(schedule.layers))):
        contact = on_duty(schedule.layers[i], zone, at)
        if contact is not None:
            return _Answer((contact,), {contact: Source(SourceKind.LAYER, i)}, False)
    fallback = schedule.fallback_contact_ids
    return _Answer(fallback, dict.fromkeys(fallback, Source(SourceKind.FALLBACK)), bool(fallback))


def _edges_after(items: Sequence[Override | Event], after: datetime) -> list[datetime]:
    return sorted({t for item in items for t in (item.start, item.end) if t > after})


def _tiles(
    schedule: Schedule, start: datetime, end: datetime, overrides: Sequence[Override], events: Sequence[Event]
) -> Iterator[tuple[datetime, datetime, _Answer]]:
    """[start, end) cut where the answer changes, lazily, each tile with its answer."""
    zone = schedule.zone
    changes = heapq.merge(
        _edges_after(overrides, start),
        _edges_after(events, start),
        *(changes_after(layer, zone, start) for layer in schedule.layers),
    )
    tile_start, answer = start, _answer(schedule, zone, start, overrides, events)
    for at in changes:
        if at >= end:
            break
        if at == tile_start:
            continue
        now = _answer(schedule, zone, at, overrides, events)
        if now.key != answer.key:
            yield tile_start, at, answer
            tile_start, answer = at, now
    yield tile_start, end, answer


def _inputs(overrides: Iterable[Override], events: Iterable[Event]) -> tuple[tuple[Override, ...], tuple[Event, ...]]:
    return (
        tuple(Override(_utc(o.start), _utc(o.end), o.contact_ids) for o in overrides),
        tuple(Event(_utc(e.start), _utc(e.end), e.contact_ids) for e in events),
    )


def on_call(
    schedule: Schedule, at: datetime, overrides: Iterable[Override] = (), events: Iterable[Event] = ()
) -> OnCall:
    """Who is on call at the aware instant `at`, where each comes from, and until when."""
    at = _utc(at)
    given_overrides, given_events = _inputs(overrides, events)
    _, until, answer = next(_tiles(schedule, at, at + MAX_PERIOD, given_overrides, given_events))
    return OnCall(answer.contact_ids, answer.sources, until, answer.fallback)


def shifts(
    schedule: Schedule,
    start: datetime,
    end: datetime,
    overrides: Iterable[Override] = (),
    events: Iterable[Event] = (),
) -> list[Shift]:
    """[start, end) tiled by who is on call, no gap, no overlap, consecutive equal answers merged (UTC); an empty or
    reversed period has none; PeriodTooLong (field `end`) past MAX_PERIOD."""
    start, end = _utc(start), _utc(end)
    if end - start > MAX_PERIOD:
        raise PeriodTooLong(f"A period of shifts spans at most {MAX_PERIOD.days} days.", "end")
    if end <= start:
        return []
    given_overrides, given_events = _inputs(overrides, events)
    return [
        Shift(s, e, answer.contact_ids, answer.fallback)
        for s, e, answer in _tiles(schedule, start, end, given_overrides, given_events)
    ]


def gaps(
    schedule: Schedule,
    start: datetime,
    end: datetime,
    overrides: Iterable[Override] = (),
    events: Iterable[Event] = (),
) -> list[tuple[datetime, datetime]]:
    """The intervals within [start, end) in which nobody at all is on call, not even a fallback contact."""
    return [(s.start, s.end) for s in shifts(schedule, start, end, overrides, events) if not s.contact_ids]
