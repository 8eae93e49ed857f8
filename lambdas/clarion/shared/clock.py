"""Clarion's one clock and its one time format.

Every time Clarion stores or answers is UTC to the millisecond with a `Z`: `2026-12-07T17:43:16.123Z` (RFC 3339,
typed `date-time` in the OpenAPI document). `parse` also reads the older `+00:00` form and naive times (taken as
UTC), so records written before this format was the only one still read. Tests replace `time` to control the clock.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable
from datetime import UTC, datetime

time: Callable[[], float] = _time.time  # epoch seconds; replaceable in tests


def now() -> datetime:
    return datetime.fromtimestamp(time(), UTC)


def stamp(moment: datetime | float | None = None) -> str:
    """`moment` (a datetime, or epoch seconds; default now) in Clarion's format."""
    if moment is None:
        moment = now()
    elif not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse(text: str) -> datetime:
    """A stored or reported time, as an aware UTC datetime (`ValueError` when it is none)."""
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def epoch(text: str) -> float:
    return parse(text).timestamp()


def seconds_between(start: str, end: str | datetime) -> float:
    """How long from `start` to `end`, never below zero."""
    finish = end if isinstance(end, datetime) else parse(end)
    return max(0.0, (finish - parse(start)).total_seconds())
