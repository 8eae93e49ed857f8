"""A client generated from docs/openapi.json reads well: each operation named for what it does, one model per body,
and no model for a schema nothing uses. Fast: the generator runs offline on the committed document."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from pydantic import ValidationError

from clarion.handlers.api_models import ContactBody
from tests import generated_client
from tools import openapi

DOCUMENT = json.loads(openapi.DOCUMENT.read_text())
OPERATION_IDS = {
    ("POST", "/alerts"): "createAlert",
    ("POST", "/notification"): "createNotification",
    ("GET", "/alerts/{message_id}"): "getAlert",
    ("POST", "/alerts/{message_id}/ack"): "acknowledgeAlert",
    ("POST", "/alerts/{message_id}/decline"): "declineAlert",
    ("PUT", "/contacts/{contact_id}"): "putContact",
    ("GET", "/contacts/{contact_id}"): "getContact",
    ("DELETE", "/contacts/{contact_id}"): "deleteContact",
    ("GET", "/contacts/{contact_id}/history"): "getContactHistory",
    ("PUT", "/escalation-policies/{policy_id}"): "putEscalationPolicy",
    ("GET", "/escalation-policies/{policy_id}"): "getEscalationPolicy",
    ("DELETE", "/escalation-policies/{policy_id}"): "deleteEscalationPolicy",
    ("GET", "/escalation-policies/{policy_id}/history"): "getEscalationPolicyHistory",
    ("PUT", "/schedules/{schedule_id}"): "putSchedule",
    ("GET", "/schedules/{schedule_id}"): "getSchedule",
    ("DELETE", "/schedules/{schedule_id}"): "deleteSchedule",
    ("GET", "/schedules/{schedule_id}/history"): "getScheduleHistory",
    ("POST", "/schedules/{schedule_id}/overrides"): "createScheduleOverride",
    ("GET", "/schedules/{schedule_id}/overrides"): "listScheduleOverrides",
    ("DELETE", "/schedules/{schedule_id}/overrides/{override_id}"): "deleteScheduleOverride",
    ("GET", "/schedules/{schedule_id}/on-call"): "getOnCall",
    ("GET", "/schedules/{schedule_id}/shifts"): "getShifts",
}
MODULES = {
    "alerts/create_alert",
    "alerts/create_notification",
    "alerts/get_alert",
    "alerts/acknowledge_alert",
    "alerts/decline_alert",
    "contacts/put_contact",
    "contacts/get_contact",
    "contacts/delete_contact",
    "contacts/get_contact_history",
    "escalation_policies/put_escalation_policy",
    "escalation_policies/get_escalation_policy",
    "escalation_policies/delete_escalation_policy",
    "escalation_policies/get_escalation_policy_history",
    "schedules/put_schedule",
    "schedules/get_schedule",
    "schedules/delete_schedule",
    "schedules/get_schedule_history",
    "schedules/create_schedule_override",
    "schedules/list_schedule_overrides",
    "schedules/delete_schedule_override",
    "schedules/get_on_call",
    "schedules/get_shifts",
}


def test_each_operation_of_the_document_is_named_for_what_it_does() -> None:
    # Given the committed document
    # When its operations are read
    named = {
        (method.upper(), path): op["operationId"]
        for path, ops in DOCUMENT["paths"].items()
        for method, op in ops.items()
    }
    # Then each has the name chosen for it (not the generator's post_alerts_alerts_post)
    assert named == OPERATION_IDS


def test_the_generated_client_has_one_module_per_operation_named_by_its_id(tmp_path: Path) -> None:
    # Given the committed document
    # When openapi-python-client generates a client from it
    package = generated_client.generate(tmp_path)
    # Then each operation is one module under its tag, named by its operationId
    modules = {f"{p.parent.name}/{p.stem}" for p in (package / "api").glob("*/*.py") if p.stem != "__init__"}
    assert modules == MODULES
    # And the contact body is one model, and no model stands for a schema no request or answer uses
    models = {p.stem for p in (package / "models").glob("*.py")} - {"__init__"}
    assert {m for m in models if m.startswith("contact_body")} == {"contact_body"}
    assert not models & {"http_validation_error", "validation_error", "response_validation_error"}


def test_every_schema_in_the_document_is_reached_from_a_request_or_an_answer() -> None:
    # Given the document's schemas
    schemas = DOCUMENT["components"]["schemas"]

    def refs(node: Any) -> set[str]:
        return set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(node)))

    # When the references are followed from the paths
    reached: set[str] = set()
    todo = refs(DOCUMENT["paths"])
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo |= refs(schemas[name])
    # Then every schema is reached
    assert set(schemas) == reached


DESTINATION_VALUES = {"phone_call": "+447911123456", "phone_sms": "+447911123456", "email": "a@b.example"}
ABSENT = object()


@pytest.mark.parametrize("values", list(itertools.product([ABSENT, None, "valid"], repeat=3)))
def test_the_document_and_the_server_agree_on_which_destinations_a_contact_needs(values: tuple[Any, ...]) -> None:
    # Given a contact body with each destination absent, null or set
    body: dict[str, Any] = {"name": "Dr A"}
    for name, value in zip(DESTINATION_VALUES, values, strict=True):
        if value is not ABSENT:
            body[name] = DESTINATION_VALUES[name] if value == "valid" else None
    # When the document's ContactBody and the server's model judge it
    schemas = DOCUMENT["components"]["schemas"]
    document_accepts = jsonschema_rs.validator_for({**schemas["ContactBody"], "components": {"schemas": schemas}})
    try:
        ContactBody.model_validate(body)
        server_accepts = True
    except ValidationError:
        server_accepts = False
    # Then both accept it exactly when one destination is set
    assert server_accepts == ("valid" in values)
    assert document_accepts.is_valid(body) == server_accepts
