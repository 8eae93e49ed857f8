"""The document says what the server enforces: for generated values, the served schema (read as ECMA-262, as
clients and schemathesis read it) accepts a field exactly when the server's own validation does."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from clarion.domain.errors import ClarionError
from clarion.handlers.api_models import AlertRequest, ContactBody, DeclineBody, PolicyBody
from clarion.handlers.schedule_models import OverrideBody, ScheduleBody
from tools import openapi

DOCUMENT = json.loads(openapi.render())
SCHEMAS = DOCUMENT["components"]["schemas"]
# Text with what breaks rules: controls, newlines, invisible format characters, digits, '+', '@', '.'
AWKWARD = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["\n", "\t", "\x85", "\u00a0", "\u200b", "\u202e", "\ufeff", " ", "+", "@", ".", "-", "0"]),
    ),
    max_size=40,
)
BASES: dict[str, dict[str, Any]] = {
    "AlertRequest": {
        "message_id": "m-1",
        "type": "t",
        "patient_id": "p",
        "contact_id": "C-1",
        "description": "d",
        "priority": "H",
    },
    "ContactBody": {"name": "Dr A", "email": "a@b.example"},
    "DeclineBody": {"contact_id": "C-1"},
    "PolicyBody": {"name": "n", "stages": [{"contact_ids": ["C-1"], "ack_within_s": 300}]},
    "ScheduleBody": {
        "name": "n",
        "time_zone": "Europe/London",
        "layers": [{"participants": ["C-1"], "shift": {"length": 1, "unit": "days"}, "handoff_at": "2026-12-07T08:00"}],
    },
    "OverrideBody": {"start": "2026-12-08T12:00:00Z", "end": "2026-12-08T13:00:00Z", "contact_ids": ["C-1"]},
}
MODELS: dict[str, type[BaseModel]] = {
    "AlertRequest": AlertRequest,
    "ContactBody": ContactBody,
    "DeclineBody": DeclineBody,
    "PolicyBody": PolicyBody,
    "ScheduleBody": ScheduleBody,
    "OverrideBody": OverrideBody,
}
FIELDS = [
    ("AlertRequest", "message_id"),
    ("AlertRequest", "type"),
    ("AlertRequest", "patient_id"),
    ("AlertRequest", "contact_id"),
    ("AlertRequest", "description"),
    ("ContactBody", "name"),
    ("ContactBody", "phone_sms"),
    ("ContactBody", "email"),
    ("DeclineBody", "reason"),
    ("PolicyBody", "name"),
    ("ScheduleBody", "name"),
]


def document_accepts(model: str, body: dict[str, Any]) -> bool:
    schema = {**SCHEMAS[model], "components": {"schemas": SCHEMAS}}  # so each $ref resolves
    return bool(jsonschema_rs.validator_for(schema).is_valid(body))


def server_accepts(model: str, body: dict[str, Any]) -> bool:
    try:
        MODELS[model].model_validate(body)
    except (ValidationError, ClarionError):  # a schedule is read by the domain's parser first
        return False
    return True


@pytest.mark.parametrize(("model", "field"), FIELDS)
@settings(max_examples=150, deadline=None)
@given(value=AWKWARD)
def test_the_document_and_the_server_agree_on_each_text_field(model: str, field: str, value: str) -> None:
    # Given a body valid but for one field, set to generated text
    body = {**BASES[model], field: value}
    # When the served document and the server each judge it
    # Then they agree (the server's 422 layer, e.g. a number no network assigns, is beyond any document)
    assert document_accepts(model, body) == server_accepts(model, body), (field, value)


@pytest.mark.parametrize(
    ("model", "change"),
    [
        ("PolicyBody", {"repeat": True}),
        ("PolicyBody", {"repeat": "1"}),
        ("PolicyBody", {"stages": [{"contact_ids": ["C-1", "C-1"], "ack_within_s": 300}]}),
        ("ContactBody", {"channels": {"H": []}}),
        ("ContactBody", {"channels": {"H": ["sms", "sms"]}}),
        ("ContactBody", {"email": None}),
        ("ContactBody", {"email": "a@b.example\n"}),
        ("AlertRequest", {"contact_id": "C-1\n"}),
        ("AlertRequest", {"extra": 1}),
        ("ScheduleBody", {"time_zone": "../etc/passwd"}),
        ("ScheduleBody", {"fallback_contact_ids": ["C-1", "C-1"]}),
        (
            "ScheduleBody",
            {"layers": [{**BASES["ScheduleBody"]["layers"][0], "shift": {"length": True, "unit": "days"}}]},
        ),
        ("ScheduleBody", {"layers": [{**BASES["ScheduleBody"]["layers"][0], "handoff_at": "2026-13-01T08:00"}]}),
        ("ScheduleBody", {"layers": [{**BASES["ScheduleBody"]["layers"][0], "windows": []}]}),
        ("ScheduleBody", {"layers": [{**BASES["ScheduleBody"]["layers"][0], "windows": None}]}),
        (
            "ScheduleBody",
            {
                "layers": [
                    {
                        **BASES["ScheduleBody"]["layers"][0],
                        "windows": [{"days": ["mon", "mon"], "from": "08:00", "to": "09:00"}],
                    }
                ]
            },
        ),
        ("OverrideBody", {"start": 1_796_731_200}),
        ("OverrideBody", {"contact_ids": ["C-1", "C-1"]}),
    ],
)
def test_what_the_server_refuses_the_document_refuses(model: str, change: dict[str, Any]) -> None:
    # Given a body the server refuses (a boolean for a number, a repeat, an empty chain, no destination, a newline)
    body = {**BASES[model], **change}
    assert not server_accepts(model, body)
    # When the document judges it
    # Then it refuses it too
    assert not document_accepts(model, body)


def test_a_delete_answers_204_without_a_body() -> None:
    # Given the document's DELETE operations
    deletes = [ops["delete"] for ops in DOCUMENT["paths"].values() if "delete" in ops]
    # Then each 204 says no content
    assert deletes and all("content" not in op["responses"]["204"] for op in deletes)
