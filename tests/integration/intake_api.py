"""Posting alerts to the intake handler in-process, as the intake suites do: a valid body, the contact it names,
and what reached the alert queue."""

from __future__ import annotations

import json
from typing import Any

from clarion.domain.models import Contact
from clarion.handlers.intake import handler
from tests.integration.api_events import api_event, call

PATIENT = "PATIENT-REF-98765"
BODY = {
    "message_id": "lab-0001",
    "type": "blood_test_alert",
    "patient_id": PATIENT,
    "contact_id": "C-1",
    "description": "Potassium 6.8 mmol/L, ward 7B",
    "priority": "H",
}
ALICE = Contact(
    contact_id="C-1",
    name="Dr Alice",
    phone_call="+447911123456",
    phone_sms="+447400123456",
    email="alice@hospital.example.org",
)


def post(body: Any, *, path: str = "/alerts", client_id: str = "lab-system", **kwargs: Any) -> tuple[int, Any]:
    return call(handler, api_event("POST", path, body, client_id=client_id, **kwargs))


def queued_bodies(clarion: Any) -> list[dict[str, Any]]:
    return [json.loads(m["Body"]) for m in clarion.queued()]
