"""The clinicians' phones as scripts (`tests/e2e/phones.py`): each message a phone must get, what the clinician
does with it, and nothing else reaching anyone."""

from __future__ import annotations

import pytest

from clarion_local.system import LocalClarion
from tests.e2e.conftest import Api
from tests.e2e.phones import Phones

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
    return Phones(api, local.port)


def test_ada_does_not_answer_ben_acknowledges_and_ada_learns_it_is_taken(api: Api, phones: Phones) -> None:
    status, _, body = api.post_alert(priority="M", escalation_policy_id="e2e-phones")
    assert status == 202
    first = phones.expect(ADA, "sms", "Acknowledge: ")
    assert "Potassium 6.9 mmol/L" in first.text
    # Ada does nothing; when her window ends Ben's phone gets the alert
    second = phones.expect(BEN, "sms", "Acknowledge: ", timeout=WINDOW + 5)
    status, page = phones.press(second, "ack")
    assert status == 200 and "acknowledged" in page
    # Ada learns who took it; Ben gets nothing more; nobody else gets anything
    phones.expect(ADA, "sms", "Clarion: taken by Nurse Ben Sample")
    phones.nothing_unexpected()
    view = api.call("GET", f"/alerts/{body['message_id']}", token=api.client_token)[1]
    assert (view["ack"]["acknowledged_by"], view["ack"]["via"]) == ("C-2", "link")


def test_ada_declines_ben_is_told_at_once_and_ada_hears_nothing_more(api: Api, phones: Phones) -> None:
    status, _, body = api.post_alert(priority="M", escalation_policy_id="e2e-phones")
    assert status == 202
    mine = phones.expect(ADA, "sms", "Acknowledge: ")
    status, page = phones.press(mine, "decline", reason="not my patient")
    assert status == 200 and "passed on" in page
    # Ben gets it long before Ada's window would have ended
    phones.expect(BEN, "sms", "Acknowledge: ", timeout=WINDOW - 1)
    assert api.call("POST", f"/alerts/{body['message_id']}/ack", {"contact_id": "C-2"}, api.client_token)[0] == 200
    # Ada declined: no "taken" notice for her, and nothing else for anyone
    phones.nothing_unexpected()
