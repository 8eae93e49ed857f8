"""What an API client reads of a failed attempt is Clarion's: the provider's error code and Clarion's sentence,
never the provider's own text (SES's sandbox refusal names the recipient's address)."""

from __future__ import annotations

import json

from clarion_local import samples
from tests.system.conftest import Api


def test_a_refused_email_shows_the_code_and_our_sentence_but_not_the_address(api: Api) -> None:
    # Given SES refusing the next email as its sandbox does, naming the address it refused
    address = str(samples.CONTACTS["C-1"]["email"])
    api.fault("email", "reject", count=1)
    # When a low-priority alert (email only) is sent to C-1 and fails
    status, _, alert = api.post_alert(priority="L")
    assert status == 202
    view = api.wait(alert["message_id"])
    # Then the attempt says MessageRejected and what it meant, and the answer holds no address
    (attempt,) = view["attempts"]
    assert (view["status"], attempt["outcome"], attempt["error"]) == ("failed", "permanent_failure", "MessageRejected")
    assert attempt["error_message"].startswith("The provider refused the message")
    assert address not in json.dumps(view) and "identities failed" not in json.dumps(view)
