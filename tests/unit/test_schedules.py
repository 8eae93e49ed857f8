"""Who is on call: each layer gives its rotation's participant, the later layer wins, events sit above the layers,
overrides above all, the fallback when nobody; shifts tile a period and agree with on_call. Property-tested, with
the expected rotation index counted independently of the code under test."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.domain.rotations import DAY_NAMES, Layer, Unit, Window, in_windows, participant
from clarion.domain.schedules import Event, Override, Schedule, Source, SourceKind, on_call, shifts

# Each zone's 2026 change days (spring forward, fall back): scenarios are drawn around their small hours.
CHANGES = {
    "America/Chicago": ((3, 8), (11, 1)),
    "Europe/London": ((3, 29), (10, 25)),
    "Australia/Lord_Howe": ((10, 4), (4, 5)),
    "America/St_Johns": ((3, 8), (11, 1)),
}
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
PROPERTY = settings(max_examples=80, deadline=None)


# --- an independent reading of wall time -----------------------------------------------------------


def expected_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The earliest instant at which the clock in `zone` reads `wall`, or, if it never does (a gap), the first
    instant at which it reads later. Found from UTC only: read `wall` with the offsets the zone has a day either
    side, keep the readings that convert back to `wall`, else walk minute by minute to where the clock passes it."""
    offsets = {(wall + timedelta(days=d)).replace(tzinfo=zone).utcoffset() for d in (-1, 1)}
    candidates = sorted(wall.replace(tzinfo=UTC) - offset for offset in offsets if offset is not None)
    exact = [t for t in candidates if t.astimezone(zone).replace(tzinfo=None) == wall]
    if exact:
        return exact[0]
    at = candidates[0]
    while at.astimezone(zone).replace(tzinfo=None) <= wall:
        at += MINUTE
    return at


def expected_index(layer: Layer, zone: ZoneInfo, at: datetime) -> int:
    """Count the shift boundaries (wall-clock handoffs as instants) between the anchor and `at`."""

    def boundary(k: int) -> datetime:
        return expected_instant(layer.handoff_at + k * layer.step, zone)

    if boundary(0) <= at:
        k = 0
        while boundary(k + 1) <= at:
            k += 1
        return k
    k = -1
    while boundary(k) > at:
        k -= 1
    return k


def expected_in_windows(layer: Layer, zone: ZoneInfo, at: datetime) -> bool:
    if layer.windows is None:
        return True
    today = at.astimezone(zone).date()
    for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
        for window in layer.windows:
            if DAY_NAMES[day.weekday()] not in window.days:
                continue
            end_day = day + timedelta(days=1) if window.end <= window.start else day
            start = expected_instant(datetime.combine(day, window.start), zone)
            if start <= at < expected_instant(datetime.combine(end_day, window.end), zone):
                return True
    return False


# --- strategies ----------------------------------------------------------------------------------


@st.composite
def change_nights(draw: st.DrawFn) -> tuple[ZoneInfo, datetime]:
    """A zone and a wall-clock time from 00:00 to 03:45 on one of its change days: before, in or after its gap or
    its repeated hour."""
    key = draw(st.sampled_from(sorted(CHANGES)))
    month, day = draw(st.sampled_from(CHANGES[key]))
    quarters = draw(st.one_of(st.integers(4, 11), st.integers(0, 15)))  # often 01:00-02:45, where the changes are
    return ZoneInfo(key), datetime(2026, month, day) + quarters * timedelta(minutes=15)


