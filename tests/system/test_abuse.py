"""Hostile input against every endpoint of the OpenAPI document: nothing breaks, nothing leaks.

Thousands of generated requests (property-based), then the awkward cases one by one. For every answer: no 5xx,
no stack trace, and every 4xx is the JSON error format.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clarion_local.system import LocalClarion, http_call
from tests.system.conftest import WITNESS, new_alert

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = json.loads((ROOT / "docs" / "openapi.json").read_text())
OPERATIONS = [(m.upper(), p, op) for p, item in DOCUMENT["paths"].items() for m, op in item.items()]
EXAMPLES_PER_OPERATION = 350  # x 6 operations: over 2,000 generated requests
TRACE_MARKS = ("Traceback", 'File "/', "Exception:", "botocore", "site-packages")


def properties(operation: dict[str, Any]) -> dict[str, Any]:
    body = operation.get("requestBody")
    if not body:
        return {}
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    return dict(DOCUMENT["components"]["schemas"][ref]["properties"])


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False),
    st.text(max_size=80),
)
any_json = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def bodies(operation: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """Objects built on the schema's own fields (valid-looking, wrong types, extra keys), arbitrary JSON, raw bytes."""
    fields = list(properties(operation)) or ["x"]
    on_schema = st.dictionaries(st.sampled_from(fields) | st.text(max_size=12), any_json, max_size=len(fields) + 2)
    near_valid = st.builds(
        lambda base, key, value: json.dumps({**base, key: value}),
        st.just(new_alert(patient_id="anon-fuzz-0001")),
        st.sampled_from(fields),
        any_json,
    )
    return st.one_of(
        on_schema.map(lambda d: json.dumps(d).encode()),
        near_valid.map(str.encode),
        any_json.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=200),
    )


def check(status: int, payload: bytes) -> None:
    text = payload.decode(errors="replace")
    assert status < 500, text
    assert not any(mark in text for mark in TRACE_MARKS), text
    if status >= 400:
        error = json.loads(payload)["error"]
        assert isinstance(error["code"], str) and error["code"]
        assert isinstance(error["message"], str) and error["message"]


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_generated_requests_never_break_the_api(local: LocalClarion, method: str, path: str, operation: Any) -> None:
    WITNESS.patients.add("anon-fuzz-0001")
    statuses: list[int] = []
    tokens = [local.client_token, local.admin_token, None, "clr_lab-system_" + "Q" * 43, "Bearer ", "x" * 300]

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        parameter=st.text(min_size=1, max_size=140),
        body=bodies(operation),
        token=st.sampled_from(tokens),
        content_type=st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", ""]),
    )
    def one(parameter: str, body: bytes, token: str | None, content_type: str) -> None:
        target = path.replace("{message_id}", quote(parameter, safe="")).replace(
            "{contact_id}", quote(parameter, safe="")
        )
        headers = {"Content-Type": content_type} if content_type else {}
        if token is not None:
            headers["Authorization"] = token
        sent = body if "requestBody" in operation else None
        status, payload = http_call(local.port, method, target, sent, headers)
        WITNESS.answers.append(payload.decode(errors="replace"))
        statuses.append(status)
        check(status, payload)

    one()
    assert len(statuses) >= EXAMPLES_PER_OPERATION
    assert len(set(statuses)) >= 3, statuses  # the generator reaches past the first refusal


def post(local: LocalClarion, body: bytes, content_type: str = "application/json") -> tuple[int, bytes]:
    assert local.client_token
    headers = {"Authorization": local.client_token, "Content-Type": content_type}
    status, payload = http_call(local.port, "POST", "/alerts", body, headers)
    check(status, payload)
    return status, payload


def code_of(payload: bytes) -> str:
    return str(json.loads(payload)["error"]["code"])


def test_oversized_bodies_are_413(local: LocalClarion) -> None:
    big = json.dumps(new_alert(description="x" * 20_000)).encode()
    assert post(local, big)[0] == 413
    huge = b'{"a": "' + b"x" * (10 * 1024 * 1024) + b'"}'  # over API Gateway's 10 MB limit
    assert post(local, huge)[0] == 413


def test_a_wrong_content_type_is_415(local: LocalClarion) -> None:
    status, payload = post(local, json.dumps(new_alert()).encode(), "text/plain")
    assert (status, code_of(payload)) == (415, "unsupported_media_type")


def test_invalid_utf8_is_400(local: LocalClarion) -> None:
    status, _ = post(local, b'{"message_id": "\xff\xfe\xfd"}')
    assert status == 400


@pytest.mark.parametrize("depth", [100, 1_000, 100_000])
def test_deeply_nested_json_is_400(local: LocalClarion, depth: int) -> None:
    status, _ = post(local, b'{"a": ' + b"[" * depth + b"]" * depth + b"}")
    assert status == 400


@pytest.mark.parametrize("number", [b"1e400", b"-1e400", b"9" * 5000, b"1" + b"0" * 100_000])
def test_huge_numbers_are_400(local: LocalClarion, number: bytes) -> None:
    status, _ = post(local, b'{"message_id": "m-1", "priority": ' + number + b"}")
    assert status == 400


def test_header_injection_is_not_echoed_and_breaks_nothing(local: LocalClarion) -> None:
    # Given a request whose Authorization value smuggles a second header and a body-looking line
    injected = f"{local.client_token}\r\nX-Injected: yes\r\nSet-Cookie: session=stolen"
    body = json.dumps(new_alert()).encode()
    request = (
        f"POST /alerts HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {injected}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    with socket.create_connection(("127.0.0.1", local.port), timeout=30) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, payload = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    # Then the injected lines are just headers of this request: nothing is echoed back, nothing fails
    assert b"X-Injected" not in head and b"Set-Cookie" not in head
    check(status, payload)


def test_a_newline_in_a_path_parameter_is_refused_cleanly(local: LocalClarion) -> None:
    assert local.client_token
    status, payload = http_call(
        local.port, "GET", "/alerts/" + quote("m\r\nX: y", safe=""), None, {"Authorization": local.client_token}
    )
    check(status, payload)
    assert status == 400
