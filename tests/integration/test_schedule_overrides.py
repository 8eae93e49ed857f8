"""A schedule's overrides through the admin API: added (201 with its id) and winning over the layers, refused when
they overlap another (409 naming it), name an unknown contact (422) or a bad time (400 naming the field); listed;
deleted: a running one ends now and stays on record, one to come is removed. Two added at once cannot both pass."""

from __future__ import annotations

from typing import Any

import pytest

from clarion.adapters import audit, schedules
from clarion.adapters.schedules import StoredOverride
from clarion.domain.schedules import Override
from clarion.shared import clock
from tests.integration.schedules_api import NOW, SCHEDULE, admin
from tests.integration.walk import Walk

NOON = {"start": "2026-12-08T12:00:00Z", "end": "2026-12-08T14:00:00Z", "contact_ids": ["C-3"]}


@pytest.fixture
def walk(clarion: Any, monkeypatch: pytest.MonkeyPatch) -> Walk:
    monkeypatch.setattr(clock, "time", lambda: NOW)
    w = Walk(clarion)
    w.given_contacts_and_policy(policy=None)
    assert admin("PUT", "/schedules/cardio", SCHEDULE)[0] == 201
    return w


def add(body: dict[str, Any]) -> tuple[int, Any]:
    return admin("POST", "/schedules/cardio/overrides", body)


def test_an_override_is_created_and_wins_over_the_layers_while_it_runs(walk: Walk) -> None:
    # Given an override of C-3 from noon to 14:00, written with an offset
    status, body = add({**NOON, "start": "2026-12-08T13:00:00+01:00"})
    assert status == 201
    override_id = body["override_id"]
    assert body == {
        "override_id": override_id,
        "start": "2026-12-08T12:00:00.000Z",
        "end": "2026-12-08T14:00:00.000Z",
        "contact_ids": ["C-3"],
        "created_at": "2026-12-08T10:00:00.000Z",
    }
    # When who is on call is read before, during and after it
    before = admin("GET", "/schedules/cardio/on-call")[1]
    during = admin("GET", "/schedules/cardio/on-call", query={"at": "2026-12-08T12:30:00Z"})[1]
    after = admin("GET", "/schedules/cardio/on-call", query={"at": "2026-12-08T14:00:00Z"})[1]
    # Then the layer's C-2 until noon, C-3 (from the override) until 14:00, then C-2 again
    assert (before["contact_ids"], before["until"]) == (["C-2"], "2026-12-08T12:00:00.000Z")
    assert during["contact_ids"] == ["C-3"] and during["sources"] == {"C-3": f"overrides/{override_id}"}
    assert during["until"] == "2026-12-08T14:00:00.000Z"
    assert after["contact_ids"] == ["C-2"]
    # And the shifts of the day show it
    shifts = admin(
        "GET", "/schedules/cardio/shifts", query={"from": "2026-12-08T11:00:00Z", "to": "2026-12-08T15:00:00Z"}
    )[1]["shifts"]
    assert [(s["start"][11:16], s["contact_ids"]) for s in shifts] == [
        ("11:00", ["C-2"]),
        ("12:00", ["C-3"]),
        ("14:00", ["C-2"]),
    ]


def test_an_override_overlapping_another_is_409_naming_it_and_touching_is_not_overlapping(walk: Walk) -> None:
    first = add(NOON)[1]["override_id"]
    status, body = add({**NOON, "start": "2026-12-08T13:59:00Z", "end": "2026-12-08T15:00:00Z"})
    assert (status, body["error"]["code"]) == (409, "overlapping_override")
    assert first in body["error"]["message"]
    assert add({**NOON, "start": "2026-12-08T14:00:00Z", "end": "2026-12-08T15:00:00Z"})[0] == 201
    assert add({**NOON, "start": "2026-12-08T11:00:00Z", "end": "2026-12-08T12:00:00Z"})[0] == 201
    assert len(admin("GET", "/schedules/cardio/overrides")[1]["overrides"]) == 3


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"contact_ids": ["C-3", "C-404"]}, 422, "contact_ids"),
        ({"contact_ids": []}, 400, "contact_ids"),
        ({"contact_ids": ["C-3", "C-3"]}, 400, "contact_ids"),
        ({"contact_ids": ["bad id!"]}, 400, "contact_ids.0"),
        ({"start": "2026-12-08T12:00:00"}, 400, "start"),
        ({"start": "noon"}, 400, "start"),
        ({"start": 1_796_731_200}, 400, "start"),
        ({"end": "2026-12-08T12:00:00Z"}, 400, "end"),
        ({"end": "2026-12-08T11:00:00Z"}, 400, "end"),
        ({"start": "2026-12-08T08:00:00Z", "end": "2026-12-08T09:00:00Z"}, 400, "end"),  # over already
        ({"end": "2027-12-09T12:00:01Z"}, 400, "end"),  # over 366 days
        ({"end": "9999-12-31T23:59:59Z"}, 400, "end"),
        ({"reason": "leave"}, 400, "reason"),
    ],
)
def test_a_bad_override_is_refused_naming_the_field(
    walk: Walk, change: dict[str, Any], status: int, field: str
) -> None:
    answer_status, body = add({**NOON, **change})
    assert (answer_status, body["error"]["field"]) == (status, field), body
    assert admin("GET", "/schedules/cardio/overrides", query={"include_past": "true"})[1]["overrides"] == []


