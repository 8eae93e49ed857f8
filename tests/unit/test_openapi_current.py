from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools import openapi


def test_committed_openapi_document_matches_the_code() -> None:
    # Given the routes and models in the handlers
    # When the OpenAPI document is generated
    generated = openapi.render()
    # Then docs/openapi.json is that document (run `python -m tools.openapi` after changing the API)
    assert openapi.DOCUMENT.read_text() == generated, "docs/openapi.json is out of date: run python -m tools.openapi"


def test_document_covers_every_route_with_our_error_format() -> None:
    # Given the generated document
    document = json.loads(openapi.render())
    # When its paths and responses are read
    paths = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    # Then both functions' routes are there, and every error answer uses ErrorBody
    assert paths == {
        ("POST", "/alerts"),
        ("POST", "/notification"),
        ("GET", "/alerts/{message_id}"),
        ("PUT", "/contacts/{contact_id}"),
        ("GET", "/contacts/{contact_id}"),
        ("DELETE", "/contacts/{contact_id}"),
        ("POST", "/alerts/{message_id}/ack"),
        ("POST", "/alerts/{message_id}/decline"),
        ("PUT", "/escalation-policies/{policy_id}"),
        ("GET", "/escalation-policies/{policy_id}"),
        ("DELETE", "/escalation-policies/{policy_id}"),
        ("GET", "/contacts/{contact_id}/history"),
        ("GET", "/escalation-policies/{policy_id}/history"),
        ("PUT", "/schedules/{schedule_id}"),
        ("GET", "/schedules/{schedule_id}"),
        ("DELETE", "/schedules/{schedule_id}"),
        ("GET", "/schedules/{schedule_id}/history"),
        ("POST", "/schedules/{schedule_id}/overrides"),
        ("GET", "/schedules/{schedule_id}/overrides"),
        ("DELETE", "/schedules/{schedule_id}/overrides/{override_id}"),
        ("GET", "/schedules/{schedule_id}/on-call"),
        ("GET", "/schedules/{schedule_id}/shifts"),
    }
    for ops in document["paths"].values():
        for op in ops.values():
            for status, answer in op["responses"].items():
                if int(status) >= 400:
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (status, op["summary"])


def test_check_mode_fails_on_a_stale_document_until_it_is_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a stale document
    document = tmp_path / "openapi.json"
    document.write_text("{}")
    monkeypatch.setattr(openapi, "DOCUMENT", document)
    # When it is checked, rewritten, and checked again
    # Then the first check fails, and the check after the rewrite passes
    assert openapi.main(["--check"]) == 1
    assert openapi.main([]) == 0
    assert openapi.main(["--check"]) == 0
    assert json.loads(document.read_text())["info"]["title"] == "Clarion API"
