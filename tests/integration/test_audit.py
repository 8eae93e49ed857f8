"""Who changed a clinician's contact details or an escalation policy, when, and what they held before: each
change is recorded with it (one transaction), read back by an admin, and never written to the application log."""

from __future__ import annotations

from typing import Any

import pytest

from clarion.handlers import contacts as handler
from tests.integration.api_events import api_event, call

ADA = {"name": "Dr Ada", "phone_sms": "+447911123456", "email": "ada@example.org"}
REPOINTED = {"name": "Dr Ada", "phone_sms": "+447400123456", "email": "ada@example.org"}


def admin(method: str, path: str, body: Any = None, client_id: str = "ops-console") -> tuple[int, Any]:
    return call(handler.handler, api_event(method, path, body, client_id=client_id, scopes="admin"))


def test_each_change_to_a_contact_records_who_when_and_what_it_held(
    clarion: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a contact created by one admin client, repointed by another, then deleted
    assert admin("PUT", "/contacts/C-9", ADA, client_id="ops-console")[0] == 201
    assert admin("PUT", "/contacts/C-9", REPOINTED, client_id="rogue-script")[0] == 200
    assert admin("DELETE", "/contacts/C-9", client_id="ops-console")[0] == 204
    # When an admin reads its history
    status, history = admin("GET", "/contacts/C-9/history")
    # Then every change is there, oldest first, with its client, its time and the destinations before and after
    assert status == 200
    changes = history["changes"]
    assert [(c["action"], c["client_id"]) for c in changes] == [
        ("created", "ops-console"),
        ("replaced", "rogue-script"),
        ("deleted", "ops-console"),
    ]
    assert changes[0]["before"] is None and changes[0]["after"]["phone_sms"] == "+447911123456"
    assert changes[1]["before"]["phone_sms"] == "+447911123456" and changes[1]["after"]["phone_sms"] == "+447400123456"
    assert changes[2]["after"] is None and changes[2]["before"]["phone_sms"] == "+447400123456"
    assert all(c["at"].endswith("Z") for c in changes)
    # And no destination reached the application log
    logged = capsys.readouterr().out
    assert "+447400123456" not in logged and "+447911123456" not in logged


def test_a_contact_never_written_has_no_history_and_a_missing_delete_records_nothing(clarion: Any) -> None:
    assert admin("GET", "/contacts/C-404/history")[0] == 404
    assert admin("DELETE", "/contacts/C-404")[0] == 404
    assert admin("GET", "/contacts/C-404/history")[0] == 404


def test_each_change_to_a_policy_is_recorded_too(clarion: Any) -> None:
    # Given a policy created and then deleted by admin clients
    assert admin("PUT", "/contacts/C-9", ADA)[0] == 201
    policy = {"name": "Ward 9", "stages": [{"contact_ids": ["C-9"], "ack_within_s": 300}]}
    assert admin("PUT", "/escalation-policies/ward-9", policy, client_id="ward-admin")[0] == 201
    assert admin("DELETE", "/escalation-policies/ward-9", client_id="ward-admin")[0] == 204
    # When its history is read
    status, history = admin("GET", "/escalation-policies/ward-9/history")
    # Then both changes are there, with the stages it held
    assert status == 200
    assert [(c["action"], c["client_id"]) for c in history["changes"]] == [
        ("created", "ward-admin"),
        ("deleted", "ward-admin"),
    ]
    assert history["changes"][1]["before"]["stages"] == [{"contact_ids": ["C-9"], "ack_within_s": 300}]
