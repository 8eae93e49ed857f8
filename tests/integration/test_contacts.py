from __future__ import annotations

from typing import Any

import pytest

from clarion.handlers.contacts import handler
from tests.helpers import FakeContext
from tests.integration.api_events import api_event, call

ALICE = {
    "name": "Dr Alice Example",
    "phone_call": "+447911123456",
    "phone_sms": "+447400123456",
    "email": "alice@hospital.example.org",
}


def put(contact_id: str, body: Any) -> tuple[int, Any]:
    return call(handler, api_event("PUT", f"/contacts/{contact_id}", body, client_id="ops", scopes="admin"))


def test_new_contact_is_created_with_default_chains(clarion: Any) -> None:
    # Given no contact C-1
    # When an admin puts C-1 without channels
    status, body = put("C-1", ALICE)
    # Then it is created with the default chain for each priority, and stored
    assert status == 201
    assert body == {
        "contact_id": "C-1",
        **ALICE,
        "channels": {"H": ["call", "sms", "email"], "M": ["sms", "email"], "L": ["email"]},
        "escalation_policy_id": None,
    }
    stored = clarion.table("CONTACTS_TABLE").get_item(Key={"contact_id": "C-1"})["Item"]
    assert stored["phone_sms"] == "+447400123456"


def test_putting_an_existing_contact_replaces_it(clarion: Any) -> None:
    # Given C-1 exists
    put("C-1", ALICE)
    # When it is put again with other channels and no phone
    status, body = put("C-1", {"name": "Alice", "email": "a@b.example", "channels": {"H": ["email"]}})
    # Then the answer is 200 with the new contact, and a read returns the same
    assert status == 200
    assert body["phone_call"] is None
    assert body["channels"]["H"] == ["email"]
    got_status, got = call(handler, api_event("GET", "/contacts/C-1", scopes="admin"))
    assert (got_status, got) == (200, body)


def test_reading_an_unknown_contact_is_404(clarion: Any) -> None:
    # Given no contact C-9
    # When it is read
    status, body = call(handler, api_event("GET", "/contacts/C-9", scopes="admin"))
    # Then 404 names the contact
    assert status == 404
    assert body["error"]["code"] == "not_found"
    assert body["error"]["field"] == "contact_id"


def test_deleting_a_contact_removes_it_and_a_second_delete_is_404(clarion: Any) -> None:
    # Given C-1 exists
    put("C-1", ALICE)
    # When it is deleted twice
    first = handler(api_event("DELETE", "/contacts/C-1", scopes="admin"), FakeContext())
    second_status, second_body = call(handler, api_event("DELETE", "/contacts/C-1", scopes="admin"))
    # Then the first is 204 with no body, the second 404, and the item is gone
    assert first["statusCode"] == 204
    assert not first.get("body")
    assert second_status == 404
    assert second_body["error"]["code"] == "not_found"
    assert "Item" not in clarion.table("CONTACTS_TABLE").get_item(Key={"contact_id": "C-1"})


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"phone_call": "07911 123456"}, "phone_call", "invalid_field"),
        ({"phone_sms": "+44 7400 123456"}, "phone_sms", "invalid_field"),
        ({"phone_sms": "+4412"}, "phone_sms", "invalid_field"),
        ({"email": "not-an-address"}, "email", "invalid_field"),
        ({"name": ""}, "name", "invalid_field"),
        ({"name": "Bob\nSmith"}, "name", "invalid_field"),
        ({"channels": {"H": ["call", "call"]}}, "channels.H", "invalid_field"),
        ({"channels": {"M": ["pager"]}}, "channels.M.0", "invalid_field"),
        ({"channels": {"L": []}}, "channels.L", "invalid_field"),
        ({"channels": {"X": ["sms"]}}, "channels.X", "unknown_field"),
        ({"role": "consultant"}, "role", "unknown_field"),
    ],
)
def test_invalid_contact_fields_are_refused_naming_the_field(
    clarion: Any, change: dict[str, Any], field: str, code: str
) -> None:
    # Given a contact body with one bad field
    body = {**ALICE, **change}
    # When it is put
    status, answer = put("C-1", body)
    # Then 400 names the field, and nothing is stored
    assert status == 400
    assert answer["error"]["code"] == code
    assert answer["error"]["field"] == field
    assert field.split(".")[0] in answer["error"]["message"]
    assert "Item" not in clarion.table("CONTACTS_TABLE").get_item(Key={"contact_id": "C-1"})


def test_contact_without_any_destination_is_refused(clarion: Any) -> None:
    # Given a body with a name only
    # When it is put
    status, answer = put("C-1", {"name": "Nobody"})
    # Then 400 explains a destination is needed
    assert status == 400
    assert answer["error"]["code"] == "invalid_body"
    assert "phone_call, phone_sms or email" in answer["error"]["message"]


def test_contact_id_with_forbidden_characters_is_refused(clarion: Any) -> None:
    # Given a contact id with a character outside [A-Za-z0-9._-]
    # When it is put
    status, answer = put("C*1", ALICE)
    # Then 400 names the path parameter
    assert status == 400
    assert answer["error"]["field"] == "contact_id"


def test_unknown_route_is_404_in_the_error_format(clarion: Any) -> None:
    # Given a path the contacts API does not serve
    # When it is called
    status, answer = call(handler, api_event("GET", "/nothing", scopes="admin"))
    # Then the answer is 404 in the error format
    assert status == 404
    assert answer["error"]["code"] == "not_found"


def test_oversized_contact_body_is_413(clarion: Any) -> None:
    # Given a contact body over 16 KiB
    event = api_event("PUT", "/contacts/C-1", {**ALICE, "name": "n" * 17000}, scopes="admin")
    # When it is put
    status, answer = call(handler, event)
    # Then 413 payload_too_large and nothing stored
    assert status == 413
    assert answer["error"]["code"] == "payload_too_large"
    assert "Item" not in clarion.table("CONTACTS_TABLE").get_item(Key={"contact_id": "C-1"})


def test_contact_body_that_is_a_list_is_refused(clarion: Any) -> None:
    # Given a JSON array holding a valid contact
    # When it is put
    status, answer = put("C-1", [ALICE])
    # Then 400 invalid_body: the body must be an object
    assert status == 400
    assert answer["error"]["code"] == "invalid_body"
