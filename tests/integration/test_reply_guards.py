"""What guards acknowledging by SMS, in-process against the emulator: five wrong codes lock a number for an hour,
and a clinician's number that opts out (STOP) is counted for its alarm. (`test_replies` holds the replies' answers.)"""

from __future__ import annotations

import time
from typing import Any

import pytest

from clarion import names
from clarion.adapters import reply_codes
from clarion.shared import clients, clock
from clarion.usecases import read_reply
from tests.integration.sms_replies import BEN, alert_to, metric, reply, texts_to, use_two_way, warnings_in
from tests.integration.walk import Walk


@pytest.fixture
def two_way(clarion: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    return use_two_way(clarion, monkeypatch)


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
