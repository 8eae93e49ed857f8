"""On-call schedules through the admin API: create, replace, read, delete, the history, who is on call and the shifts
of a period; every refusal names its field. Overrides: tests/integration/test_schedule_overrides.py."""

from __future__ import annotations

from typing import Any

import pytest

from clarion.shared import clock
from tests.integration.schedules_api import NOW, SCHEDULE, admin
from tests.integration.walk import Walk

NIGHTS = {
    "participants": ["C-3"],
    "shift": {"length": 1, "unit": "weeks"},
    "handoff_at": "2026-12-07T20:00",
    "windows": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "20:00", "to": "08:00"}],
}


@pytest.fixture
def walk(clarion: Any, monkeypatch: pytest.MonkeyPatch) -> Walk:
    monkeypatch.setattr(clock, "time", lambda: NOW)
    w = Walk(clarion)
    w.given_contacts_and_policy(policy=None)
    return w


def test_a_schedule_is_created_then_replaced_and_read_back(walk: Walk) -> None:
    # Given no schedule; When one is put, Then 201 with the schedule as stored
    status, body = admin("PUT", "/schedules/cardio", SCHEDULE)
    layers = [{**SCHEDULE["layers"][0], "windows": None}]  # answered as null: always
    assert (status, body) == (201, {"schedule_id": "cardio", **SCHEDULE, "layers": layers})
    # When it is replaced with a windowed night layer added, Then 200, and reading it gives the new one
    replaced = {**SCHEDULE, "layers": [*SCHEDULE["layers"], NIGHTS]}
    assert admin("PUT", "/schedules/cardio", replaced)[0] == 200
    status, body = admin("GET", "/schedules/cardio")
    assert status == 200 and body["layers"][1] == NIGHTS and body["fallback_contact_ids"] == ["C-4"]


def test_an_unknown_schedule_is_404_on_every_route(walk: Walk) -> None:
    for method, path in [
        ("GET", "/schedules/nope"),
        ("DELETE", "/schedules/nope"),
        ("GET", "/schedules/nope/history"),
        ("GET", "/schedules/nope/on-call"),
        ("GET", "/schedules/nope/overrides"),
        ("DELETE", "/schedules/nope/overrides/abc"),
    ]:
        status, body = admin(method, path)
        assert (status, body["error"]["code"], body["error"]["field"]) == (404, "not_found", "schedule_id"), path
    status, body = admin(
        "GET", "/schedules/nope/shifts", query={"from": "2026-12-08T00:00Z", "to": "2026-12-09T00:00Z"}
    )
    assert status == 404


def _layer(**change: Any) -> dict[str, Any]:
    return {**SCHEDULE, "layers": [{**SCHEDULE["layers"][0], **change}]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**SCHEDULE, "time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({**SCHEDULE, "time_zone": "../../etc/passwd"}, "time_zone"),
        ({**SCHEDULE, "time_zone": "Factory"}, "time_zone"),
        ({**SCHEDULE, "time_zone": "posix/Europe/London"}, "time_zone"),  # the host's files, not the shipped data
        ({**SCHEDULE, "time_zone": 0}, "time_zone"),
        (_layer(shift={"length": 0, "unit": "days"}), "layers[0].shift.length"),
        (_layer(shift={"length": 1.5, "unit": "days"}), "layers[0].shift.length"),
        (_layer(shift={"length": True, "unit": "days"}), "layers[0].shift.length"),
        (_layer(shift={"length": 1, "unit": "months"}), "layers[0].shift.unit"),
        (_layer(handoff_at="2026-12-07T08:00Z"), "layers[0].handoff_at"),
        (_layer(handoff_at="2026-02-30T08:00"), "layers[0].handoff_at"),
        (_layer(participants=[]), "layers[0].participants"),
        (_layer(participants=["bad id!"]), "layers[0].participants[0]"),
        (_layer(windows=[]), "layers[0].windows"),
        (_layer(windows=[{"days": ["someday"], "from": "08:00", "to": "20:00"}]), "layers[0].windows[0].days[0]"),
        (_layer(windows=[{"days": ["mon"], "from": "24:00", "to": "20:00"}]), "layers[0].windows[0].from"),
        (_layer(windows=[{"days": ["mon"], "from": "08:00"}]), "layers[0].windows[0].to"),
        (_layer(rota="weekly"), "layers[0].rota"),
        ({**SCHEDULE, "layers": [SCHEDULE["layers"][0]] * 11}, "layers"),
        ({**SCHEDULE, "fallback_contact_ids": ["C-4", "C-4"]}, "fallback_contact_ids"),
        ({**SCHEDULE, "name": ""}, "name"),
        ({**SCHEDULE, "name": "line\nbreak"}, "name"),
        ({**SCHEDULE, "colour": "red"}, "colour"),
        ({k: v for k, v in SCHEDULE.items() if k != "time_zone"}, "time_zone"),
    ],
)
def test_bad_input_is_400_naming_the_field(walk: Walk, body: dict[str, Any], field: str) -> None:
    status, answer = admin("PUT", "/schedules/cardio", body)
    assert status == 400, answer
    assert answer["error"]["field"] == field, answer
    assert admin("GET", "/schedules/cardio")[0] == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_layer(participants=["C-1", "C-404"]), "layers[0].participants"),
        ({**SCHEDULE, "fallback_contact_ids": ["C-404"]}, "fallback_contact_ids"),
    ],
)
def test_a_schedule_naming_an_unknown_contact_is_422_naming_where(walk: Walk, body: dict[str, Any], field: str) -> None:
    status, answer = admin("PUT", "/schedules/cardio", body)
    assert (status, answer["error"]["code"], answer["error"]["field"]) == (422, "unknown_contact", field)
    assert "C-404" in answer["error"]["message"]


