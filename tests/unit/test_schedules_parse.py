"""Reading a schedule from its JSON form: each refusal names the field at fault; `to_json` gives the body back."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.domain.rotations import DAY_NAMES, InvalidSchedule, MissingScheduleField, UnknownScheduleField
from clarion.domain.schedules import parse_schedule

BODY: dict[str, Any] = {
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


def changed(path: str, value: object) -> dict[str, Any]:
    """BODY with the value at `path` (dots and [n]) replaced, or removed when `value` is DELETE."""
    body = copy.deepcopy(BODY)
    keys: list[str | int] = []
    for part in path.split("."):
        name, *indexes = part.replace("]", "").split("[")
        keys.append(name)
        keys.extend(int(i) for i in indexes)
    target: Any = body
    for key in keys[:-1]:
        target = target[key]
    if value is DELETE:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return body


DELETE = object()


def test_the_issues_example_reads_and_writes_back_unchanged():
    schedule = parse_schedule(copy.deepcopy(BODY))
    assert schedule.to_json() == BODY
    assert schedule.layers[1].windows is not None and schedule.layers[0].windows is None


def test_fallback_contacts_may_be_left_out_and_layers_may_be_empty():
    body = {"name": "Events only", "time_zone": "UTC", "layers": []}
    assert parse_schedule(body).to_json() == {**body, "fallback_contact_ids": []}


def test_a_whole_number_written_as_a_float_is_read_as_a_whole_number():
    assert parse_schedule(changed("layers[0].shift.length", 12.0)).layers[0].length == 12


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("name", ""),
        ("name", "   "),
        ("name", "line\nbreak"),
        ("name", "x" * 129),
        ("name", 7),
        ("time_zone", "Mars/Olympus_Mons"),
        ("time_zone", "europe/london "),
        ("time_zone", "America"),
        ("time_zone", "../etc/passwd"),
        ("time_zone", "localtime"),
        ("time_zone", None),
        ("layers", {}),
        ("layers", [BODY["layers"][0]] * 11),
        ("layers[1]", "weekly"),
        ("layers[0].participants", []),
        ("layers[0].participants", ["C-2"] * 51),
        ("layers[0].participants[1]", ""),
        ("layers[0].participants[1]", "C 3"),
        ("layers[0].participants[1]", 3),
        ("layers[1].shift", 12),
        ("layers[1].shift.length", 0),
        ("layers[1].shift.length", -1),
        ("layers[1].shift.length", 1.5),
        ("layers[1].shift.length", "12"),
        ("layers[1].shift.length", True),
        ("layers[1].shift.length", 1001),
        ("layers[1].shift.unit", "months"),
        ("layers[1].shift.unit", "HOURS"),
        ("layers[1].handoff_at", "2026-12-05T08:00Z"),
        ("layers[1].handoff_at", "2026-12-05T08:00+01:00"),
        ("layers[1].handoff_at", "2026-12-05 08:00"),
        ("layers[1].handoff_at", "2026-02-30T08:00"),
        ("layers[1].handoff_at", "2026-12-05T24:00"),
        ("layers[1].handoff_at", "2026-12-05T08:00:00"),
        ("layers[1].handoff_at", "1969-12-31T08:00"),
        ("layers[1].handoff_at", 1_764_921_600),
        ("layers[1].windows", []),
        ("layers[1].windows", [BODY["layers"][1]["windows"][0]] * 15),
        ("layers[1].windows[0].days", []),
        ("layers[1].windows[0].days", ["sat", "sat"]),
        ("layers[1].windows[0].days[1]", "Sun"),
        ("layers[1].windows[0].days[1]", "funday"),
        ("layers[1].windows[0].from", "24:00"),
        ("layers[1].windows[0].from", "8:00"),
        ("layers[1].windows[0].to", "20:60"),
        ("layers[1].windows[0].to", "20:00:00"),
        ("fallback_contact_ids", ["C-1", "C-1"]),
        ("fallback_contact_ids", ["C-1"] * 11),
        ("fallback_contact_ids[0]", "C/1"),
        ("fallback_contact_ids", "C-1"),
    ],
)
def test_a_bad_value_is_refused_naming_its_field(path, value):
    with pytest.raises(InvalidSchedule) as refused:
        parse_schedule(changed(path, value))
    field = refused.value.field
    assert refused.value.code == "invalid_field"
    assert field is not None and (path == field or path.startswith(field + ".") or path.startswith(field + "["))
    assert f"'{field}'" in refused.value.message
    # The message never repeats the value
    assert not isinstance(value, str) or len(value) < 3 or value not in refused.value.message


@pytest.mark.parametrize(
    "path", ["name", "time_zone", "layers", "layers[0].participants", "layers[1].shift.unit", "layers[0].handoff_at"]
)
def test_a_missing_field_is_named(path):
    with pytest.raises(MissingScheduleField) as refused:
        parse_schedule(changed(path, DELETE))
    assert (refused.value.code, refused.value.field) == ("missing_field", path)


@pytest.mark.parametrize(
    "path", ["colour", "layers[0].rotation_position", "layers[1].shift.offset", "layers[1].windows[0].tz"]
)
def test_an_unknown_field_is_named(path):
    with pytest.raises(UnknownScheduleField) as refused:
        parse_schedule(changed(path, 1))
    assert (refused.value.code, refused.value.field) == ("unknown_field", path)


def test_a_body_that_is_not_an_object_is_refused():
    with pytest.raises(InvalidSchedule) as refused:
        parse_schedule([BODY])
    assert refused.value.field is None


contact_ids = st.from_regex(r"[A-Za-z0-9._-]{1,12}", fullmatch=True)
clock = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
bodies = st.fixed_dictionaries(
    {
        "name": st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), min_size=1, max_size=40).filter(
            str.strip
        ),
        "time_zone": st.sampled_from(
            ("Europe/London", "America/Chicago", "Australia/Lord_Howe", "UTC", "Asia/Kolkata")
        ),
        "layers": st.lists(
            st.fixed_dictionaries(
                {
                    "participants": st.lists(contact_ids, min_size=1, max_size=5),
                    "shift": st.fixed_dictionaries(
                        {"length": st.integers(1, 1000), "unit": st.sampled_from(("hours", "days", "weeks"))}
                    ),
                    "handoff_at": st.datetimes(
                        min_value=datetime(1970, 1, 1),
                        max_value=datetime(2199, 12, 31, 23, 59),
                    ).map(lambda d: d.strftime("%Y-%m-%dT%H:%M")),
                },
                optional={
                    "windows": st.lists(
                        st.fixed_dictionaries(
                            {
                                "days": st.lists(st.sampled_from(DAY_NAMES), min_size=1, max_size=7, unique=True),
                                "from": clock,
                                "to": clock,
                            }
                        ),
                        min_size=1,
                        max_size=4,
                    )
                },
            ),
            max_size=4,
        ),
        "fallback_contact_ids": st.lists(contact_ids, max_size=10, unique=True),
    }
)


@settings(max_examples=60, deadline=None)
@given(bodies)
def test_every_valid_body_reads_and_writes_back_unchanged(body):
    assert parse_schedule(copy.deepcopy(body)).to_json() == body
