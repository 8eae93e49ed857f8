"""Clarion's one time format: UTC to the millisecond with a Z, written everywhere; older forms still read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from clarion.shared import clock

FORMAT = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def test_a_stamp_is_utc_to_the_millisecond_with_a_z() -> None:
    assert clock.stamp(datetime(2026, 12, 7, 17, 43, 16, 123456, tzinfo=UTC)) == "2026-12-07T17:43:16.123Z"
    assert clock.stamp(0) == "1970-01-01T00:00:00.000Z"
    plus_one = timezone(timedelta(hours=1))
    assert clock.stamp(datetime(2026, 6, 1, 12, 0, tzinfo=plus_one)) == "2026-06-01T11:00:00.000Z"


def test_the_older_forms_are_still_read() -> None:
    for text in ("2026-12-07T17:43:16.123+00:00", "2026-12-07T17:43:16.123Z", "2026-12-07T17:43:16.123"):
        assert clock.stamp(clock.parse(text)) == "2026-12-07T17:43:16.123Z"


def test_the_clock_is_the_one_tests_control(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(clock, "time", lambda: 1_000.5)
    assert clock.stamp() == "1970-01-01T00:16:40.500Z"
    assert clock.seconds_between("1970-01-01T00:16:40.000Z", clock.now()) == 0.5
    assert clock.seconds_between("1970-01-01T00:16:41.000Z", clock.now()) == 0.0  # never below zero


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_a_stamp_reads_back_to_the_same_millisecond(moment: datetime) -> None:
    text = clock.stamp(moment)
    import re

    assert re.fullmatch(FORMAT, text)
    assert abs((clock.parse(text) - moment).total_seconds()) < 0.001