grid_times = st.integers(0, 47).map(lambda half_hours: time(half_hours // 2, 30 * (half_hours % 2)))


@st.composite
def layers(draw: st.DrawFn, near: datetime, with_windows: bool = True) -> Layer:
    """A rotation one of whose handoffs (or window edges) falls on the wall time `near`."""
    unit = draw(st.sampled_from(Unit))
    length = draw(st.integers(1, {Unit.HOURS: 25, Unit.DAYS: 3, Unit.WEEKS: 2}[unit]))
    people = tuple(draw(st.lists(st.sampled_from("ABCDE"), min_size=1, max_size=4)))
    anchor = near + draw(st.integers(-6, 6)) * length * {Unit.HOURS: 1, Unit.DAYS: 24, Unit.WEEKS: 168}[unit] * HOUR
    given_windows = None
    if with_windows and draw(st.booleans()):
        clock = st.one_of(st.just(near.time()), grid_times)
        days = st.one_of(
            st.just((DAY_NAMES[near.weekday()],)),
            st.lists(st.sampled_from(DAY_NAMES), min_size=1, max_size=7, unique=True).map(tuple),
        )
        given_windows = tuple(draw(st.lists(st.builds(Window, days, clock, clock), min_size=1, max_size=3)))
    return Layer(people, length, unit, anchor, given_windows)


@st.composite
def instants_around(draw: st.DrawFn, zone: ZoneInfo, near: datetime, reach: timedelta = 2 * DAY) -> datetime:
    """The instant the clock first reads `near` (or passes it, in a gap), a microsecond before it, up to 90 minutes
    after it, up to 45 minutes before its second showing (in a repeated hour), or up to `reach` either side of it."""
    base = expected_instant(near, zone)
    where = draw(st.sampled_from(("on", "before", "later", "second", "around")))
    if where == "second":  # a repeated time's second showing, or up to 45 minutes before it
        return near.replace(tzinfo=zone, fold=1).astimezone(UTC) - draw(st.integers(0, 45)) * MINUTE
    if where == "on":
        return base
    if where == "before":
        return base - timedelta(microseconds=1)
    if where == "later":  # into a repeated hour's second showing, or just past a gap
        return base + draw(st.integers(1, 90)) * MINUTE
    reach_minutes = int(reach / MINUTE)
    return base + draw(st.integers(-reach_minutes, reach_minutes)) * MINUTE


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Schedule, datetime]:
    """A schedule of up to three layers around one of its zone's change nights, and that night's wall time."""
    zone, near = draw(change_nights())
    drawn = tuple(draw(st.lists(layers(near), max_size=3)))
    fallback = draw(st.sampled_from(((), ("F",), ("F", "G"))))
    return Schedule("s", zone.key, drawn, fallback), near


@st.composite
def spans(draw: st.DrawFn, zone: ZoneInfo, near: datetime) -> tuple[datetime, datetime, tuple[str, ...]]:
    start = draw(instants_around(zone, near))
    minutes = draw(st.integers(1, 3 * 24 * 60))
    return (
        start,
        start + minutes * MINUTE,
        tuple(draw(st.lists(st.sampled_from("PQR"), min_size=1, max_size=2, unique=True))),
    )


# --- properties ----------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.data(), change_nights())
def test_each_layer_gives_the_participant_its_rotation_says(data, night):
    # Given a rotation with a handoff on a DST change night, and an instant around it
    zone, near = night
    layer = data.draw(layers(near, with_windows=False))
    at = data.draw(instants_around(zone, near, reach=12 * layer.step))
    # When the schedule of that one layer is asked who is on call
    answer = on_call(Schedule("s", zone.key, (layer,)), at)
    # Then it is the participant whose turn the independently counted shift boundaries say it is
    expected = layer.participants[expected_index(layer, zone, at) % len(layer.participants)]
    assert participant(layer, zone, at) == expected
    assert answer.contact_ids == (expected,)
    assert answer.sources == {expected: Source(SourceKind.LAYER, 0)}
    assert not answer.fallback


@PROPERTY
@given(st.data(), change_nights())
def test_a_layer_has_someone_exactly_inside_its_windows(data, night):
    zone, near = night
    layer = data.draw(layers(near).filter(lambda layer: layer.windows is not None))
    at = data.draw(instants_around(zone, near))
    assert in_windows(layer, zone, at) == expected_in_windows(layer, zone, at)


@PROPERTY
@given(st.data(), scenarios())
def test_the_later_layer_wins_where_it_has_someone_and_leaves_the_earlier_ones_where_not(data, scenario):
    # Given a schedule, and the same schedule with one more layer at the end of the list
    schedule, near = scenario
    zone = ZoneInfo(schedule.time_zone)
    top = data.draw(layers(near))
    at = data.draw(instants_around(zone, near))
    below = on_call(schedule, at)
    above = on_call(Schedule("s", schedule.time_zone, (*schedule.layers, top), schedule.fallback_contact_ids), at)
    # Then inside the new layer's windows its participant is on call; outside them the answer is unchanged
    if expected_in_windows(top, zone, at):
        assert above.contact_ids == (participant(top, zone, at),)
        assert above.sources[above.contact_ids[0]] == Source(SourceKind.LAYER, len(schedule.layers))
    else:
        assert (above.contact_ids, above.sources, above.fallback) == (below.contact_ids, below.sources, below.fallback)


@PROPERTY
@given(st.data(), scenarios(), st.sampled_from(("around", "start", "end", "before_start", "before_end")))
def test_an_override_wins_inside_its_interval_and_nowhere_else(data, scenario, where):
    schedule, near = scenario
    zone = ZoneInfo(schedule.time_zone)
    start, end, people = data.draw(spans(zone, near))
    at = {
        "around": data.draw(instants_around(zone, near)),
        "start": start,
        "end": end,
        "before_start": start - timedelta(microseconds=1),
        "before_end": end - timedelta(microseconds=1),
    }[where]
    plain = on_call(schedule, at)
    overridden = on_call(schedule, at, overrides=[Override(start, end, people)])
    if start <= at < end:
        assert overridden.contact_ids == people
        assert set(overridden.sources.values()) == {Source(SourceKind.OVERRIDE, 0)}
        assert not overridden.fallback
    else:
        assert (overridden.contact_ids, overridden.fallback) == (plain.contact_ids, plain.fallback)


@PROPERTY
@given(st.data(), scenarios())
def test_events_sit_above_every_layer_and_below_overrides(data, scenario):
    schedule, near = scenario
    zone = ZoneInfo(schedule.time_zone)
    event, override = Event(*data.draw(spans(zone, near))), Override(*data.draw(spans(zone, near)))
    at = data.draw(instants_around(zone, near))
    plain = on_call(schedule, at)
    with_event = on_call(schedule, at, events=[event])
    both = on_call(schedule, at, overrides=[override], events=[event])
    assert with_event.contact_ids == (event.contact_ids if event.start <= at < event.end else plain.contact_ids)
    if override.start <= at < override.end:
        assert both.contact_ids == override.contact_ids
    else:
        assert both.contact_ids == with_event.contact_ids


@settings(max_examples=80, deadline=None)
@given(st.data(), scenarios(), st.integers(1, 4 * 24 * 60))
def test_shifts_tile_the_period_exactly_and_agree_with_on_call(data, scenario, minutes):
    # Given a schedule with overrides and calendar events, and a period of up to four days around a change night
    schedule, near = scenario
    zone = ZoneInfo(schedule.time_zone)
    start = data.draw(instants_around(zone, near))
    end = start + minutes * MINUTE
    overrides = [Override(*span) for span in data.draw(st.lists(spans(zone, near), max_size=2))]
    events = [Event(*span) for span in data.draw(st.lists(spans(zone, near), max_size=2))]
    # When the period is tiled
    tiles = shifts(schedule, start, end, overrides, events)
    # Then the shifts cover it without gap or overlap, and no two neighbours give the same answer
    assert tiles[0].start == start and tiles[-1].end == end
    assert all(a.end == b.start for a, b in itertools.pairwise(tiles))
    assert all(s.start < s.end for s in tiles)
    assert all((a.contact_ids, a.fallback) != (b.contact_ids, b.fallback) for a, b in itertools.pairwise(tiles))
    # And on_call agrees at each shift's start and middle, and says the answer holds until the shift ends
    for s in tiles:
        for at in (s.start, s.start + (s.end - s.start) / 2):
            answer = on_call(schedule, at, overrides, events)
            assert (answer.contact_ids, answer.fallback) == (s.contact_ids, s.fallback)
            assert answer.until == s.end if s is not tiles[-1] else answer.until >= s.end
