"""On-call rotations across DST changes, pinned to the minute: America/Chicago and Europe/London (one hour), and
Australia/Lord_Howe (half an hour). 2026 changes: Chicago Mar 8 02:00->03:00 and Nov 1 02:00->01:00; London Mar 29
01:00->02:00 and Oct 25 02:00->01:00; Lord Howe Oct 4 02:00->02:30 and Apr 5 02:00->01:30."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from clarion.domain.rotations import Layer, Unit, Window, handoffs, in_windows, instant, participant
from clarion.domain.schedules import Schedule, shifts

CHICAGO, LONDON, LORD_HOWE = ZoneInfo("America/Chicago"), ZoneInfo("Europe/London"), ZoneInfo("Australia/Lord_Howe")
HOUR = timedelta(hours=1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def rotation(handoff_at: str, length: int, unit: Unit, people: str = "AB") -> Layer:
    return Layer(tuple(people), length, unit, datetime.fromisoformat(handoff_at))


def tiles(layer: Layer, zone: ZoneInfo, start: str, end: str) -> list[tuple[datetime, datetime, str]]:
    schedule = Schedule("s", zone.key, (layer,))
    return [(s.start, s.end, s.contact_ids[0]) for s in shifts(schedule, utc(start), utc(end))]


# --- one wall time, one instant ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "wall", "expected"),
    [
        (CHICAGO, "2026-03-08T02:30", "2026-03-08T08:00"),  # in the gap: 03:00 CDT, the gap's end
        (CHICAGO, "2026-03-08T02:00", "2026-03-08T08:00"),
        (CHICAGO, "2026-03-08T01:59", "2026-03-08T07:59"),  # 01:59 CST, just before
        (CHICAGO, "2026-11-01T01:30", "2026-11-01T06:30"),  # repeated: 01:30 CDT, the first (not 07:30 CST)
        (CHICAGO, "2026-11-01T02:00", "2026-11-01T08:00"),
        (LONDON, "2026-03-29T01:30", "2026-03-29T01:00"),  # in the gap: 02:00 BST
        (LONDON, "2026-10-25T01:30", "2026-10-25T00:30"),  # repeated: 01:30 BST
        (LORD_HOWE, "2026-10-04T02:15", "2026-10-03T15:30"),  # in the 30-minute gap: 02:30 +11:00
        (LORD_HOWE, "2026-04-05T01:45", "2026-04-04T14:45"),  # repeated half hour: 01:45 +11:00, not +10:30
    ],
)
def test_a_wall_time_lands_at_the_gaps_end_or_the_first_occurrence(zone, wall, expected):
    assert instant(datetime.fromisoformat(wall), zone) == utc(expected)


# --- a handoff in the gap, a handoff in the repeated hour ----------------------------------------


@pytest.mark.parametrize(
    ("zone", "handoff_at", "start", "end", "expected"),
    [
        # Daily at 02:30 in Chicago: on Mar 8 02:30 never shows; the handoff happens at 03:00 CDT.
        (CHICAGO, "2026-03-01T02:30", "2026-03-07", "2026-03-10", ["03-07T08:30", "03-08T08:00", "03-09T07:30"]),
        # Daily at 01:30 in Chicago: on Nov 1 01:30 shows twice; the handoff happens at the first (CDT).
        (CHICAGO, "2026-10-25T01:30", "2026-10-31", "2026-11-03", ["10-31T06:30", "11-01T06:30", "11-02T07:30"]),
        (LONDON, "2026-03-01T01:30", "2026-03-28", "2026-03-31", ["03-28T01:30", "03-29T01:00", "03-30T00:30"]),
        (LONDON, "2026-10-01T01:30", "2026-10-24", "2026-10-27", ["10-24T00:30", "10-25T00:30", "10-26T01:30"]),
        (LORD_HOWE, "2026-09-01T02:15", "2026-10-02", "2026-10-05", ["10-02T15:45", "10-03T15:30", "10-04T15:15"]),
        (LORD_HOWE, "2026-03-01T01:45", "2026-04-03", "2026-04-06", ["04-03T14:45", "04-04T14:45", "04-05T15:15"]),
    ],
)
def test_daily_handoffs_in_the_gap_and_in_the_repeated_hour(zone, handoff_at, start, end, expected):
    # Given a daily rotation whose handoff time falls in the DST gap or the repeated hour on the change day
    layer = rotation(handoff_at, 1, Unit.DAYS)
    # When its handoffs over the three days around the change are listed
    found = handoffs(layer, zone, utc(start + "T00:00"), utc(end + "T00:00"))
    # Then the change day's handoff is at the gap's end, or the repeated time's first occurrence
    assert found == [utc("2026-" + e) for e in expected]


def test_the_turn_passes_exactly_at_the_gaps_end():
    layer = rotation("2026-03-01T02:30", 1, Unit.DAYS)  # Mar 1 A, ..., Mar 7 A, Mar 8 B
    assert participant(layer, CHICAGO, utc("2026-03-08T07:59:59")) == "A"  # 01:59:59 CST
    assert participant(layer, CHICAGO, utc("2026-03-08T08:00")) == "B"  # 03:00 CDT


def test_the_turn_passes_at_the_first_of_the_repeated_times_and_holds_through_the_second():
    layer = rotation("2026-10-25T01:30", 1, Unit.DAYS)  # Oct 25 A, ..., Oct 31 A, Nov 1 B
    assert participant(layer, CHICAGO, utc("2026-11-01T06:29")) == "A"  # 01:29 CDT
    assert participant(layer, CHICAGO, utc("2026-11-01T06:30")) == "B"  # 01:30 CDT
    assert participant(layer, CHICAGO, utc("2026-11-01T07:10")) == "B"  # 01:10 CST: reads before 01:30, yet after
    assert participant(layer, CHICAGO, utc("2026-11-01T07:30")) == "B"  # 01:30 CST, the second time: no handoff


# --- 12-hour rotations: 07:00 and 19:00 stay 07:00 and 19:00 -------------------------------------


@pytest.mark.parametrize(
    ("zone", "start", "end", "expected"),
    [
        # Chicago: the night Mar 7-8 has 11 real hours, Oct 31-Nov 1 has 13.
        (CHICAGO, "2026-03-07T13:00", "2026-03-08T12:00", [("03-08T01:00", "03-08T12:00", 11)]),
        (CHICAGO, "2026-10-31T12:00", "2026-11-01T13:00", [("11-01T00:00", "11-01T13:00", 13)]),
        (LONDON, "2026-03-28T07:00", "2026-03-29T06:00", [("03-28T19:00", "03-29T06:00", 11)]),
        (LONDON, "2026-10-24T06:00", "2026-10-25T07:00", [("10-24T18:00", "10-25T07:00", 13)]),
        # Lord Howe: 11.5 and 12.5 real hours.
        (LORD_HOWE, "2026-10-02T20:30", "2026-10-03T20:00", [("10-03T08:30", "10-03T20:00", 11.5)]),
        (LORD_HOWE, "2026-04-03T20:00", "2026-04-04T20:30", [("04-04T08:00", "04-04T20:30", 12.5)]),
    ],
)
def test_a_12_hour_rotation_keeps_its_wall_clock_handoffs_across_the_change(zone, start, end, expected):
    # Given a 12-hour rotation handing off at 07:00 and 19:00 local
    layer = rotation("2026-01-01T07:00", 12, Unit.HOURS)
    # When the day around a DST change is tiled
    found = tiles(layer, zone, start, end)
    # Then the day shift is 12 real hours and the night shift, 19:00 to 07:00 local, stretches or shrinks
    (night_start, night_end, hours) = expected[0]
    assert [(s, e) for s, e, _ in found] == [
        (utc(start), utc("2026-" + night_start)),
        (utc("2026-" + night_start), utc(end)),
    ]
    assert utc(end) == utc("2026-" + night_end)
    assert found[0][1] - found[0][0] == timedelta(hours=12)
    assert found[1][1] - found[1][0] == timedelta(hours=hours)
    assert [t.astimezone(zone).strftime("%H:%M") for t in (found[0][0], found[1][0], found[1][1])] == [
        "07:00",
        "19:00",
        "07:00",
    ]
    # and the people alternate as on any other day
    assert found[0][2] != found[1][2]


# --- hourly rotations stay on the wall-clock hour ------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "handoff_at", "start", "end", "expected"),
    [
        # Chicago spring: 02:00 never shows, so C's hour is empty and skipped; A follows B at 03:00 CDT.
        (CHICAGO, "2026-03-08T00:00", "03-08T06:00", "03-08T10:00", ["06:00 A", "07:00 B", "08:00 A", "09:00 B"]),
        # Chicago autumn: B's 01:00 runs from the first 01:00 (CDT) to 02:00 CST, two real hours.
        (CHICAGO, "2026-11-01T00:00", "11-01T05:00", "11-01T10:00", ["05:00 A", "06:00 B", "08:00 C", "09:00 A"]),
        (LONDON, "2026-03-29T00:00", "03-29T00:00", "03-29T03:00", ["00:00 A", "01:00 C", "02:00 A"]),
        (LONDON, "2026-10-25T00:00", "10-24T23:00", "10-25T04:00", ["23:00 A", "00:00 B", "02:00 C", "03:00 A"]),
        # Lord Howe spring: 02:00 lands at 02:30, so B keeps one real hour and C gets half an hour.
        (LORD_HOWE, "2026-10-04T00:00", "10-03T13:30", "10-03T17:00", ["13:30 A", "14:30 B", "15:30 C", "16:00 A"]),
        # Lord Howe autumn: B's 01:00 lasts until 02:00 +10:30, an hour and a half.
        (LORD_HOWE, "2026-04-05T00:00", "04-04T13:00", "04-04T17:00", ["13:00 A", "14:00 B", "15:30 C", "16:30 A"]),
    ],
)
def test_an_hourly_rotation_stays_on_wall_clock_hours_across_the_change(zone, handoff_at, start, end, expected):
    # Given an hourly rotation of A, B, C starting at midnight local on the day of a change
    layer = rotation(handoff_at, 1, Unit.HOURS, "ABC")
    # When the hours around the change are tiled (times below in UTC)
    found = tiles(layer, zone, "2026-" + start, "2026-" + end)
    # Then each shift starts on a wall-clock hour (or a gap's end), the people in rotation order
    assert [f"{s:%H:%M} {who}" for s, _, who in found] == expected
    assert all(s.astimezone(zone).minute in (0, 30) for s, _, _ in found)


# --- weekly rotations keep their wall time -------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "handoff_at", "at", "next_at", "hours"),
    [
        (CHICAGO, "2026-03-02T08:00", "2026-03-05T12:00", "2026-03-09T13:00", 167),
        (CHICAGO, "2026-10-26T08:00", "2026-10-29T12:00", "2026-11-02T14:00", 169),
        (LONDON, "2026-03-23T09:00", "2026-03-25T12:00", "2026-03-30T08:00", 167),
        (LONDON, "2026-10-19T09:00", "2026-10-21T12:00", "2026-10-26T09:00", 169),
        (LORD_HOWE, "2026-09-28T09:00", "2026-09-30T12:00", "2026-10-04T22:00", 167.5),
        (LORD_HOWE, "2026-03-30T09:00", "2026-04-01T12:00", "2026-04-05T22:30", 168.5),
    ],
)
def test_a_weekly_rotation_keeps_its_wall_time_across_the_change(zone, handoff_at, at, next_at, hours):
    # Given a weekly rotation handing off on Mondays at a local morning time, the week before a change
    layer = rotation(handoff_at, 1, Unit.WEEKS)
    schedule = Schedule("s", zone.key, (layer,))
    # When the week holding the change is tiled
    week = shifts(schedule, utc(at), utc(at) + timedelta(days=7))
    # Then the next handoff is at the same local time a week on, so that shift is 167 or 169 real hours (Lord Howe:
    # 167.5 or 168.5)
    assert week[0].end == utc(next_at)
    assert week[0].end.astimezone(zone).strftime("%a %H:%M") == datetime.fromisoformat(handoff_at).strftime("%a %H:%M")
    assert week[0].end - instant(datetime.fromisoformat(handoff_at), zone) == timedelta(hours=hours)
    assert week[0].contact_ids == ("A",) and week[1].contact_ids == ("B",)


# --- windows across the change -------------------------------------------------------------------


def test_an_overnight_window_follows_the_wall_clock_across_the_change():
    # Given a layer on call only overnight, 20:00 to 08:00 local, every night
    every_day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    window = Window(every_day, datetime.strptime("20:00", "%H:%M").time(), datetime.strptime("08:00", "%H:%M").time())
    layer = Layer(("A",), 1, Unit.WEEKS, datetime(2026, 3, 2, 8), (window,))
    # Then the night of the spring change is 11 real hours: 20:00 CST to 08:00 CDT
    assert not in_windows(layer, CHICAGO, utc("2026-03-08T01:59"))  # Mar 7 19:59 CST
    assert in_windows(layer, CHICAGO, utc("2026-03-08T02:00"))  # Mar 7 20:00 CST
    assert in_windows(layer, CHICAGO, utc("2026-03-08T12:59"))  # Mar 8 07:59 CDT
    assert not in_windows(layer, CHICAGO, utc("2026-03-08T13:00"))  # Mar 8 08:00 CDT
