"""A smoke run against a DEPLOYED stack (`make e2e STACK=...`): one alert posted with a client token, read back
until a provider has delivered it; one that needs an acknowledgement is then acknowledged by its contact, so
nobody is paged for it. Skipped unless CLARION_E2E_URL (the Service stack's `ApiUrl` output) and CLARION_E2E_TOKEN
(a client token of scope `alerts`) are set: `make test` and CI have neither.

CLARION_E2E_CONTACT (default `C-1`) names a contact the stack holds; CLARION_E2E_PRIORITY (default `L`: one
email) picks the channels it is reached by; CLARION_E2E_TIMEOUT (default 600 s) bounds the wait, which includes
the provider's delivery receipt."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import pytest

from tests.helpers import request, wait_until

URL = os.environ.get("CLARION_E2E_URL", "").rstrip("/")
TOKEN = os.environ.get("CLARION_E2E_TOKEN", "")
CONTACT = os.environ.get("CLARION_E2E_CONTACT", "C-1")
PRIORITY = os.environ.get("CLARION_E2E_PRIORITY", "L")
TIMEOUT = float(os.environ.get("CLARION_E2E_TIMEOUT", "600"))

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (URL and TOKEN), reason="needs a deployed stack: CLARION_E2E_URL and CLARION_E2E_TOKEN"),
]


def call(method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    headers = {"Authorization": TOKEN, "Content-Type": "application/json"}
    data = None if body is None else json.dumps(body).encode()
    status, payload = request(method, f"{URL}{path}", data, headers, timeout=30)
    return status, json.loads(payload) if payload else None


def test_an_alert_posted_to_the_deployed_stack_is_delivered() -> None:
    # Given one alert for a contact the stack holds
    message_id = f"smoke-{uuid.uuid4().hex[:12]}"
    alert = {
        "message_id": message_id,
        "type": "smoke_test",
        "patient_id": "anon-smoke-test",
        "contact_id": CONTACT,
        "description": "Clarion smoke test: no action needed",
        "priority": PRIORITY,
    }
    # When it is posted with the client token
    status, answer = call("POST", "/alerts", alert)
    # Then it is accepted
    assert status == 202, answer
    assert answer["message_id"] == message_id and answer["status"] == "accepted"
    # And reading it back, it ends delivered (for a priority that needs one, waiting for an acknowledgement)
    seen: list[Any] = []

    def settled() -> dict[str, Any] | None:
        status, view = call("GET", f"/alerts/{message_id}")
        seen.append(view)
        assert status == 200, view
        assert view["status"] not in ("failed", "unacknowledged"), view
        return view if view["status"] in ("delivered", "acknowledged") else None

    view = wait_until(settled, TIMEOUT, 2, lambda: f"{message_id} is still {seen[-1]}")
    assert any(a["outcome"] == "delivered" for a in view["attempts"]), view
    # And one that needs an acknowledgement is acknowledged by its contact, which ends its walk
    if view["ack"]["required"] and view["status"] == "delivered":
        status, acked = call("POST", f"/alerts/{message_id}/ack", {"contact_id": CONTACT})
        assert status == 200 and acked["status"] == "acknowledged", acked
