"""On-call rotations: who one layer of a schedule gives at an instant, on wall-clock time. Pure logic, no I/O.

A layer's handoffs are wall-clock times in the schedule's zone: `handoff_at + k * shift` for every whole k, forward
and backward (naive datetime arithmetic is wall-clock arithmetic, so a 12-hour rotation handing off at 07:00 and
19:00 keeps those times across a DST change and one shift that night is 11 or 13 real hours). Participant `k mod n`
holds the shift from the k-th handoff to the next. Nothing is stored: the answer follows from the definition and
the instant alone.

A wall time becomes an instant by `instant`:
- a time the clock skips (the spring-forward gap) happens at the END of the gap, the first instant the clock reads
  later than it;
- a time the clock shows twice (the fall-back hour) happens at its FIRST occurrence.
Two handoffs can so land on one instant (an hourly rotation's 02:00 in a one-hour gap): the shift between them is
empty and its participant is skipped that time round.

Every interval is `[start, end)`. A layer with `windows` has someone only inside them: each window runs on each of
its days from `from` to `to` (wall clock, mapped to instants as above; `to` <= `from` runs into the next day), and
the rotation keeps turning outside them.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clarion.domain.errors import ClarionError
from clarion.domain.validation import CONTACT_ID_PATTERN

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
MAX_PARTICIPANTS = 50
MAX_SHIFT_LENGTH = 1000
MAX_WINDOWS = 14
MIN_YEAR, MAX_YEAR = 1970, 2199
_HANDOFF_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")
_CLOCK_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_CONTACT_RE = re.compile(CONTACT_ID_PATTERN)
_ZONE_RE = re.compile(r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$")
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})  # files in the tz folder that name no place


class InvalidSchedule(ClarionError):
    code = "invalid_field"


class MissingScheduleField(ClarionError):
    code = "missing_field"


class UnknownScheduleField(ClarionError):
    code = "unknown_field"


def invalid(field: str, reason: str) -> InvalidSchedule:
    return InvalidSchedule(f"The field '{field}' is invalid: {reason}.", field)


class Unit(StrEnum):
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"


_STEP = {Unit.HOURS: timedelta(hours=1), Unit.DAYS: timedelta(days=1), Unit.WEEKS: timedelta(weeks=1)}


@dataclass(frozen=True)
class Window:
    """Weekly: on each of `days`, from `start` to `end` wall-clock (`end` <= `start`: into the next day)."""

    days: tuple[str, ...]  # DAY_NAMES, as given
    start: time
    end: time

    def to_json(self) -> dict[str, Any]:
        return {"days": list(self.days), "from": self.start.strftime("%H:%M"), "to": self.end.strftime("%H:%M")}


@dataclass(frozen=True)
class Layer:
    participants: tuple[str, ...]
    length: int
    unit: Unit
    handoff_at: datetime  # naive: wall clock in the schedule's zone
    windows: tuple[Window, ...] | None = None  # None: the layer always has someone

    @property
    def step(self) -> timedelta:
        return self.length * _STEP[self.unit]

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "participants": list(self.participants),
            "shift": {"length": self.length, "unit": self.unit.value},
            "handoff_at": self.handoff_at.strftime("%Y-%m-%dT%H:%M"),
        }
        if self.windows is not None:
            body["windows"] = [w.to_json() for w in self.windows]
        return body


# --- wall clock and instants ---------------------------------------------------------------------


@lru_cache(maxsize=8192)
def instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of the naive wall-clock time `wall` in `zone`: in a gap its end, when repeated its first."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)  # fold=0: the earlier of a repeated time
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # In a gap: fold 0 and 1 read it with the offsets before and after; the gap's end lies between. The first
    # whole second at which the clock reads past `wall` (zones change offset on whole seconds).
    lo, hi = sorted((int(first.timestamp()), int(wall.replace(tzinfo=zone, fold=1).timestamp())))
    while lo < hi:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).replace(tzinfo=None) > wall:
            hi = mid
        else:
            lo = mid + 1
    return datetime.fromtimestamp(lo, UTC)


def wall_clock(at: datetime, zone: ZoneInfo) -> datetime:
    """What the clock on the wall in `zone` reads at the aware instant `at` (naive)."""
    return at.astimezone(zone).replace(tzinfo=None)


def handoff_wall(layer: Layer, k: int) -> datetime:
    return layer.handoff_at + k * layer.step


def shift_index(layer: Layer, zone: ZoneInfo, at: datetime) -> int:
    """The k whose shift [instant of handoff k, instant of handoff k+1) holds `at` (never an empty shift)."""
    k = (wall_clock(at, zone) - layer.handoff_at) // layer.step
    while instant(handoff_wall(layer, k), zone) > at:  # a guard: the clock's reading is never past its instant
        k -= 1
    # The second showing of a repeated hour reads earlier than handoffs already made at the first.
    while instant(handoff_wall(layer, k + 1), zone) <= at:
        k += 1
    return k


def participant(layer: Layer, zone: ZoneInfo, at: datetime) -> str:
    """Whose turn it is in the rotation at `at`, windows aside."""
    return layer.participants[shift_index(layer, zone, at) % len(layer.participants)]


def _window_intervals(layer: Layer, zone: ZoneInfo, day: date) -> Iterator[tuple[datetime, datetime]]:
    """The windows that start on `day`, as instants."""
    for window in layer.windows or ():
        if DAY_NAMES[day.weekday()] in window.days:
            end_day = day + timedelta(days=1) if window.end <= window.start else day
            yield (
                instant(datetime.combine(day, window.start), zone),
                instant(datetime.combine(end_day, window.end), zone),
            )


def in_windows(layer: Layer, zone: ZoneInfo, at: datetime) -> bool:
    if layer.windows is None:
        return True
    today = wall_clock(at, zone).date()
    return any(
        start <= at < end
        for day in (today - timedelta(days=1), today, today + timedelta(days=1))
        for start, end in _window_intervals(layer, zone, day)
    )


def on_duty(layer: Layer, zone: ZoneInfo, at: datetime) -> str | None:
    """The participant the layer gives at `at`, or None outside its windows."""
    return participant(layer, zone, at) if in_windows(layer, zone, at) else None


def _handoffs_after(layer: Layer, zone: ZoneInfo, after: datetime) -> Iterator[datetime]:
    k = shift_index(layer, zone, after)
    last = after
    while True:
        k += 1
        at = instant(handoff_wall(layer, k), zone)
        if at > last:
            yield at
            last = at


def _window_edges_after(layer: Layer, zone: ZoneInfo, after: datetime) -> Iterator[datetime]:
    """Every window start and end after `after`, in order. Windows starting on a later day start at or after that
    day's midnight, so each day's edges before the next midnight are final once that day is read."""
    day = wall_clock(after, zone).date() - timedelta(days=1)
    pending: list[datetime] = []
    while True:
        for start, end in _window_intervals(layer, zone, day):
            heapq.heappush(pending, start)
            heapq.heappush(pending, end)
        day += timedelta(days=1)
        midnight = instant(datetime.combine(day, time()), zone)
        while pending and pending[0] < midnight:
            edge = heapq.heappop(pending)
            if edge > after:
                yield edge


def changes_after(layer: Layer, zone: ZoneInfo, after: datetime) -> Iterator[datetime]:
    """The instants after `after` at which what the layer gives can change: handoffs and window edges, in order
    (one may come twice)."""
    if layer.windows is None:
        return _handoffs_after(layer, zone, after)
    return heapq.merge(_handoffs_after(layer, zone, after), _window_edges_after(layer, zone, after))


def handoffs(layer: Layer, zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """The distinct instants in [start, end) at which the rotation hands off (windows aside), in UTC."""
    found = [start] if _is_handoff(layer, zone, start) else []
    for at in _handoffs_after(layer, zone, start):
        if at >= end:
            break
        found.append(at)
    return [at.astimezone(UTC) for at in found]


def _is_handoff(layer: Layer, zone: ZoneInfo, at: datetime) -> bool:
    return instant(handoff_wall(layer, shift_index(layer, zone, at)), zone) == at


# --- reading a layer from JSON -------------------------------------------------------------------


def fields(value: object, field: str | None, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    """`value` as a JSON object with every `required` key and no key outside `required` and `optional`."""
    if not isinstance(value, Mapping):
        if field is None:
            raise InvalidSchedule("The request body must be a JSON object.")
        raise invalid(field, "must be a JSON object")
    for key in value:
        if key not in required and key not in optional:
            name = f"{field}.{key}" if field else str(key)
            raise UnknownScheduleField(f"The field '{name}' is not part of this request.", name)
    for key in required:
        if key not in value:
            name = f"{field}.{key}" if field else key
            raise MissingScheduleField(f"The field '{name}' is required.", name)
    return dict(value)


def listed(value: object, field: str, most: int, least: int = 0) -> list[Any]:
    if not isinstance(value, list):
        raise invalid(field, "must be a list")
    if len(value) < least:
        raise invalid(field, f"must list at least {least}")
    if len(value) > most:
        raise invalid(field, f"must list at most {most}")
    return value


def contact_id(value: object, field: str) -> str:
    if not isinstance(value, str) or not _CONTACT_RE.fullmatch(value):
        raise invalid(field, "must be a contact id (1-64 letters, digits, '.', '_' or '-')")
    return value


def time_zone(value: object, field: str) -> ZoneInfo:
    reason = "must be an IANA time zone name such as Europe/London"
    if not isinstance(value, str) or not _ZONE_RE.fullmatch(value) or value in _NOT_ZONES:
        raise invalid(field, reason)
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise invalid(field, reason) from None


def _clock(value: object, field: str) -> time:
    if not isinstance(value, str) or not _CLOCK_RE.fullmatch(value):
        raise invalid(field, "must be a wall-clock time HH:MM, 00:00 to 23:59")
    return time.fromisoformat(value)


def _window(value: object, field: str) -> Window:
    body = fields(value, field, ("days", "from", "to"))
    days = listed(body["days"], f"{field}.days", len(DAY_NAMES), least=1)
    for i, day in enumerate(days):
        if day not in DAY_NAMES:
            raise invalid(f"{field}.days[{i}]", "must be one of " + ", ".join(DAY_NAMES))
    if len(set(days)) != len(days):
        raise invalid(f"{field}.days", "must not name a day twice")
    return Window(tuple(days), _clock(body["from"], f"{field}.from"), _clock(body["to"], f"{field}.to"))


def _handoff_at(value: object, field: str) -> datetime:
    reason = f"must be a wall-clock date and time YYYY-MM-DDTHH:MM (no offset), years {MIN_YEAR}-{MAX_YEAR}"
    if not isinstance(value, str) or not _HANDOFF_RE.fullmatch(value):
        raise invalid(field, reason)
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(field, reason) from None
    if not MIN_YEAR <= at.year <= MAX_YEAR:
        raise invalid(field, reason)
    return at


def parse_layer(value: object, field: str) -> Layer:
    """A layer from its JSON form; an error names the field at fault, e.g. `layers[1].shift.length`."""
    body = fields(value, field, ("participants", "shift", "handoff_at"), ("windows",))
    people = listed(body["participants"], f"{field}.participants", MAX_PARTICIPANTS, least=1)
    participants = tuple(contact_id(p, f"{field}.participants[{i}]") for i, p in enumerate(people))
    shift = fields(body["shift"], f"{field}.shift", ("length", "unit"))
    length = shift["length"]
    if isinstance(length, bool) or not isinstance(length, int | float) or length != int(length):
        raise invalid(f"{field}.shift.length", "must be a whole number")
    if not 1 <= length <= MAX_SHIFT_LENGTH:
        raise invalid(f"{field}.shift.length", f"must be from 1 to {MAX_SHIFT_LENGTH}")
    if shift["unit"] not in tuple(Unit):
        raise invalid(f"{field}.shift.unit", "must be one of hours, days, weeks")
    windows = None
    if "windows" in body:
        given = listed(body["windows"], f"{field}.windows", MAX_WINDOWS, least=1)
        windows = tuple(_window(w, f"{field}.windows[{i}]") for i, w in enumerate(given))
    handoff_at = _handoff_at(body["handoff_at"], f"{field}.handoff_at")
    return Layer(participants, int(length), Unit(shift["unit"]), handoff_at, windows)
