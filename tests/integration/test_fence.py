"""The fence before every send, and the alert's commit order: an acknowledgement that commits before a send's
fence stops it; a send fenced first is on record before the acknowledgement and its recipient hears who took the
alert; times never go backwards along the order, whatever the delays and clocks of the writers."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from clarion.adapters import commits, delivery_log, escalations
from clarion.adapters.commits import Change
from clarion.domain.escalation import Policy, Stage
from clarion.shared import clock
from clarion.usecases import answer_alert, deliver_alert
from clarion.usecases.answer_alert import Answer
from tests.integration.walk import Walk

# C-2 (SMS first) and C-4 (email only) cover for C-1.
COVER = Policy("cover", "Cover", (Stage(("C-2", "C-4"), 300),))


@pytest.fixture
def walk(clarion: Any) -> Walk:
    w = Walk(clarion)
    w.given_contacts_and_policy(COVER)
    return w


def _escalate_to_cover(walk: Walk, monkeypatch: Any) -> None:
    """A medium alert texted to C-1, whose window ends: stage 1 (C-2 by SMS, C-4 by email) is queued."""
    walk.post_alert(priority="M", escalation_policy_id="cover")
    walk.route_all()
    walk.fire(0, walk.window_end(0), monkeypatch=monkeypatch)


def _sends_to(clarion: Any, destination: str) -> list[dict[str, Any]]:
    return [m for m in clarion.outbox if m["destination"] == destination]


def test_an_acknowledgement_just_before_the_fence_sends_nothing(walk: Walk, clarion: Any, monkeypatch) -> None:
    # Given stage 1 is queued, and C-1 acknowledges while the router is about to fence C-2's SMS
    _escalate_to_cover(walk, monkeypatch)
    fence = escalations.fence

    def acknowledged_first(alert: Any, *args: Any) -> Any:
        if alert.recipient == "C-2":
            answer_alert.answer(Answer.ACKNOWLEDGE, walk.client_id, walk.message_id, "C-1", "api")
        return fence(alert, *args)

    monkeypatch.setattr(deliver_alert.escalations, "fence", acknowledged_first)
    # When the router handles the stage's deliveries
    walk.route_all()
    # Then nothing goes to C-2: no attempt is on record for it, and no provider request was made
    assert not [m for m in _sends_to(clarion, "+447700900102") if "taken by" not in (m.get("text") or "")]
    record = walk.record()
    assert not [a for a in record.attempts if a.contact_id == "C-2"]
    assert record.ack is not None and record.ack["contact_id"] == "C-1"


def test_a_send_fenced_just_before_the_acknowledgement_is_ordered_before_it_and_hears_who_took_it(
    walk: Walk, clarion: Any, monkeypatch
) -> None:
    # Given stage 1 is queued, and C-1 acknowledges after C-2's SMS was fenced but before its provider request
    _escalate_to_cover(walk, monkeypatch)
    send = deliver_alert.channels.send

    def acknowledged_meanwhile(channel: Any, alert: Any, *args: Any) -> Any:
        if alert.recipient == "C-2":
            answer_alert.answer(Answer.ACKNOWLEDGE, walk.client_id, walk.message_id, "C-1", "api")
        return send(channel, alert, *args)

    monkeypatch.setattr(deliver_alert.channels, "send", acknowledged_meanwhile)
    # When the router handles the deliveries and then the "taken" request the acknowledgement queued
    walk.route_all()
    walk.route_all()
    # Then C-2's SMS went out and is on record before the acknowledgement, in the alert's order
    view = walk.get()
    [sms] = [a for a in view["attempts"] if a["contact_id"] == "C-2"]
    assert sms["outcome"] == "sent"
    assert sms["seq"] < view["ack"]["seq"]
    # And C-2 hears once who took it, by SMS
    notices = [m["text"] for m in _sends_to(clarion, "+447700900102") if "taken by" in (m.get("text") or "")]
    assert notices == [notices[0]] and notices[0].startswith("Clarion: taken by Dr Ada, ")


def test_the_others_reached_by_email_hear_who_took_it_by_email(walk: Walk, clarion: Any, monkeypatch) -> None:
    # Given stage 1 reached C-2 by SMS and C-4 by email
    _escalate_to_cover(walk, monkeypatch)
    walk.route_all()
    # When C-2 acknowledges
    assert walk.answer("ack", "C-2")[0] == 200
    walk.route_all()
    # Then C-4 gets one email with the taken template, naming C-2; C-1 (reached by SMS) one SMS
    emails = [m for m in _sends_to(clarion, "pharmacy@example.org") if m["template_data"].get("subject") != "x"]
    taken = [m for m in emails if "taken by Nurse Ben" in m["template_data"].get("body", "")]
    assert len(taken) == 1 and taken[0]["template"] and "taken" in taken[0]["template"].lower()
    assert len([m for m in _sends_to(clarion, "+447700900101") if "taken by" in (m.get("text") or "")]) == 1


def test_times_never_go_backwards_along_the_order_whatever_the_writers_delays_and_clocks(
    walk: Walk, monkeypatch
) -> None:
    # Given an alert, and 24 writers whose clocks are up to 0.4 s apart and who stall up to 20 ms between
    # stamping their event and writing it
    walk.post_alert(priority="M")
    table = delivery_log.table()
    update = table.update_item
    skew = threading.local()
    real_time = time.time

    one_at_a_time = threading.Lock()  # in-process moto copies an item unlocked while another thread writes it

    def stalled(**request: Any) -> Any:
        time.sleep(random.uniform(0, 0.02))  # between the stamp and the write: the race under test
        with one_at_a_time:
            return update(**request)

    monkeypatch.setattr(table, "update_item", stalled)
    monkeypatch.setattr(clock, "time", lambda: real_time() + getattr(skew, "offset", 0.0))

    def write(n: int) -> commits.Committed | None:
        skew.offset = random.uniform(-0.2, 0.2)
        return commits.commit(
            walk.client_id,
            walk.message_id,
            lambda seq, at: Change(
                sets=[f"probe.#w{n} = :e"],
                condition="attribute_exists(pk)",
                names={f"#w{n}": str(n)},
                values={":e": {"seq": seq, "at": at}},
            ),
        )

    monkeypatch.setattr(delivery_log, "table", lambda: table)
    table.update_item(
        Key={"pk": delivery_log.alert_key(walk.client_id, walk.message_id), "sk": delivery_log.ALERT_SK},
        UpdateExpression="SET probe = :m",
        ExpressionAttributeValues={":m": {}},
    )
    # When they all write at once
    with ThreadPoolExecutor(8) as pool:
        committed = [c for c in pool.map(write, range(24)) if c is not None]
    # Then every event has its own number, and in that order the times never go backwards
    assert sorted(c.seq for c in committed) == list(range(1, 25))
    stored = table.get_item(Key={"pk": delivery_log.alert_key(walk.client_id, walk.message_id), "sk": "ALERT"})
    events = sorted(stored["Item"]["probe"].values(), key=lambda e: int(e["seq"]))
    times = [clock.epoch(str(e["at"])) for e in events]
    assert times == sorted(times)


def test_a_decline_while_the_escalator_waits_out_the_window_is_decided_on_again(
    clarion: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clarion.domain.timers import Timer
    from clarion.usecases import advance_walk

    # Given an alert whose next stage is C-1 (the addressee) again and C-2, its timer handed over 0.5 s early
    walk = Walk(clarion)
    walk.given_contacts_and_policy(Policy("again", "Again", (Stage(("C-1", "C-2"), 300),)))
    walk.post_alert(escalation_policy_id="again")
    walk.route_all()
    end = walk.window_end(0)
    now = [end - 0.5]
    monkeypatch.setattr(clock, "time", lambda: now[0])

    def c1_declines_meanwhile(seconds: float) -> None:
        answer_alert.answer(Answer.DECLINE, walk.client_id, walk.message_id, "C-1", "api")
        now[0] += seconds

    monkeypatch.setattr(advance_walk, "sleep", c1_declines_meanwhile)
    # When the escalator, having read the alert, waits out the window while C-1 declines, then decides
    advance_walk.advance(Timer(walk.client_id, walk.message_id, 0, end), 1)
    # Then its write finds the alert changed, it decides again, and stage 1 notifies C-2 alone, never C-1 again
    [stage_1] = [s for s in walk.get()["stages"] if s["stage"] == 1]
    assert stage_1["contact_ids"] == ["C-2"]
    assert [d["recipient"] for d in walk.deliveries()] == ["C-2"]
