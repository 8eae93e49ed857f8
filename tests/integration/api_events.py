"""API Gateway REST proxy events, as the deployed API would pass them (the Lambda context: tests.helpers)."""

from __future__ import annotations

import json
from typing import Any

from tests.helpers import FakeContext


def api_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    client_id: str = "lab-system",
    scopes: str = "alerts",
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A proxy event for `method path`, as authorized for `client_id` with `scopes`."""
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": "req-1",
            "accountId": "123456789012",
            "apiId": "abc123",
            "identity": {"sourceIp": "203.0.113.9"},
            "authorizer": {"client_id": client_id, "scopes": scopes, "principalId": client_id},
        },
        "body": text,
        "isBase64Encoded": False,
    }


def call(handler: Any, event: dict[str, Any]) -> tuple[int, Any]:
    """Invoke `handler` and return (status, decoded JSON body or None)."""
    response = handler(event, FakeContext())
    body = response.get("body")
    return response["statusCode"], json.loads(body) if body else None


def log_to_captured_stdout(monkeypatch: Any) -> None:
    """Point the shared logger at the current sys.stdout: capsys's buffer while a test runs
    (the handler otherwise keeps the stream it found when first imported)."""
    import sys

    from clarion.shared.observability import logger

    monkeypatch.setattr(logger.registered_handler, "stream", sys.stdout)
