"""The clinicians' phones as scripts (`tests/system/phones.py`): each message a phone must get, what the clinician
does with it, and nothing else reaching anyone."""

from __future__ import annotations

import pytest

from clarion_local.system import LocalClarion
from tests.system.conftest import Api
from tests.system.phones import Phones

ADA, BEN = "+447911123401", "+447911123402"  # C-1's and C-2's phones (samples.py)
WINDOW = 5


@pytest.fixture
def phones(api: Api, local: LocalClarion) -> Phones:
    body = {
        "name": "e2e phones",
        "addressee_ack_within_s": WINDOW,
        "stages": [{"contact_ids": ["C-2"], "ack_within_s": WINDOW}],
    }
    assert api.call("PUT", "/escalation-policies/e2e-phones", body, api.admin_token)[0] in (200, 201)
    return Phones(api, local.port, local)


def test_ada_does_not_answer_ben_acknowledges_and_ada_learns_it_is_taken(api: Api, phones: Phones) -> None:
    status, body = phones.post(priority="M", escalation_policy_id="e2e-phones")
    assert status == 202
    first = phones.expect(ADA, "sms", "Reply ")
    assert "Potassium 6.9 mmol/L" in first.text
    # Ada does nothing; when her window ends Ben's phone gets the alert
    second = phones.expect(BEN, "sms", "Reply ", timeout=WINDOW + 5)
    status, page = phones.press(second, "ack")
    assert status == 200 and "acknowledged" in page
    # Ada learns who took it; Ben gets nothing more; nobody else gets anything
    phones.expect(ADA, "sms", "Clarion: taken by Nurse Ben Sample")
    phones.nothing_unexpected()
    view = api.call("GET", f"/alerts/{body['message_id']}", token=api.client_token)[1]
    assert (view["ack"]["acknowledged_by"], view["ack"]["via"]) == ("C-2", "link")


def test_ada_declines_ben_is_told_at_once_and_ada_hears_nothing_more(api: Api, phones: Phones) -> None:
    # Ada has 120 s: Ben hearing of it within seconds is the decline's doing, not the window's
    body = {
        "name": "e2e phones, long window",
        "addressee_ack_within_s": 120,
        "stages": [{"contact_ids": ["C-2"], "ack_within_s": WINDOW}],
    }
    assert api.call("PUT", "/escalation-policies/e2e-phones-long", body, api.admin_token)[0] in (200, 201)
    status, body = phones.post(priority="M", escalation_policy_id="e2e-phones-long")
    assert status == 202
    mine = phones.expect(ADA, "sms", "Reply ")
    status, page = phones.press(mine, "decline", reason="not my patient")
    assert status == 200 and "passed on" in page
    # Ben gets it long before Ada's window would have ended
    phones.expect(BEN, "sms", "Reply ", timeout=20)
    assert api.call("POST", f"/alerts/{body['message_id']}/ack", {"contact_id": "C-2"}, api.client_token)[0] == 200
    # Ada declined: no "taken" notice for her, and nothing else for anyone
    phones.nothing_unexpected()


def test_ben_replies_with_the_code_and_is_told_it_is_acknowledged(api: Api, phones: Phones) -> None:
    status, body = phones.post(priority="M", contact_id="C-2", escalation_policy_id="e2e-phones")
    assert status == 202
    sms = phones.expect(BEN, "sms", "Reply ")
    phones.reply(BEN, f" ACK  {sms.code} ")
    phones.expect(BEN, "sms", f"Clarion: {sms.code} acknowledged.")
    phones.nothing_unexpected()
    view = api.view(body["message_id"])
    assert (view["status"], view["ack"]["acknowledged_by"], view["ack"]["via"]) == ("acknowledged", "C-2", "sms")


def test_a_wrong_code_is_answered_without_naming_the_alert_and_the_right_one_then_counts(
    api: Api, phones: Phones
) -> None:
    # Ben has 120 s: his second stage must not text him again while the wrong code is being answered
    body = {
        "name": "e2e phones, long window",
        "addressee_ack_within_s": 120,
        "stages": [{"contact_ids": ["C-2"], "ack_within_s": WINDOW}],
    }
    assert api.call("PUT", "/escalation-policies/e2e-phones-long", body, api.admin_token)[0] in (200, 201)
    status, body = phones.post(priority="M", contact_id="C-2", escalation_policy_id="e2e-phones-long")
    assert status == 202
    sms = phones.expect(BEN, "sms", "Reply ")
    wrong = "123456" if sms.code != "123456" else "654321"
    phones.reply(BEN, f"ack {wrong}")
    answer = phones.expect(BEN, "sms", "no open alert has that code")
    assert sms.code not in answer.text and "Potassium" not in answer.text
    phones.reply(BEN, f"NO {sms.code}")
    phones.expect(BEN, "sms", f"Clarion: {sms.code} declined.")
    phones.nothing_unexpected()
    assert [d["via"] for d in api.view(body["message_id"])["declines"]] == ["sms"]


def test_ada_is_called_presses_1_and_nobody_else_hears_of_it(api: Api, phones: Phones) -> None:
    status, body = phones.post(priority="H", escalation_policy_id="e2e-phones")
    assert status == 202
    call = phones.expect(ADA, "call", "Press 1 to acknowledge")
    # Ada hears the alert, which the flow fetched by the call's only attribute: an opaque handle
    assert "Potassium 6.9 mmol/L" in call.text and list(call.entry["attributes"]) == ["call"]
    assert "Potassium" not in str(call.entry["attributes"])
    assert phones.key(call, "1") == {"result": "acknowledged"}
    phones.nothing_unexpected()
    view = api.view(body["message_id"])
    assert (view["ack"]["acknowledged_by"], view["ack"]["via"]) == ("C-1", "call")


def test_a_call_nobody_answers_with_a_key_moves_to_sms_at_once(api: Api, phones: Phones) -> None:
    status, _ = phones.post(priority="H", escalation_policy_id="e2e-phones")
    assert status == 202
    call = phones.expect(ADA, "call", "Press 1 to acknowledge")
    assert phones.key(call, "") == {"result": "no_answer"}
    sms = phones.expect(ADA, "sms", "Reply ", timeout=3)  # at once, not at the window's end
    phones.reply(ADA, sms.code)
    phones.expect(ADA, "sms", f"Clarion: {sms.code} acknowledged.")
    phones.nothing_unexpected()


def test_an_sms_the_carrier_cannot_deliver_moves_to_email_within_seconds(api: Api, phones: Phones) -> None:
    api.fault("sms", "undelivered", count=1)
    status, body = phones.post(priority="M", contact_id="C-2", escalation_policy_id="e2e-phones")
    assert status == 202
    phones.expect(BEN, "sms", "Reply ")
    phones.expect("ben.sample@clinic.example.org", "email", "Potassium", timeout=3)
    view = api.view(body["message_id"])
    assert next((a["channel"], a["outcome"], a["receipt"]) for a in view["attempts"]) == (
        "sms",
        "undelivered",
        "TEXT_UNREACHABLE",
    )
    assert api.call("POST", f"/alerts/{body['message_id']}/ack", {"contact_id": "C-2"}, api.client_token)[0] == 200
    phones.nothing_unexpected()
