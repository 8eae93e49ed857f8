"""A call's words in the delivery log, under the opaque handle that is the call's only attribute: written before the
call starts, fetched by the flow through the keypress function before the router has recorded the call, and then the
keypress answered as before."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest

from clarion import names
from clarion.adapters import delivery_log
from clarion.domain.models import Channel
from clarion.handlers import keypress
from clarion_local import receipts
from tests.helpers import FakeContext
from tests.integration.walk import Walk

ARN = "arn:aws:connect:eu-west-2:123456789012:instance/i-1"


def words_event(contact_id: str, handle: str) -> dict[str, Any]:
    return receipts.flow_event(contact_id, ARN, "", {"call": handle}, {"action": "words", "call": handle})


def called(clarion: Any, message_id: str) -> dict[str, Any]:
    """Post a high-priority alert to Ada and route it: the call as the outbox recorded it."""
    walk = Walk(clarion, message_id=message_id)
    walk.given_contacts_and_policy(None)
    assert walk.post_alert(priority="H", contact_id="C-1")[0] == 202
    walk.route_all()
    (call,) = [e for e in clarion.outbox if e["channel"] == "call"]
    return call


def test_the_flow_gets_the_words_by_the_handle_before_the_router_has_recorded_the_call(clarion, monkeypatch):
    # Given the flow's fetch watched: what the router had recorded of the call when the flow asked
    seen: list[tuple[dict[str, str], Any, dict[str, str]]] = []

    def flow(event: dict[str, Any]) -> dict[str, str]:
        recorded = delivery_log.find_sent(Channel.CALL, event["Details"]["ContactData"]["ContactId"])
        answer = keypress.respond(event)
        seen.append((event["Details"]["Parameters"], recorded, answer))
        return answer

    monkeypatch.setattr(clarion.bridge, "keypress", flow)
    # When the router calls Ada
    call = called(clarion, "words-race")
    # Then the flow asked by the handle alone, while the router knew nothing of the contact yet, and got the words
    ((parameters, recorded, answer),) = seen
    assert parameters == {"action": "words", "call": call["attributes"]["call"]}
    assert recorded is None
    assert answer["result"] == "words" and "Potassium 6.9 mmol/L, ward 7" in answer["ssml"]
    # And the phone heard exactly what the function returned
    assert call["text"] == receipts.spoken(answer["ssml"])
    # And afterwards the call is recorded, so the keypress finds the alert by the contact's own id
    assert delivery_log.find_sent(Channel.CALL, call["provider_id"]) is not None
    event = receipts.flow_event(call["provider_id"], ARN, "1", call["attributes"])
    assert keypress.handler(event, FakeContext()) == {"result": "acknowledged"}


def test_the_words_are_kept_under_clarions_key_with_nothing_else_and_expire_within_the_hour(clarion):
    call = called(clarion, "words-item")
    table = boto3.resource("dynamodb").Table(clarion.env[names.ENV_DELIVERY_TABLE])
    item = table.get_item(Key={"pk": f"call#{call['attributes']['call']}", "sk": "WORDS"})["Item"]
    assert set(item) == {"pk", "sk", "ssml", "expires_at"}
    assert "Potassium 6.9 mmol/L, ward 7" in str(item["ssml"])
    assert 0 < int(item["expires_at"]) - time.time() <= 3600


@pytest.mark.parametrize("forge", ["never issued", "one character changed", "empty", "the item's key"])
def test_a_forged_handle_gets_no_words(clarion, forge):
    # Given a real call, whose handle holds words
    call = called(clarion, "words-forged-" + forge.replace(" ", "-").replace("'", ""))
    handle = call["attributes"]["call"]
    forged = {
        "never issued": "A" * 22,
        "one character changed": handle[:-1] + ("B" if handle[-1] != "B" else "C"),
        "empty": "",
        "the item's key": f"call#{handle}",
    }[forge]
    # When the flow (or anyone Connect lets invoke the function) asks with a forged handle
    answer = keypress.handler(words_event(call["provider_id"], forged), FakeContext())
    # Then nothing useful comes back, though the call itself is Clarion's and its real handle still works
    assert answer == {"result": "unknown"}
    assert keypress.handler(words_event(call["provider_id"], handle), FakeContext())["result"] == "words"