def test_hostile_ids_and_bodies_are_refused(walk: Walk) -> None:
    # A schedule id with characters no id may hold, an override id too
    assert admin("PUT", "/schedules/S*1", SCHEDULE)[1]["error"]["field"] == "schedule_id"
    assert admin("GET", "/schedules/%2E%2E")[0] in (400, 404)
    assert admin("DELETE", "/schedules/cardio/overrides/o*1")[1]["error"]["field"] == "override_id"
    assert admin("GET", "/schedules/" + "s" * 65)[1]["error"]["field"] == "schedule_id"
    # A body over 16 KiB: 413, nothing stored
    status, answer = admin("PUT", "/schedules/cardio", {**SCHEDULE, "name": "n" * 17_000})
    assert (status, answer["error"]["code"]) == (413, "payload_too_large")
    # A list, a string, no body at all
    assert admin("PUT", "/schedules/cardio", [SCHEDULE])[1]["error"]["code"] == "invalid_body"
    assert admin("PUT", "/schedules/cardio", "schedule")[0] == 400
    assert admin("PUT", "/schedules/cardio")[0] == 400
    assert admin("GET", "/schedules/cardio")[0] == 404


def test_who_is_on_call_now_and_at_an_instant_with_where_from_and_until(walk: Walk) -> None:
    # Given C-1 and C-2 alternating days at 08:00 London, and C-3 on weekday nights over them
    admin("PUT", "/schedules/cardio", {**SCHEDULE, "layers": [*SCHEDULE["layers"], NIGHTS]})
    # When asked now (Tuesday 10:00), Then C-2's day, until the nights start at 20:00
    status, body = admin("GET", "/schedules/cardio/on-call")
    assert status == 200
    assert body == {
        "at": "2026-12-08T10:00:00.000Z",
        "contact_ids": ["C-2"],
        "sources": {"C-2": "layers[0]"},
        "until": "2026-12-08T20:00:00.000Z",
        "fallback": False,
    }
    # When asked for 21:00 (an offset given), Then C-3 from the night layer, until 08:00
    status, body = admin("GET", "/schedules/cardio/on-call", query={"at": "2026-12-08T22:00:00+01:00"})
    assert (body["contact_ids"], body["sources"], body["until"]) == (
        ["C-3"],
        {"C-3": "layers[1]"},
        "2026-12-09T08:00:00.000Z",
    )


def test_with_nobody_from_the_layers_the_fallback_contacts_are_on_call(walk: Walk) -> None:
    admin("PUT", "/schedules/nights", {**SCHEDULE, "layers": [NIGHTS]})
    body = admin("GET", "/schedules/nights/on-call")[1]
    assert (body["contact_ids"], body["sources"], body["fallback"]) == (
        ["C-4"],
        {"C-4": "fallback_contact_ids"},
        True,
    )


