"""Once an alert is acknowledged, everyone else Clarion reached for it by SMS or email gets one line saying who took
it (by email: tests/integration/test_fence.py)."""

from __future__ import annotations

from typing import Any

import pytest

from clarion.domain.escalation import Policy, Stage
from tests.integration.walk import Walk

# C-2 (SMS first) and C-4 (email only) cover for C-1.
COVER = Policy("cover", "Cover", (Stage(("C-2", "C-4"), 300),))


@pytest.fixture
def walk(clarion: Any) -> Walk:
    w = Walk(clarion)
    w.given_contacts_and_policy(COVER)
    return w


def sms_to(clarion: Any, number: str) -> list[str]:
    return [m["text"] for m in clarion.outbox if m["channel"] == "sms" and m["destination"] == number]


def test_the_others_reached_by_sms_learn_once_who_took_the_alert(walk: Walk, clarion: Any, monkeypatch) -> None:
    # Given a medium alert texted to C-1, escalated to C-2 (texted) and C-4 (emailed)
    walk.post_alert(priority="M", escalation_policy_id="cover")
    walk.route_all()
    walk.fire(0, walk.window_end(0), monkeypatch=monkeypatch)
    walk.route_all()
    # When C-2 acknowledges, and the router handles what that queued
    assert walk.answer("ack", "C-2")[0] == 200
    walk.route_all()
    # Then C-1, reached by SMS, gets one line naming C-2; C-2 itself gets nothing more (C-4, emailed, gets an email)
    notices = [t for t in sms_to(clarion, "+447700900101") if "taken by" in t]
    assert (
        notices
        and notices[0].startswith("Clarion: taken by Nurse Ben, ")
        and notices[0].endswith("UTC. No action needed from you.")
    )
    assert len(notices) == 1
    assert not [t for t in sms_to(clarion, "+447700900102") if "taken by" in t]
    # And a second acknowledgement or a repeated request tells nobody twice
    walk.answer("ack", "C-1")
    walk.route_all()
    from clarion.usecases import notify_taken
    from clarion.usecases.notify_taken import TakenRequest

    notify_taken.notify(TakenRequest("lab-system", walk.message_id, "C-2", "x"))
    assert len([t for t in sms_to(clarion, "+447700900101") if "taken by" in t]) == 1


def test_no_notice_follows_a_decline(walk: Walk, clarion: Any) -> None:
    walk.post_alert(priority="M", escalation_policy_id="cover")
    walk.route_all()
    walk.answer("decline", "C-1")
    walk.route_all()
    assert not [t for t in clarion.outbox if "taken by" in (t.get("text") or "")]


def test_the_notice_can_be_switched_off(walk: Walk, clarion: Any, monkeypatch) -> None:
    from clarion.shared import settings

    monkeypatch.setenv("NOTIFY_ON_ACK", "false")
    settings.settings.cache_clear()
    walk.post_alert(priority="M", escalation_policy_id="cover")
    walk.route_all()
    walk.fire(0, walk.window_end(0), monkeypatch=monkeypatch)
    walk.route_all()
    walk.answer("ack", "C-2")
    assert walk.route_all() == []
    assert not [t for t in clarion.outbox if "taken by" in (t.get("text") or "")]