def test_an_override_of_an_unknown_schedule_is_404(walk: Walk) -> None:
    assert admin("POST", "/schedules/nope/overrides", NOON)[0] == 404


def test_deleting_a_running_override_ends_it_now_and_keeps_it_on_record(
    walk: Walk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an override that started an hour ago
    override_id = add({**NOON, "start": "2026-12-08T09:00:00Z"})[1]["override_id"]
    assert admin("GET", "/schedules/cardio/on-call")[1]["contact_ids"] == ["C-3"]
    # When it is deleted
    assert admin("DELETE", f"/schedules/cardio/overrides/{override_id}")[0] == 204
    # Then it ended now: the layer's contact is back, it is no longer current, and it stays on record
    assert admin("GET", "/schedules/cardio/on-call")[1]["contact_ids"] == ["C-2"]
    assert admin("GET", "/schedules/cardio/overrides")[1]["overrides"] == []
    past = admin("GET", "/schedules/cardio/overrides", query={"include_past": "true"})[1]["overrides"]
    assert [(o["override_id"], o["start"], o["end"]) for o in past] == [
        (override_id, "2026-12-08T09:00:00.000Z", "2026-12-08T10:00:00.000Z")
    ]
    # And the history says so; deleting it again changes nothing
    assert admin("DELETE", f"/schedules/cardio/overrides/{override_id}")[0] == 204
    changes = admin("GET", "/schedules/cardio/history")[1]["changes"]
    assert changes[-1]["action"] == "replaced" and changes[-1]["after"]["end"] == "2026-12-08T10:00:00.000Z"
    assert changes[-1]["before"]["end"] == "2026-12-08T14:00:00.000Z"
    # And a new one may start where it now ends
    assert add({**NOON, "start": "2026-12-08T10:00:00Z"})[0] == 201


def test_deleting_an_override_to_come_removes_it(walk: Walk) -> None:
    override_id = add(NOON)[1]["override_id"]
    assert admin("DELETE", f"/schedules/cardio/overrides/{override_id}")[0] == 204
    assert admin("GET", "/schedules/cardio/overrides", query={"include_past": "true"})[1]["overrides"] == []
    assert admin("GET", "/schedules/cardio/history")[1]["changes"][-1]["action"] == "deleted"
    status, body = admin("DELETE", f"/schedules/cardio/overrides/{override_id}")
    assert (status, body["error"]["field"]) == (404, "override_id")


def test_listing_gives_those_running_or_to_come_by_start_or_every_one(
    walk: Walk, monkeypatch: pytest.MonkeyPatch
) -> None:
    late = add({**NOON, "start": "2026-12-09T12:00:00Z", "end": "2026-12-09T13:00:00Z"})[1]["override_id"]
    early = add({**NOON, "start": "2026-12-08T10:30:00Z", "end": "2026-12-08T11:00:00Z"})[1]["override_id"]
    assert [o["override_id"] for o in admin("GET", "/schedules/cardio/overrides")[1]["overrides"]] == [early, late]
    monkeypatch.setattr(clock, "time", lambda: NOW + 3600)  # 11:00: the early one is over
    assert [o["override_id"] for o in admin("GET", "/schedules/cardio/overrides")[1]["overrides"]] == [late]
    every = admin("GET", "/schedules/cardio/overrides", query={"include_past": "true"})[1]["overrides"]
    assert [o["override_id"] for o in every] == [early, late]
    assert admin("GET", "/schedules/cardio/overrides", query={"include_past": "maybe"})[0] == 400


def test_two_overrides_written_at_once_cannot_both_pass_the_overlap_check(walk: Walk) -> None:
    # Given two writers that both read the overrides' version before either wrote
    seen = schedules.lock_version("cardio")
    entry = audit.Entry("schedule#cardio", "ops", clock.stamp(), None, {"override_id": "x"})
    window = Override(clock.parse(NOON["start"]), clock.parse(NOON["end"]), ("C-3",))
    # When both write
    first = schedules.add_override_audited("cardio", StoredOverride("a1", window, clock.stamp()), seen, entry)
    second = schedules.add_override_audited("cardio", StoredOverride("b2", window, clock.stamp()), seen, entry)
    # Then only the first is written; the second must read again (and would then see the first)
    assert (first, second) == (True, False)
    assert [o.override_id for o in schedules.overrides("cardio")] == ["a1"]
    assert schedules.lock_version("cardio") == seen + 1
