"""The closed loop in-process: acceptance with a path, acknowledgement and decline by API, stages started by the
escalator, early escalation, the end, races and crashes."""

from __future__ import annotations

import re
from typing import Any

import pytest

from clarion.adapters import queue
from clarion.shared import clock
from clarion.usecases import advance_walk
from tests.integration.walk import WARD, Walk


@pytest.fixture
def walk(clarion: Any) -> Walk:
    w = Walk(clarion)
    w.given_contacts_and_policy()
    return w


def test_a_high_priority_alert_is_accepted_with_its_path_and_the_addressee_window_queued(walk: Walk) -> None:
    # Given C-1 and a ward policy
    # When a high-priority alert for C-1 names the policy
    status, body = walk.post_alert(escalation_policy_id="ward-7b")
    # Then it is accepted, its walk is recorded at stage 0, and one delayed timer waits for the window's end
    assert status == 202, body
    view = walk.get()
    assert view["ack"] == {
        "required": True,
        "acknowledged_by": None,
        "acknowledged_at": None,
        "via": None,
        "time_to_ack_s": None,
        "target_s": 1800,
        "within_target": None,
        "after_end": False,
        "seq": None,
    }
    assert [(s["stage"], s["contact_ids"], s["seq"]) for s in view["stages"]] == [(0, ["C-1"], 0)]
    assert view["escalation_policy_id"] == "ward-7b"
    assert [s.contact_ids for s in walk.record().path] == [("C-1",), ("C-2",), ("C-3", "C-4")]
    assert walk.delayed_timers() == 1
    assert [d["recipient"] for d in walk.deliveries()] == ["C-1"]


def test_the_contacts_policy_is_used_when_the_alert_names_none(walk: Walk) -> None:
    status, _ = walk.admin(
        "PUT", "/contacts/C-1", {"name": "Dr Ada", "email": "ada@example.org", "escalation_policy_id": "ward-7b"}
    )
    assert status == 200
    assert walk.post_alert()[0] == 202
    assert walk.get()["escalation_policy_id"] == "ward-7b"


def test_a_low_priority_alert_needs_no_acknowledgement(walk: Walk) -> None:
    assert walk.post_alert(priority="L")[0] == 202
    assert walk.get()["ack"]["required"] is False
    assert walk.delayed_timers() == 0
    status, body = walk.answer("ack", "C-1")
    assert (status, body["error"]["code"]) == (409, "ack_not_expected")


def test_an_alert_naming_an_unknown_policy_is_refused(walk: Walk) -> None:
    status, body = walk.post_alert(escalation_policy_id="no-such-policy")
    assert status == 422
    assert (body["error"]["code"], body["error"]["field"]) == ("unknown_policy", "escalation_policy_id")


def test_the_addressee_acknowledges_through_the_api(walk: Walk, clarion: Any) -> None:
    # Given an alert delivered to C-1
    walk.post_alert(escalation_policy_id="ward-7b")
    walk.route_all()
    assert walk.get()["status"] == "delivered"
    # When the clinical system records that C-1 acknowledged
    status, body = walk.answer("ack", "C-1")
    # Then the alert is acknowledged by C-1 via the API, within target, and an event says so
    assert status == 200
    assert body["status"] == "acknowledged"
    assert (body["ack"]["acknowledged_by"], body["ack"]["via"], body["ack"]["within_target"]) == ("C-1", "api", True)
    assert 0 <= body["ack"]["time_to_ack_s"] < 60
    assert body["time_to_first_delivery_s"] is not None
    acked = [e["message"] for e in clarion.events() if e["message"]["status"] == "acknowledged"]
    assert len(acked) == 1 and acked[0]["acknowledged_by"] == "C-1" and acked[0]["via"] == "api"
    # And a second acknowledgement changes nothing; somebody never notified is refused
    again = walk.answer("ack", "C-1")
    assert again[0] == 200 and again[1]["ack"]["acknowledged_at"] == body["ack"]["acknowledged_at"]
    status, refused = walk.answer("ack", "C-2")
    assert (status, refused["error"]["code"], refused["error"]["field"]) == (422, "not_a_recipient", "contact_id")
    # And every time the answer holds is in Clarion's one format
    times = list(times_in(body))
    assert len(times) >= 5 and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", t) for t in times), times


