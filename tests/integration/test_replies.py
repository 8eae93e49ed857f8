"""Acknowledging from the phone, in-process against the emulator: two-way SMS replies (through the real inbound
topic and replies queue) and the call's keypress (the contact flow's event to the keypress function)."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import boto3
import pytest

from clarion import names
from clarion.adapters import reply_codes
from clarion.domain.models import Alert, Priority
from clarion.handlers import keypress, replies
from clarion.shared import clients, clock, settings
from clarion.shared.observability import logger
from clarion.usecases import read_reply
from clarion_local.receipts import flow_event
from tests.helpers import FakeContext, sqs_record
from tests.integration.walk import CONTACTS, Walk

ADA, BEN = CONTACTS["C-1"].phone_sms, CONTACTS["C-2"].phone_sms
assert ADA and BEN


class _CurrentStdout:
    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.fixture
def two_way(clarion: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """SMS through End User Messaging, as the dev deployment has it (its identity and configuration set), and
    receipts awaited as deployed (nobody sends them here: an attempt stays `sent` until its answer)."""
    router_env = clarion.deployment.function_for(names.ROUTER_HANDLER).environment
    for key in (names.ENV_SMS_ORIGINATION, names.ENV_SMS_CONFIGURATION_SET, names.ENV_RECEIPT_TIMEOUTS):
        monkeypatch.setenv(key, router_env[key])
    settings.settings.cache_clear()
    monkeypatch.setattr(logger.registered_handler, "stream", _CurrentStdout())
    return clarion


def texts_to(clarion: Any, number: str) -> list[str]:
    return [e["text"] for e in clarion.outbox if e["channel"] == "sms" and e["destination"] == number]


def reply(clarion: Any, number: str, text: str) -> None:
    """The clinician's reply, as End User Messaging publishes it to the inbound topic, handed to the function."""
    inbound = {
        "originationNumber": number,
        "destinationNumber": "+12025550142",
        "messageKeyword": text.split()[0].upper() if text.split() else "",
        "messageBody": text,
        "inboundMessageId": "in-" + str(len(clarion.outbox)),
        "previousPublishedMessageId": None,
    }
    boto3.client("sns").publish(TopicArn=clarion.deployment.output("InboundSmsTopicArn"), Message=json.dumps(inbound))
    sqs = boto3.client("sqs")
    url = clarion.deployment.output("RepliesQueueUrl")
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert len(got) == 1  # it came through the topic's subscription, raw
    event = {"Records": [sqs_record(m, arn) for m in got]}
    assert replies.handler(event, FakeContext()) == {"batchItemFailures": []}
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])


def alert_to(walk: Walk, contact_id: str, priority: str = "M", **extra: Any) -> str:
    """Post an alert to `contact_id` and route it: the code its SMS carries."""
    status, _ = walk.post_alert(priority=priority, contact_id=contact_id, **extra)
    assert status == 202
    walk.route_all()
    number = CONTACTS[contact_id].phone_sms
    assert number
    (code,) = [c for c, e in reply_codes.entries(number).items() if e.message_id == walk.message_id]
    return code


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


def metric(out: str, name: str) -> float:
    """The total of the EMF metric `name` in the function's output `out`."""
    total = 0.0
    for line in out.splitlines():
        if '"_aws"' in line and f'"{name}"' in line:
            value = json.loads(line)[name]
            total += sum(value) if isinstance(value, list) else value
    return total


def warnings_in(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if '"level":"WARNING"' in line.replace(" ", "")]


def test_stop_from_a_clinicians_number_counts_an_opt_out_naming_the_contact_but_not_the_number(two_way, capsys):
    # Given Ben, texted an alert, who has already sent as many replies as the throttle allows
    walk = Walk(two_way, message_id="sms-stop")
    walk.given_contacts_and_policy(None)
    alert_to(walk, "C-2")
    for _ in range(read_reply.REPLIES_PER_WINDOW + 1):
        reply(two_way, BEN, "what?")
    capsys.readouterr()
    sent = len(two_way.outbox)
    # When Ben replies STOP (End User Messaging opts the number out and answers it)
    reply(two_way, BEN, "STOP")
    out = capsys.readouterr().out
    # Then the opt-out is counted for its alarm, throttle or not, and the warning names Ben, not his number
    assert metric(out, names.METRIC_SMS_OPT_OUTS) == 1
    (warning,) = [w for w in warnings_in(out) if "opted out" in w["message"]]
    assert warning["contact_ids"] == ["C-2"] and warning["number"] == "+" + "*" * (len(BEN) - 3) + BEN[-2:]
    assert BEN not in out and BEN[1:] not in out
    # And Clarion sends nothing (the carrier answers) and acknowledges nothing
    assert len(two_way.outbox) == sent and walk.get()["status"] != "acknowledged"
    # While a stranger's STOP (or OPT-OUT) is no clinician's: no opt-out to count
    reply(two_way, "+447700900999", "OPT-OUT")
    assert metric(capsys.readouterr().out, names.METRIC_SMS_OPT_OUTS) == 0


