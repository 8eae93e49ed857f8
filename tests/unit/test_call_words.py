"""A call's words, kept under an opaque handle: what the keypress function answers the flow for a handle, and the
local flow that fetches them as Connect's does. The delivery log is in memory."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from clarion import names
from clarion.adapters import call_words
from clarion.domain import messages
from clarion.domain.models import Alert, Channel, Priority
from clarion.handlers import keypress
from clarion.shared import clients, settings
from clarion_local import receipts

FLOW = Path(__file__).resolve().parents[2] / "stacks" / "assets" / "outbound_call_flow.json"
ALERT = Alert(
    client_id="lab-system",
    message_id="lab-1",
    type="critical_lab_result",
    contact_id="C-1",
    description="Potassium 6.9 mmol/L & rising <ward 7>",
    priority=Priority.HIGH,
    accepted_at="2026-01-01T00:00:00+00:00",
    plan=(Channel.CALL,),
)


class MemoryTable:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.reads = 0

    def put_item(self, Item: dict[str, Any], **_: Any) -> None:
        self.items[(Item["pk"], Item["sk"])] = Item

    def get_item(self, Key: dict[str, str], **_: Any) -> dict[str, Any]:
        self.reads += 1
        item = self.items.get((Key["pk"], Key["sk"]))
        return {"Item": item} if item else {}


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> MemoryTable:
    memory = MemoryTable()
    monkeypatch.setenv(names.ENV_DELIVERY_TABLE, "delivery-log")
    settings.settings.cache_clear()
    monkeypatch.setattr(clients, "dynamodb_table", lambda name: memory)
    return memory


def words_event(handle: str) -> dict[str, Any]:
    """The flow's `fetch-words` block, as Connect sends it (the contact id is one the router has not recorded)."""
    return receipts.flow_event(
        "c-new", "arn:aws:connect:eu-west-2:1:instance/i", "", {"call": handle}, {"action": "words", "call": handle}
    )


def test_the_words_come_back_for_their_handle_alone(table):
    # Given the words of a call kept under a new handle
    handle = call_words.store(messages.spoken_ssml(ALERT))
    # When the flow asks for them by that handle (the router has recorded nothing of the call yet)
    answer = keypress.respond(words_event(handle))
    # Then the function answers the SSML, as the flat string map the flow validates
    assert answer == {"result": "words", "ssml": messages.spoken_ssml(ALERT)}
    assert all(isinstance(v, str) for v in answer.values())


@pytest.mark.parametrize(
    "handle",
    [
        "A" * 22,  # well formed, never issued
        "",  # no attribute at all
        "A" * 21,
        "A" * 23,
        "x#y" + "A" * 19,  # not a handle's alphabet: never reaches the table
        "lab-system#lab-1",  # an alert's key
    ],
)
def test_an_unknown_or_forged_handle_gets_no_words(table, handle):
    # Given words kept for another call
    call_words.store(messages.spoken_ssml(ALERT))
    # When the flow asks with a handle Clarion never issued
    answer = keypress.respond(words_event(handle))
    # Then nothing useful comes back: no SSML, nothing of the alert
    assert answer == {"result": "unknown"}
    assert "Potassium" not in json.dumps(answer)


def test_malformed_handles_never_reach_the_table(table):
    for handle in ("", "A" * 23, "call#" + "A" * 17, "../" * 8):
        assert call_words.fetch(handle) is None
    assert table.reads == 0


def test_the_words_expire_within_the_hour_even_if_the_table_has_not_deleted_them(table):
    # Given words kept an hour ago (DynamoDB's TTL deletes late: the item is still there)
    handle = call_words.store("<speak>old</speak>", now=time.time() - call_words.WORDS_TTL_S)
    assert len(table.items) == 1
    # When the flow asks for them
    # Then there are none
    assert keypress.respond(words_event(handle)) == {"result": "unknown"}
    # And words kept a moment ago are still there
    fresh = call_words.store("<speak>new</speak>")
    assert call_words.fetch(fresh) == "<speak>new</speak>"


def test_handles_are_random_and_url_safe(table):
    handles = {call_words.store("<speak>x</speak>") for _ in range(50)}
    assert len(handles) == 50
    assert all(len(h) == 22 and h.replace("-", "").replace("_", "").isalnum() for h in handles)


# --- the local flow, as Connect's ---------------------------------------------------------------


def test_the_local_flow_hears_what_the_function_returned(table):
    # Given a call's words kept under its handle
    handle = call_words.store(messages.spoken_ssml(ALERT))
    # When the local flow fetches them through the keypress function
    heard = receipts.flow_words(keypress.respond, "c-new", "arn", {"call": handle})
    # Then the phone hears the words text-to-speech makes of the SSML: the spoken text, markup gone
    assert heard == messages.spoken_text(ALERT)
    assert "Potassium 6.9 mmol/L & rising <ward 7>" in heard


def test_the_local_flow_takes_the_error_branch_as_connect_does(table):
    def failing(event: dict[str, Any]) -> Any:
        raise RuntimeError("the function timed out")

    assert receipts.flow_words(keypress.respond, "c-new", "arn", {"call": "A" * 22}) is None
    assert receipts.flow_words(failing, "c-new", "arn", {"call": "A" * 22}) is None
    assert receipts.flow_words(None, "c-new", "arn", {"call": "A" * 22}) is None


def test_the_local_flow_says_what_the_flow_says_without_words():
    actions = {a["Identifier"]: a for a in json.loads(FLOW.read_text())["Actions"]}
    assert actions["say-unavailable"]["Parameters"]["Text"] == receipts.UNAVAILABLE