def times_in(value: Any, key: str = "") -> Any:
    """Every value under a key that names a time (`at`, `*_at`) anywhere in an API answer."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from times_in(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from times_in(v, key)
    elif value is not None and (key == "at" or key.endswith("_at")):
        yield value


def test_an_unknown_alert_cannot_be_acknowledged(walk: Walk) -> None:
    status, body = walk.answer("ack", "C-1")
    assert (status, body["error"]["code"]) == (404, "not_found")


def test_when_the_window_ends_the_next_stage_is_notified_by_its_own_channels(walk: Walk, clarion: Any, monkeypatch):
    # Given C-1 was reached and did not answer
    walk.post_alert(escalation_policy_id="ward-7b")
    walk.route_all()
    # When the escalator wakes at the end of C-1's window
    walk.fire(0, walk.window_end(0), monkeypatch=monkeypatch)
    # Then stage 1 (C-2) has started: its delivery is queued and its own window's timer too
    record = walk.record()
    assert record.stage == 1
    [delivery] = walk.route_all()
    assert (delivery["recipient"], delivery["stage"], delivery["plan"]) == ("C-2", 1, ["sms", "email"])
    sms = [m for m in clarion.outbox if m["destination"] == "+447700900102"]
    assert len(sms) == 1 and "/l/" in sms[0]["text"], "the SMS carries the acknowledgement link"
    assert walk.delayed_timers() == 2
    view = walk.get()
    assert [(s["stage"], s["contact_ids"]) for s in view["stages"]] == [(0, ["C-1"]), (1, ["C-2"])]
    assert {(a["contact_id"], a["stage"]) for a in view["attempts"]} == {("C-1", 0), ("C-2", 1)}
    escalated = [e["message"] for e in clarion.events() if e["message"]["status"] == "escalated"]
    assert escalated == [{**escalated[0], "stage": 1, "contact_ids": ["C-2"]}]
    # And the stage's contact can acknowledge; the alert names who
    assert walk.answer("ack", "C-2")[1]["ack"]["acknowledged_by"] == "C-2"


def test_a_timer_before_the_window_ends_starts_nothing(walk: Walk, monkeypatch) -> None:
    walk.post_alert(escalation_policy_id="ward-7b")
    walk.route_all()
    walk.fire(0, walk.window_end(0) - 10, monkeypatch=monkeypatch)
    assert walk.record().stage == 0


def test_after_an_acknowledgement_nobody_further_is_notified(walk: Walk, monkeypatch) -> None:
    # Given C-1 acknowledged before its window ended
    walk.post_alert(escalation_policy_id="ward-7b")
    walk.route_all()
    walk.answer("ack", "C-1")
    # When the window's timer fires
    walk.fire(0, walk.window_end(0), monkeypatch=monkeypatch)
    # Then no stage starts and no delivery is queued (only the request to tell the others it is taken)
    assert walk.record().stage == 0
    assert [d.get("kind", "delivery") for d in walk.route_all()] == ["taken"]


def test_a_stage_is_started_once_even_when_its_timer_comes_twice(walk: Walk, monkeypatch) -> None:
    walk.post_alert(escalation_policy_id="ward-7b")
    walk.route_all()
    end = walk.window_end(0)
    walk.fire(0, end, monkeypatch=monkeypatch)
    walk.fire(0, end + 0.5, monkeypatch=monkeypatch)
    assert [d["recipient"] for d in walk.route_all()] == ["C-2"]
    assert [s["stage"] for s in walk.get()["stages"]] == [0, 1]


def test_a_decline_by_everyone_in_the_stage_escalates_at_once(walk: Walk, clarion: Any, monkeypatch) -> None:
    # Given C-1 was reached
    walk.post_alert(escalation_policy_id="ward-7b")
    walk.route_all()
    # When C-1 declines ("not my patient")
    status, body = walk.answer("decline", "C-1", reason="not my patient")
    assert status == 200
    assert body["declines"][0]["contact_id"] == "C-1" and body["declines"][0]["reason"] == "not my patient"
    # Then the escalator is asked to look now, and starts stage 1 long before C-1's window ends
    [check] = walk.timers_due_now()
    walk.fire(check.stage, check.due, monkeypatch=monkeypatch)
    assert walk.record().stage == 1
    assert [d["recipient"] for d in walk.route_all()] == ["C-2"]
    declined = [e["message"] for e in clarion.events() if e["message"]["status"] == "declined"]
    assert len(declined) == 1 and "reason" not in declined[0], "the reason's free text stays out of events"


def test_a_decline_after_the_acknowledgement_changes_nothing(walk: Walk) -> None:
    walk.post_alert(escalation_policy_id="ward-7b")
    walk.route_all()
    walk.answer("ack", "C-1")
    status, body = walk.answer("decline", "C-1")
    assert status == 200 and body["declines"] == [] and body["status"] == "acknowledged"
    assert walk.timers_due_now() == []


def test_a_stage_whose_contacts_are_unreachable_escalates_at_once(walk: Walk, clarion: Any, monkeypatch) -> None:
    # Given C-1's every channel rejects the alert
    walk.post_alert(escalation_policy_id="ward-7b")
    for channel in ("call", "sms", "email"):
        clarion.bridge.add_fault(channel, "reject", count=1)
    walk.route_all()
    assert walk.record().reach[(0, "C-1")].value == "failed"
    # When the escalator looks (asked at once by the router)
    [check] = walk.timers_due_now()
    walk.fire(check.stage, check.due, monkeypatch=monkeypatch)
    # Then stage 1 starts without waiting out C-1's window
    assert walk.record().stage == 1


def test_after_the_last_stage_the_alert_is_unacknowledged_and_a_late_ack_is_still_recorded(
    walk: Walk, clarion: Any, monkeypatch
) -> None:
    walk.post_alert(escalation_policy_id="ward-7b")
    walk.route_all()
    for stage in (0, 1, 2):
        walk.fire(stage, walk.window_end(stage), monkeypatch=monkeypatch)
        walk.route_all()
    view = walk.get()
    assert view["status"] == "unacknowledged"
    assert [e["message"]["status"] for e in clarion.events()].count("unacknowledged") == 1
    # When C-3 acknowledges after the end, it is recorded for the audit and the status stays
    status, body = walk.answer("ack", "C-3")
    assert status == 200
    assert body["status"] == "unacknowledged"
    assert body["ack"]["acknowledged_by"] == "C-3" and body["ack"]["after_end"] is True


def test_an_alert_nobody_could_be_reached_for_ends_failed(walk: Walk, clarion: Any, monkeypatch) -> None:
    walk.post_alert()  # no policy: the addressee alone
    for channel in ("call", "sms", "email"):
        clarion.bridge.add_fault(channel, "reject", count=1)
    walk.route_all()
    [check] = walk.timers_due_now()
    walk.fire(check.stage, check.due, monkeypatch=monkeypatch)
    assert walk.get()["status"] == "failed"


def test_a_crash_after_a_stage_started_is_repaired_when_its_timer_comes_back(walk: Walk, monkeypatch) -> None:
    # Given the escalator dies after recording stage 1 and before queueing its deliveries
    walk.post_alert(escalation_policy_id="ward-7b")
    walk.route_all()
    end = walk.window_end(0)

    def crash(_: Any) -> None:
        raise ConnectionError("the function died")

    monkeypatch.setattr(queue, "enqueue_many", crash)
    with pytest.raises(ConnectionError):
        walk.fire(0, end, monkeypatch=monkeypatch)
    monkeypatch.undo()
    assert walk.record().stage == 1 and walk.route_all() == []
    # When the timer message comes back (received a second time)
    walk.fire(0, end + 1, receive_count=2, monkeypatch=monkeypatch)
    # Then stage 1's delivery goes out, once
    assert [d["recipient"] for d in walk.route_all()] == ["C-2"]


def test_a_first_receive_of_a_stale_timer_sends_nothing(walk: Walk, monkeypatch) -> None:
    walk.post_alert(escalation_policy_id="ward-7b")
    walk.route_all()
    walk.fire(0, walk.window_end(0), monkeypatch=monkeypatch)
    walk.route_all()
    walk.fire(0, walk.window_end(0) + 5, receive_count=1, monkeypatch=monkeypatch)
    assert walk.route_all() == []


def test_a_timer_far_from_due_goes_back_on_the_queue(walk: Walk, monkeypatch) -> None:
    from clarion.domain.timers import Timer

    walk.post_alert(escalation_policy_id="ward-7b")
    before = walk.delayed_timers()
    monkeypatch.setattr(clock, "time", lambda: 1_000.0)
    advance_walk.advance(Timer("lab-system", walk.message_id, 0, 1_000.0 + 3_600), 1)
    assert walk.delayed_timers() == before + 1
    assert walk.record().stage == 0


def test_the_path_is_fixed_when_the_alert_is_accepted(walk: Walk, monkeypatch) -> None:
    walk.post_alert(escalation_policy_id="ward-7b")
    walk.route_all()
    # When the policy is changed afterwards
    walk.admin(
        "PUT", "/escalation-policies/ward-7b", {"name": "New", "stages": [{"contact_ids": ["C-4"], "ack_within_s": 60}]}
    )
    walk.fire(0, walk.window_end(0), monkeypatch=monkeypatch)
    # Then the alert still walks the path it was accepted with
    assert [d["recipient"] for d in walk.route_all()] == ["C-2"]
    assert WARD.stages[0].contact_ids == ("C-2",)


@pytest.mark.parametrize(
    ("kind", "body", "field"),
    [
        ("ack", {}, "contact_id"),
        ("ack", {"contact_id": "bad id!"}, "contact_id"),
        ("ack", {"contact_id": "C-1", "via": "sms"}, "via"),
        ("decline", {"contact_id": "C-1", "reason": "x" * 201}, "reason"),
        ("decline", {"contact_id": "C-1", "reason": "two\nlines"}, "reason"),
        ("decline", {"contact_id": "C-1", "reason": ""}, "reason"),
    ],
)
def test_a_bad_answer_is_400_naming_the_field(walk: Walk, kind: str, body: dict[str, Any], field: str) -> None:
    from clarion.handlers import intake
    from tests.integration.api_events import api_event, call

    walk.post_alert()
    status, answer = call(intake.handler, api_event("POST", f"/alerts/{walk.message_id}/{kind}", body))
    assert status == 400 and answer["error"]["field"] == field, answer


def test_an_alert_with_a_malformed_policy_id_is_400_naming_it(walk: Walk) -> None:
    status, body = walk.post_alert(escalation_policy_id="no spaces allowed")
    assert status == 400 and body["error"]["field"] == "escalation_policy_id"


@pytest.mark.parametrize("step", ["enqueue_many", "schedule", "publish_walk"])
def test_the_escalator_dying_at_any_step_of_a_stage_start_still_notifies_the_stage_once(
    walk: Walk, clarion: Any, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    from clarion.adapters import events, timers

    # Given C-1 was reached, and the escalator dies at `step` while starting stage 1
    walk.post_alert(escalation_policy_id="ward-7b")
    walk.route_all()
    end = walk.window_end(0)
    target = {"enqueue_many": queue, "schedule": timers, "publish_walk": events}[step]
    real = getattr(target, step)

    def dies(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("the function died")

    with monkeypatch.context() as crash:
        crash.setattr(target, step, dies)
        with pytest.raises(ConnectionError):
            walk.fire(0, end, monkeypatch=crash)
    assert getattr(target, step) is real
    # When SQS gives the timer back and the router runs what was queued (before and after)
    walk.route_all()
    walk.fire(0, end + 1, receive_count=2, monkeypatch=monkeypatch)
    walk.route_all()
    # Then stage 1 started once, C-2 got exactly one message, and stage 1's window timer is queued
    assert [s["stage"] for s in walk.get()["stages"]] == [0, 1]
    assert len([m for m in clarion.outbox if m["destination"] == "+447700900102"]) == 1
    assert walk.delayed_timers() >= 2


def test_only_one_recipient_is_the_first_reached_even_when_two_are_reached_together(walk: Walk) -> None:
    from clarion.adapters import escalations
    from clarion.domain.escalation import Reach
    from clarion.domain.models import Alert

    walk.post_alert(escalation_policy_id="ward-7b")
    [message] = walk.deliveries()
    alert = Alert.from_message(message)
    at = "2026-01-01T00:00:01Z"
    # The write itself tells which reach was first: two deliveries that both read "nobody reached yet" cannot
    # both publish the first-delivery event and metric
    assert escalations.record_reach(alert.for_recipient("C-3", 2, ()), Reach.DELIVERED, at) is True
    assert escalations.record_reach(alert.for_recipient("C-4", 2, ()), Reach.DELIVERED, at) is False
    assert escalations.record_reach(alert, Reach.FAILED, at) is False
