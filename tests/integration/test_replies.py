"""Acknowledging from the phone, in-process against the emulator: two-way SMS replies (through the real inbound
topic and replies queue) and the call's keypress (the contact flow's event to the keypress function). What guards
the replies (the wrong-code lock, opt-outs) is `test_reply_guards`."""

from __future__ import annotations

import time
from typing import Any

import pytest

from clarion import names
from clarion.adapters import reply_codes
from clarion.domain.models import Alert, Priority
from clarion.handlers import keypress
from clarion.shared import settings
from clarion.usecases import read_reply
from clarion_local.receipts import flow_event
from tests.helpers import FakeContext
from tests.integration.sms_replies import ADA, BEN, alert_to, reply, texts_to, use_two_way
from tests.integration.walk import Walk


@pytest.fixture
def two_way(clarion: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    return use_two_way(clarion, monkeypatch)


@pytest.mark.parametrize("text", ["{code}", "ack {code}", " ACK  {code} ", "Ok {code}.", "yes {code}!"])
def test_a_reply_with_the_code_acknowledges_for_that_contact_and_is_confirmed(two_way, text):
    # Given an alert whose SMS told Ben to reply with its code
    walk = Walk(two_way, message_id="sms-ack")
    walk.given_contacts_and_policy(None)
    code = alert_to(walk, "C-2")
    assert f"Reply {code} to acknowledge, or open http" in texts_to(two_way, BEN)[0]
    # When Ben replies
    reply(two_way, BEN, text.format(code=code))
    # Then the alert is acknowledged by Ben via SMS, and Ben is told so in one line
    ack = walk.get()["ack"]
    assert (walk.get()["status"], ack["acknowledged_by"], ack["via"]) == ("acknowledged", "C-2", "sms")
    assert texts_to(two_way, BEN)[-1] == f"Clarion: {code} acknowledged. Thank you."


def test_by_default_a_reply_without_the_code_acknowledges_nothing_and_asks_for_it(two_way):
    # Given one open alert texted to Ben (SMS senders can be spoofed: `sms_bare_ack` is off by default)
    assert two_way.env[names.ENV_SMS_BARE_ACK] == "false"
    walk = Walk(two_way, message_id="bare-off")
    walk.given_contacts_and_policy(None)
    code = alert_to(walk, "C-2")
    # When Ben replies ACK, or "a", without the code
    for text in ("ACK", "a"):
        reply(two_way, BEN, text)
        # Then nothing is acknowledged, and Ben is asked for the code (naming none, and nothing of the alert)
        answer = texts_to(two_way, BEN)[-1]
        assert answer == "Clarion: nothing was recorded. A reply needs the alert's code, e.g. ACK 482193 or NO 482193."
        assert code not in answer and walk.get()["status"] != "acknowledged"
    # And the code acknowledges
    reply(two_way, BEN, f"a {code}")
    assert walk.get()["status"] == "acknowledged"


def test_with_sms_bare_ack_on_a_bare_ack_counts_only_when_one_alert_is_open_for_the_number(two_way, monkeypatch):
    monkeypatch.setenv(names.ENV_SMS_BARE_ACK, "true")
    settings.settings.cache_clear()
    # Given two open alerts texted to Ben
    first, second = Walk(two_way, message_id="bare-1"), Walk(two_way, message_id="bare-2")
    first.given_contacts_and_policy(None)
    code_1, code_2 = alert_to(first, "C-2"), alert_to(second, "C-2")
    assert code_1 != code_2  # unique among the number's open alerts
    # When Ben replies a bare ACK, Clarion asks which (naming neither), and nothing is acknowledged
    reply(two_way, BEN, "ACK")
    assert (
        texts_to(two_way, BEN)[-1]
        == "Clarion: more than one alert is open for you. Reply with its code, e.g. ACK 482193."
    )
    assert code_1 not in texts_to(two_way, BEN)[-1] and code_2 not in texts_to(two_way, BEN)[-1]
    assert first.get()["status"] != "acknowledged" and second.get()["status"] != "acknowledged"
    # And once one is acknowledged by its code, a bare ACK acknowledges the other
    reply(two_way, BEN, f"ack {code_1}")
    reply(two_way, BEN, "ack")
    assert first.get()["status"] == second.get()["status"] == "acknowledged"


def test_no_with_the_code_declines_and_the_next_stage_starts(two_way, monkeypatch):
    # Given an alert to Ada whose ward policy covers with Ben
    walk = Walk(two_way, message_id="sms-decline")
    walk.given_contacts_and_policy()
    code = alert_to(walk, "C-1", priority="M", escalation_policy_id="ward-7b")
    # When Ada replies NO with the code
    reply(two_way, ADA, f"NO {code}")
    # Then Ada declined by SMS, and the escalator is asked to move on at once
    (decline,) = walk.get()["declines"]
    assert (decline["contact_id"], decline["via"]) == ("C-1", "sms")
    assert texts_to(two_way, ADA)[-1] == f"Clarion: {code} declined. It passes to the next person now."
    assert walk.timers_due_now()


def test_an_unknown_code_or_a_stranger_acknowledges_nothing_and_reveals_nothing(two_way):
    walk = Walk(two_way, message_id="sms-stranger")
    walk.given_contacts_and_policy(None)
    code = alert_to(walk, "C-2")
    other = "123456" if code != "123456" else "654321"
    # A wrong code from Ben: nothing acknowledged, and the answer names no alert
    reply(two_way, BEN, f"ack {other}")
    assert walk.get()["status"] != "acknowledged"
    assert texts_to(two_way, BEN)[-1].startswith("Clarion: no open alert has that code")
    # Ben's code from another number (not a contact's): nothing acknowledged, and no answer at all
    sent = len(two_way.outbox)
    reply(two_way, "+447700900999", f"ack {code}")
    assert walk.get()["status"] != "acknowledged" and len(two_way.outbox) == sent
    # STOP and HELP are the carrier's: Clarion sends nothing and changes nothing
    for word in ("STOP", "help"):
        reply(two_way, BEN, word)
    assert walk.get()["status"] != "acknowledged" and len(two_way.outbox) == sent


def test_replies_are_throttled_per_number(two_way):
    walk = Walk(two_way, message_id="sms-flood")
    walk.given_contacts_and_policy(None)
    code = alert_to(walk, "C-2")
    for _ in range(read_reply.REPLIES_PER_WINDOW):
        reply(two_way, BEN, "what?")
    answered = len(texts_to(two_way, BEN))
    # Over the limit, even the right code is dropped unanswered
    reply(two_way, BEN, f"ack {code}")
    assert walk.get()["status"] != "acknowledged"
    assert len(texts_to(two_way, BEN)) == answered


def test_no_log_line_holds_a_number_a_code_or_a_text(two_way, capsys):
    walk = Walk(two_way, message_id="sms-quiet")
    walk.given_contacts_and_policy(None)
    code = alert_to(walk, "C-2")
    capsys.readouterr()
    reply(two_way, BEN, f"ack {code} please ring me")
    reply(two_way, BEN, f"ack {code}")
    logged = capsys.readouterr().out
    assert "Reply handled" in logged
    assert [s for s in (BEN, code, "please ring me", "Potassium") if s in logged] == []


# --- the call's keypress -------------------------------------------------------------------------


def _called(walk: Walk, clarion: Any) -> str:
    """Post a high-priority alert to Ada and route it: the call's contact id."""
    status, _ = walk.post_alert(priority="H", contact_id="C-1")
    assert status == 202
    walk.route_all()
    (call,) = [e for e in clarion.outbox if e["channel"] == "call"]
    return str(call["provider_id"])


def press(contact_id: str, digit: str) -> dict[str, str]:
    arn = "arn:aws:connect:eu-west-2:123456789012:instance/i-1"
    return keypress.handler(flow_event(contact_id, arn, digit), FakeContext())


def test_pressing_1_acknowledges_via_the_call(two_way):
    walk = Walk(two_way, message_id="call-1")
    walk.given_contacts_and_policy(None)
    contact_id = _called(walk, two_way)
    assert press(contact_id, "1") == {"result": "acknowledged"}
    view = walk.get()
    assert (view["status"], view["ack"]["via"], view["ack"]["acknowledged_by"]) == ("acknowledged", "call", "C-1")
    assert [(a["channel"], a["outcome"], a["receipt"]) for a in view["attempts"]] == [
        ("call", "delivered", "KEYPRESS_1")
    ]


def test_pressing_3_declines_and_no_key_moves_to_the_next_channel(two_way):
    declined = Walk(two_way, message_id="call-3")
    declined.given_contacts_and_policy(None)
    assert press(_called(declined, two_way), "3") == {"result": "declined"}
    assert [d["via"] for d in declined.get()["declines"]] == ["call"]
    # No key: the attempt is no_answer and the router sends the next channel (Ada's SMS) at once
    silent = Walk(two_way, message_id="call-none")
    two_way.bridge.reset()
    contact_id = _called(silent, two_way)
    assert press(contact_id, "none") == {"result": "no_answer"}
    silent.route_all()
    attempts = [(a["channel"], a["outcome"]) for a in silent.get()["attempts"]]
    assert attempts == [("call", "no_answer"), ("sms", "sent")]


def test_a_keypress_for_a_call_clarion_never_made_or_twice_changes_nothing(two_way):
    assert press("00000000-0000-0000-0000-000000000000", "1") == {"result": "unknown"}
    walk = Walk(two_way, message_id="call-twice")
    walk.given_contacts_and_policy(None)
    contact_id = _called(walk, two_way)
    press(contact_id, "1")
    before = walk.get()
    # The same report again, or a contradicting one, leaves the attempt and the acknowledgement as they were
    press(contact_id, "none")
    after = walk.get()
    assert after["ack"] == before["ack"] and after["attempts"] == before["attempts"]


@pytest.mark.parametrize("first", ["reply", "timer"])
def test_a_reply_racing_the_stage_timer_ends_with_one_acknowledgement_and_no_stage_after_it(
    two_way, monkeypatch, first
):
    # Given an alert to Ada, covered by Ben after Ada's window
    walk = Walk(two_way, message_id=f"race-{first}")
    walk.given_contacts_and_policy()
    code = alert_to(walk, "C-1", priority="M", escalation_policy_id="ward-7b")
    end = walk.window_end(0)
    # When Ada's reply and the window's end arrive in either order
    if first == "reply":
        reply(two_way, ADA, code)
        walk.fire(0, end, monkeypatch=monkeypatch)
    else:
        walk.fire(0, end, monkeypatch=monkeypatch)
        walk.route_all()  # Ben is texted
        reply(two_way, ADA, code)
    walk.route_all()
    view = walk.get()
    # Then Ada's acknowledgement stands; the next stage started only if the window ended first
    assert (view["status"], view["ack"]["acknowledged_by"], view["ack"]["via"]) == ("acknowledged", "C-1", "sms")
    assert [s["stage"] for s in view["stages"]] == ([0] if first == "reply" else [0, 1])
    # And nobody reached after the acknowledgement is sent the alert itself again
    escalated = [e for e in two_way.outbox if e["channel"] == "sms" and e["destination"] == BEN]
    assert len(escalated) == (0 if first == "reply" else 2)  # Ben: the stage's SMS, then "taken by Dr Ada"
    if escalated:
        assert escalated[-1]["text"].startswith("Clarion: taken by Dr Ada")


def test_codes_are_reused_for_the_same_alert_and_unique_among_a_numbers_alerts_when_claims_race(two_way, monkeypatch):
    def alert(n: int, recipient: str = "C-2") -> Alert:
        return Alert("lab", f"m-{n}", "t", "C-2", "d", Priority.MEDIUM, "2026-01-01T00:00:00Z", (), recipient)

    number = "+447700900555"
    # Ten alerts texted to one number each get their own code
    codes = [reply_codes.code_for(alert(n), number) for n in range(10)]
    assert len(set(codes)) == 10
    assert all(len(c) == 6 and c.isdigit() and c[0] != "0" for c in codes)
    # A retry or a second SMS of the same alert to the same contact keeps its code
    assert reply_codes.code_for(alert(3), number) == codes[3]
    # A claim that raced another (it read the number's codes before the other's write) is refused and tries again
    real = reply_codes.entries
    reads: list[str] = []

    def stale_once(n: str) -> dict[str, reply_codes.Entry]:
        reads.append(n)
        return {} if len(reads) == 1 else real(n)

    monkeypatch.setattr(reply_codes, "entries", stale_once)
    raced = reply_codes.code_for(alert(50), number)
    monkeypatch.setattr(reply_codes, "entries", real)
    assert len(reads) == 2 and raced not in codes
    # And every code maps back to its alert and contact
    entries = reply_codes.entries(number)
    assert {code: entries[code].message_id for code in codes} == {code: f"m-{n}" for n, code in enumerate(codes)}
    # Entries older than an alert can be answered are dropped when the next code is given
    later = reply_codes.code_for(alert(99), number, now=time.time() + reply_codes.KEEP_S + 60)
    assert set(reply_codes.entries(number)) == {later}