def test_an_answer_refused_because_the_number_opted_out_counts_an_opt_out_and_the_reply_still_counts(two_way, capsys):
    # Given Ben, texted an alert, whose number End User Messaging now refuses (he replied STOP earlier)
    walk = Walk(two_way, message_id="sms-opted-out")
    walk.given_contacts_and_policy(None)
    code = alert_to(walk, "C-2")
    client = clients.send_client("pinpoint-sms-voice-v2")
    event = "before-call.pinpoint-sms-voice-v2.SendTextMessage"
    client.meta.events.register_first(event, _refused_as_opted_out)
    try:
        capsys.readouterr()
        # When he replies with the code (the handler reports no failure: the reply is not retried)
        reply(two_way, BEN, f"ack {code}")
    finally:
        client.meta.events.unregister(event, _refused_as_opted_out)
    # Then his acknowledgement stands, and the refused answer is counted as an opt-out
    assert walk.get()["status"] == "acknowledged"
    out = capsys.readouterr().out
    assert metric(out, names.METRIC_SMS_OPT_OUTS) == 1 and BEN not in out


def _refused_as_opted_out(**_: Any) -> tuple[Any, dict[str, Any]]:
    """End User Messaging's answer to a send to an opted-out number, as botocore parses it."""

    class Http:
        status_code = 400

    error = {"Code": "ConflictException", "Message": "Conflict Occurred - Reason=DESTINATION_PHONE_NUMBER_OPTED_OUT"}
    return Http(), {
        "Error": error,
        "Reason": "DESTINATION_PHONE_NUMBER_OPTED_OUT",
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }


def test_five_wrong_codes_in_fifteen_minutes_lock_the_number_for_an_hour_told_once(two_way, monkeypatch, capsys):
    # Given an alert texted to Ben, and a clock the test moves
    walk = Walk(two_way, message_id="sms-guess")
    walk.given_contacts_and_policy(None)
    code = alert_to(walk, "C-2")
    start = time.time()
    monkeypatch.setattr(clock, "time", lambda: start)
    wrong = [str(n) for n in range(700_001, 700_006) if str(n) != code]
    capsys.readouterr()
    # When four wrong codes come, each is answered as unknown
    for guess in wrong[:4]:
        reply(two_way, BEN, f"ack {guess}")
        assert texts_to(two_way, BEN)[-1].startswith("Clarion: no open alert has that code")
    # And the fifth, within 15 minutes, locks the number: Ben is told so, once
    monkeypatch.setattr(clock, "time", lambda: start + 14 * 60)
    reply(two_way, BEN, f"ack {wrong[4]}")
    locked = "Clarion: too many wrong codes. Replies from this number are locked for an hour; use the alert's link."
    assert texts_to(two_way, BEN)[-1] == locked
    out = capsys.readouterr().out
    assert metric(out, names.METRIC_REPLY_LOCKS) == 1
    (warning,) = [w for w in warnings_in(out) if "locked" in w["message"]]
    assert warning["contact_ids"] == ["C-2"] and warning["number"].endswith(BEN[-2:]) and BEN not in out
    # Then, while locked, even the right code acknowledges nothing, and nothing more is sent to Ben
    answered = len(texts_to(two_way, BEN))
    for text in (f"ack {code}", "ack 700009", code):
        reply(two_way, BEN, text)
    assert walk.get()["status"] != "acknowledged" and len(texts_to(two_way, BEN)) == answered
    # And the lock is durable (the delivery log, TTL at its end), not one container's memory
    guard = two_way.table(names.ENV_DELIVERY_TABLE).get_item(Key={"pk": f"replies#{BEN}", "sk": "GUARD"})["Item"]
    assert int(guard["expires_at"]) >= int(guard["locked_until"]) >= start + 14 * 60 + 3599
    # An hour on, the right code acknowledges again
    monkeypatch.setattr(clock, "time", lambda: start + 14 * 60 + reply_codes.LOCK_S + 1)
    reply(two_way, BEN, f"ack {code}")
    assert walk.get()["status"] == "acknowledged"
    assert texts_to(two_way, BEN)[-1] == f"Clarion: {code} acknowledged. Thank you."


def test_wrong_codes_spread_over_more_than_fifteen_minutes_lock_nothing(two_way, monkeypatch):
    walk = Walk(two_way, message_id="sms-typos")
    walk.given_contacts_and_policy(None)
    code = alert_to(walk, "C-2")
    start = time.time()
    for n in range(6):  # one typo every 4 minutes: never 5 within 15 minutes
        monkeypatch.setattr(clock, "time", lambda n=n: start + n * 4 * 60)
        reply(two_way, BEN, f"ack {700_001 + n if str(700_001 + n) != code else 700_099}")
    assert texts_to(two_way, BEN)[-1].startswith("Clarion: no open alert has that code")
    reply(two_way, BEN, f"ack {code}")
    assert walk.get()["status"] == "acknowledged"


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
