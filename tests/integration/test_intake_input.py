"""The intake handler refuses what it cannot accept, before anything is queued: a broken rule names its field,
and a body that is not JSON, missing, of another media type or over 16 KiB gets its own answer."""

from __future__ import annotations

from typing import Any

import pytest

from clarion.handlers.intake import handler
from tests.integration.api_events import api_event, call
from tests.integration.intake_api import BODY, post, queued_bodies


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({**BODY, "priority": "X"}, "invalid_field", "priority"),
        ({**BODY, "ward": "7B"}, "unknown_field", "ward"),
        ({k: v for k, v in BODY.items() if k != "type"}, "missing_field", "type"),
        ({**BODY, "message_id": "has space"}, "invalid_field", "message_id"),
        ([BODY], "invalid_body", None),
    ],
)
def test_invalid_alert_is_400_naming_the_field(api: Any, body: Any, code: str, field: str | None) -> None:
    # Given an alert body that breaks a rule
    # When it is posted
    status, answer = post(body)
    # Then 400 with our error format naming the field, and nothing queued
    assert status == 400
    assert answer["error"]["code"] == code
    assert answer["error"]["field"] == field
    if field:
        assert f"'{field}'" in answer["error"]["message"]
    assert queued_bodies(api) == []


def test_invalid_json_is_400(api: Any) -> None:
    # Given a body that is not JSON
    # When it is posted
    status, answer = call(handler, api_event("POST", "/alerts", raw_body='{"message_id": '))
    # Then 400 invalid_json
    assert status == 400
    assert answer["error"]["code"] == "invalid_json"


def test_missing_body_is_400(api: Any) -> None:
    # Given no body at all
    # When it is posted
    status, answer = call(handler, api_event("POST", "/alerts"))
    # Then 400 missing_body
    assert status == 400
    assert answer["error"]["code"] == "missing_body"


def test_body_that_is_not_json_content_is_415(api: Any) -> None:
    # Given a form-encoded body
    # When it is posted
    event = api_event("POST", "/alerts", raw_body="a=b", headers={"Content-Type": "text/plain"})
    status, answer = call(handler, event)
    # Then 415 unsupported_media_type
    assert status == 415
    assert answer["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize("encoded", [False, True])
def test_oversized_body_is_413_before_it_is_parsed(api: Any, encoded: bool) -> None:
    # Given a body over 16 KiB (sent plain or base64-encoded)
    event = api_event("POST", "/alerts", raw_body="x" * (23 * 1024 if encoded else 17 * 1024))
    event["isBase64Encoded"] = encoded
    # When it is posted
    status, answer = call(handler, event)
    # Then 413 payload_too_large and nothing queued
    assert status == 413
    assert answer["error"]["code"] == "payload_too_large"
    assert queued_bodies(api) == []
