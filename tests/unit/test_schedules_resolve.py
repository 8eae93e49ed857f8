"""Who is on call, by example: the issue's cardiology schedule, windows, the fallback and the coverage gaps,
overrides and calendar events, `until`, the period limit, rotations before their anchor, handoff listing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from clarion.domain.rotations import Layer, Unit, handoffs, participant
from clarion.domain.schedules import (
    MAX_PERIOD,
    Event,
    Override,
    PeriodTooLong,
    Shift,
    Source,
    SourceKind,
    gaps,
    on_call,
    overlapping,
    parse_schedule,
    shifts,
)

CARDIOLOGY: dict[str, Any] = {
    "name": "Cardiology on call",
    "time_zone": "Europe/London",
    "layers": [
        {"participants": ["C-2", "C-3"], "shift": {"length": 12, "unit": "hours"}, "handoff_at": "2026-12-01T07:00"},
        {
            "participants": ["C-4"],
            "shift": {"length": 1, "unit": "weeks"},
            "handoff_at": "2026-12-05T08:00",
            "windows": [{"days": ["sat", "sun"], "from": "08:00", "to": "20:00"}],
        },
    ],
    "fallback_contact_ids": ["C-1"],
}
SCHEDULE = parse_schedule(CARDIOLOGY)
WEEKENDS_ONLY = parse_schedule({**CARDIOLOGY, "layers": CARDIOLOGY["layers"][1:]})
NO_FALLBACK = parse_schedule({**CARDIOLOGY, "layers": CARDIOLOGY["layers"][1:], "fallback_contact_ids": []})


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def who(text: str, **inputs) -> tuple[str, ...]:
    return on_call(SCHEDULE, utc(text), **inputs).contact_ids


# --- layers --------------------------------------------------------------------------------------


def test_the_weekend_layer_wins_inside_its_window_and_leaves_the_12_hour_rotation_outside_it():
    # Given C-2 and C-3 on 12-hour shifts from Tuesday 1 December 07:00, and C-4 on weekends 08:00-20:00
    # Then on Saturday 5 December C-2 hands to C-4 at 08:00, C-4 to C-3 at 20:00
    assert who("2026-12-05T07:59") == ("C-2",)
    saturday = on_call(SCHEDULE, utc("2026-12-05T08:00"))
    assert saturday.contact_ids == ("C-4",)
    assert saturday.sources == {"C-4": Source(SourceKind.LAYER, 1)}
    assert str(saturday.sources["C-4"]) == "layers[1]"
    assert saturday.until == utc("2026-12-05T20:00")
    assert who("2026-12-05T20:00") == ("C-3",)
    # And on Monday the weekend layer has nobody, so the rotation below answers all day
    assert who("2026-12-07T12:00") == ("C-2",)
    assert who("2026-12-07T20:00") == ("C-3",)


def test_shifts_over_a_weekend_show_each_handoff():
    found = shifts(SCHEDULE, utc("2026-12-05T00:00"), utc("2026-12-06T00:00"))
    assert found == [
        Shift(utc("2026-12-05T00:00"), utc("2026-12-05T07:00"), ("C-3",)),
        Shift(utc("2026-12-05T07:00"), utc("2026-12-05T08:00"), ("C-2",)),
        Shift(utc("2026-12-05T08:00"), utc("2026-12-05T20:00"), ("C-4",)),
        Shift(utc("2026-12-05T20:00"), utc("2026-12-06T00:00"), ("C-3",)),
    ]


def test_a_rotation_runs_backward_from_an_anchor_in_the_future():
    # Given A then B on daily shifts from 10 December 08:00 (London, GMT)
    layer = Layer(("A", "B", "C"), 1, Unit.DAYS, datetime(2026, 12, 10, 8))
    zone = ZoneInfo("Europe/London")
    # Then the days before belong to C, B, A, ... counting back
    assert participant(layer, zone, utc("2026-12-10T08:00")) == "A"
    assert participant(layer, zone, utc("2026-12-10T07:59")) == "C"
    assert participant(layer, zone, utc("2026-12-08T12:00")) == "B"
    assert participant(layer, zone, utc("2026-12-07T12:00")) == "A"


def test_handoffs_lists_the_instants_in_the_half_open_period():
    layer = SCHEDULE.layers[0]
    zone = SCHEDULE.zone
    assert handoffs(layer, zone, utc("2026-12-05T07:00"), utc("2026-12-06T07:00")) == [
        utc("2026-12-05T07:00"),
        utc("2026-12-05T19:00"),
    ]
    assert handoffs(layer, zone, utc("2026-12-05T07:01"), utc("2026-12-05T19:00")) == []


# --- the fallback and the gaps -------------------------------------------------------------------


def test_the_fallback_answers_when_no_layer_has_anyone_and_says_so():
    # Given only the weekend layer, and C-1 as the fallback
    weekday = on_call(WEEKENDS_ONLY, utc("2026-12-07T12:00"))
    # Then on a weekday C-1 is on call as the fallback, until the weekend window opens
    assert weekday.contact_ids == ("C-1",)
    assert weekday.fallback and not weekday.nobody
    assert weekday.sources == {"C-1": Source(SourceKind.FALLBACK)}
    assert str(weekday.sources["C-1"]) == "fallback_contact_ids"
    assert weekday.until == utc("2026-12-12T08:00")
    # And inside the window the fallback does not apply
    assert not on_call(WEEKENDS_ONLY, utc("2026-12-12T08:00")).fallback
    # And with a fallback there is no gap in coverage
    assert gaps(WEEKENDS_ONLY, utc("2026-12-07T00:00"), utc("2026-12-21T00:00")) == []


def test_without_a_fallback_nobody_is_on_call_and_gaps_lists_each_interval():
    nobody = on_call(NO_FALLBACK, utc("2026-12-07T12:00"))
    assert nobody.nobody and not nobody.fallback and nobody.sources == {}
    assert gaps(NO_FALLBACK, utc("2026-12-11T00:00"), utc("2026-12-14T00:00")) == [
        (utc("2026-12-11T00:00"), utc("2026-12-12T08:00")),
        (utc("2026-12-12T20:00"), utc("2026-12-13T08:00")),
        (utc("2026-12-13T20:00"), utc("2026-12-14T00:00")),
    ]


def test_an_override_closes_a_gap():
    cover = Override(utc("2026-12-12T20:00"), utc("2026-12-13T08:00"), ("C-9",))
    assert gaps(NO_FALLBACK, utc("2026-12-12T00:00"), utc("2026-12-14T00:00"), overrides=[cover]) == [
        (utc("2026-12-12T00:00"), utc("2026-12-12T08:00")),
        (utc("2026-12-13T20:00"), utc("2026-12-14T00:00")),
    ]


# --- overrides and events ------------------------------------------------------------------------


def test_an_override_replaces_whoever_the_layers_give_over_its_half_open_interval():
    swap = Override(utc("2026-12-07T09:00"), utc("2026-12-07T11:00"), ("C-7", "C-8"))
    assert who("2026-12-07T08:59", overrides=[swap]) == ("C-2",)
    inside = on_call(SCHEDULE, utc("2026-12-07T09:00"), overrides=[swap])
    assert inside.contact_ids == ("C-7", "C-8")
    assert {c: str(s) for c, s in inside.sources.items()} == {"C-7": "overrides[0]", "C-8": "overrides[0]"}
    assert inside.until == utc("2026-12-07T11:00")
    assert who("2026-12-07T11:00", overrides=[swap]) == ("C-2",)


def test_calendar_events_sit_above_the_layers_and_overlapping_events_all_count():
    # Given two calendar events overlapping on Saturday afternoon, and one with nobody in it
    events = [
        Event(utc("2026-12-05T12:00"), utc("2026-12-05T16:00"), ("E-1",)),
        Event(utc("2026-12-05T14:00"), utc("2026-12-05T18:00"), ("E-2", "E-1")),
        Event(utc("2026-12-05T06:00"), utc("2026-12-05T07:00"), ()),
    ]
    # Then the events answer over the weekend layer, together where they overlap
    assert who("2026-12-05T13:00", events=events) == ("E-1",)
    both = on_call(SCHEDULE, utc("2026-12-05T15:00"), events=events)
    assert both.contact_ids == ("E-1", "E-2")
    assert {c: str(s) for c, s in both.sources.items()} == {"E-1": "events[0]", "E-2": "events[1]"}
    # And an event with nobody in it leaves the layers below
    assert who("2026-12-05T06:30", events=events) == ("C-3",)
    # And an override still wins over an event
    override = Override(utc("2026-12-05T15:00"), utc("2026-12-05T15:30"), ("O-1",))
    assert who("2026-12-05T15:10", events=events, overrides=[override]) == ("O-1",)


def test_overlapping_finds_an_override_sharing_an_instant_and_touching_is_not_sharing():
    morning = Override(utc("2026-12-07T08:00"), utc("2026-12-07T12:00"), ("A",))
    evening = Override(utc("2026-12-07T18:00"), utc("2026-12-07T22:00"), ("B",))
    assert overlapping([morning, evening], Override(utc("2026-12-07T12:00"), utc("2026-12-07T18:00"), ("C",))) is None
    assert (
        overlapping([morning, evening], Override(utc("2026-12-07T11:59"), utc("2026-12-07T13:00"), ("C",))) is morning
    )
    assert (
        overlapping([morning, evening], Override(utc("2026-12-07T07:00"), utc("2026-12-08T00:00"), ("C",))) is morning
    )
    assert (
        overlapping([morning, evening], Override(utc("2026-12-07T19:00"), utc("2026-12-07T20:00"), ("C",))) is evening
    )


def test_an_override_needs_someone_and_a_positive_length():
    with pytest.raises(ValueError, match="at least one contact"):
        Override(utc("2026-12-07T08:00"), utc("2026-12-07T12:00"), ())
    with pytest.raises(ValueError, match="ends after it starts"):
        Override(utc("2026-12-07T08:00"), utc("2026-12-07T08:00"), ("A",))


# --- instants, until and the period limit ---------------------------------------------------------


def test_instants_must_be_aware_and_answers_are_in_utc():
    with pytest.raises(ValueError, match="aware"):
        on_call(SCHEDULE, datetime(2026, 12, 7, 12))
    answer = on_call(SCHEDULE, datetime(2026, 12, 7, 12, tzinfo=ZoneInfo("America/Chicago")))
    assert answer.contact_ids == ("C-2",)  # 18:00 in London: the day shift until 19:00
    assert answer.until == utc("2026-12-07T19:00") and answer.until.tzinfo is UTC


def test_until_is_the_horizon_when_the_answer_holds_for_the_whole_period():
    # Given one person on call all the time
    alone = parse_schedule({**CARDIOLOGY, "layers": [{**CARDIOLOGY["layers"][0], "participants": ["C-2"]}]})
    # Then the answer holds past the horizon; until says when to ask again
    at = utc("2026-12-07T12:00")
    assert on_call(alone, at).until == at + MAX_PERIOD
    assert shifts(alone, at, at + MAX_PERIOD) == [Shift(at, at + MAX_PERIOD, ("C-2",))]


def test_a_period_of_shifts_is_at_most_31_days():
    start = utc("2026-12-01T00:00")
    assert shifts(SCHEDULE, start, start + timedelta(days=31))[-1].end == start + timedelta(days=31)
    with pytest.raises(PeriodTooLong) as refused:
        shifts(SCHEDULE, start, start + timedelta(days=31, microseconds=1))
    assert (refused.value.code, refused.value.field) == ("period_too_long", "end")
    with pytest.raises(PeriodTooLong):
        gaps(SCHEDULE, start, start + timedelta(days=32))
    assert shifts(SCHEDULE, start, start) == []