def test_shifts_tile_a_period(walk: Walk) -> None:
    admin("PUT", "/schedules/cardio", SCHEDULE)
    status, body = admin(
        "GET", "/schedules/cardio/shifts", query={"from": "2026-12-08T00:00:00Z", "to": "2026-12-09T12:00:00Z"}
    )
    assert status == 200
    assert body["shifts"] == [
        {
            "start": "2026-12-08T00:00:00.000Z",
            "end": "2026-12-08T08:00:00.000Z",
            "contact_ids": ["C-1"],
            "fallback": False,
        },
        {
            "start": "2026-12-08T08:00:00.000Z",
            "end": "2026-12-09T08:00:00.000Z",
            "contact_ids": ["C-2"],
            "fallback": False,
        },
        {
            "start": "2026-12-09T08:00:00.000Z",
            "end": "2026-12-09T12:00:00.000Z",
            "contact_ids": ["C-1"],
            "fallback": False,
        },
    ]


@pytest.mark.parametrize(
    ("route", "query", "field"),
    [
        ("shifts", {"from": "2026-12-01T00:00:00Z", "to": "2027-01-01T00:00:01Z"}, "to"),
        ("shifts", {"from": "2026-12-02T00:00:00Z", "to": "2026-12-01T00:00:00Z"}, "to"),
        ("shifts", {"from": "2026-12-01T00:00:00", "to": "2026-12-02T00:00:00Z"}, "from"),
        ("shifts", {"from": "2026-12-01T00:00:00Z"}, "to"),
        ("shifts", {"from": "9999-12-31T00:00:00Z", "to": "9999-12-31T12:00:00Z"}, "from"),
        ("on-call", {"at": "yesterday"}, "at"),
        ("on-call", {"at": "2026-12-08T10:00:00"}, "at"),
        ("on-call", {"at": "9999-12-31T23:59:59Z"}, "at"),
    ],
)
def test_a_bad_instant_or_period_is_400_naming_the_parameter(
    walk: Walk, route: str, query: dict[str, str], field: str
) -> None:
    admin("PUT", "/schedules/cardio", SCHEDULE)
    status, body = admin("GET", f"/schedules/cardio/{route}", query=query)
    assert (status, body["error"]["field"]) == (400, field), body


def test_the_history_keeps_every_change_with_who_made_it_after_the_delete(walk: Walk) -> None:
    # Given a schedule created, replaced, given an override, and deleted
    admin("PUT", "/schedules/cardio", SCHEDULE)
    admin("PUT", "/schedules/cardio", {**SCHEDULE, "name": "Cardiology"})
    override = {"start": "2026-12-08T12:00:00Z", "end": "2026-12-08T13:00:00Z", "contact_ids": ["C-3"]}
    override_id = admin("POST", "/schedules/cardio/overrides", override)[1]["override_id"]
    assert admin("DELETE", "/schedules/cardio")[0] == 204
    assert admin("GET", "/schedules/cardio")[0] == 404
    # When its history is read
    status, body = admin("GET", "/schedules/cardio/history")
    # Then every change is there, oldest first, by the admin client, what it held before and after
    assert status == 200
    changes = body["changes"]
    assert [c["action"] for c in changes] == ["created", "replaced", "created", "deleted"]
    assert {c["client_id"] for c in changes} == {"ops"}
    assert changes[1]["before"]["name"] == "Cardiology registrar" and changes[1]["after"]["name"] == "Cardiology"
    assert changes[2]["after"]["override_id"] == override_id and changes[2]["after"]["contact_ids"] == ["C-3"]
    assert changes[3]["before"]["layers"] == SCHEDULE["layers"] and changes[3]["after"] is None


def test_a_schedule_made_anew_under_a_deleted_ones_id_has_none_of_its_overrides(walk: Walk) -> None:
    admin("PUT", "/schedules/cardio", SCHEDULE)
    override = {"start": "2026-12-08T12:00:00Z", "end": "2026-12-08T13:00:00Z", "contact_ids": ["C-3"]}
    assert admin("POST", "/schedules/cardio/overrides", override)[0] == 201
    admin("DELETE", "/schedules/cardio")
    admin("PUT", "/schedules/cardio", SCHEDULE)
    assert admin("GET", "/schedules/cardio/overrides", query={"include_past": "true"})[1] == {"overrides": []}


def test_only_an_admin_token_reaches_the_schedules() -> None:
    from clarion.domain import tokens

    alerts = tokens.allowed_routes([tokens.Scope.ALERTS])
    admin_routes = tokens.allowed_routes([tokens.Scope.ADMIN])
    for method in ("PUT", "GET", "POST", "DELETE"):
        assert (method, "/schedules/*") in admin_routes and (method, "/schedules/*") not in alerts
