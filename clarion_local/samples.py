"""The sample clinicians the local system loads: fictional names, the docs' example numbers, example.org mail."""

from __future__ import annotations

from typing import Any

CONTACTS: dict[str, dict[str, Any]] = {
    # As in the AWS sample: high priority calls, medium texts, low emails (Clarion's defaults add fallbacks).
    "C-1": {
        "name": "Dr Ada Example",
        "phone_call": "+447911123401",
        "phone_sms": "+447911123401",
        "email": "ada.example@clinic.example.org",
    },
    "C-2": {
        "name": "Nurse Ben Sample",
        "phone_sms": "+447911123402",
        "email": "ben.sample@clinic.example.org",
        "channels": {"H": ["sms", "email"], "M": ["sms", "email"], "L": ["email"]},
    },
    "C-3": {
        "name": "Dr Cleo Placeholder",
        "phone_call": "+14155550103",
        "email": "cleo.placeholder@clinic.example.org",
        "channels": {"H": ["call", "email"], "M": ["email"], "L": ["email"]},
    },
    "C-4": {
        "name": "Pharmacy desk",
        "email": "pharmacy@clinic.example.org",
        "channels": {"H": ["email"], "M": ["email"], "L": ["email"]},
    },
}


# Loaded after the contacts it names (as in the closed-loop issue's example): who covers when nobody acknowledges.
POLICIES: dict[str, dict[str, Any]] = {
    "ward-7b": {
        "name": "Ward 7B critical results",
        "addressee_ack_within_s": 300,
        "stages": [{"contact_ids": ["C-2"], "ack_within_s": 300}, {"contact_ids": ["C-3", "C-4"], "ack_within_s": 600}],
        "repeat": 1,
    },
}
