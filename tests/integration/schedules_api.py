"""Calling the admin API's schedule routes in-process, as the schedule suites do: a schedule body and the moment
the suites stand at."""

from __future__ import annotations

from typing import Any

from clarion.handlers.contacts import handler
from tests.integration.api_events import api_event, call

NOW = 1_796_724_000.0  # 2026-12-08T10:00:00Z: 10:00 in London (GMT)
SCHEDULE: dict[str, Any] = {
    "name": "Cardiology registrar",
    "time_zone": "Europe/London",
    "layers": [
        {"participants": ["C-1", "C-2"], "shift": {"length": 1, "unit": "days"}, "handoff_at": "2026-12-07T08:00"}
    ],
    "fallback_contact_ids": ["C-4"],
}


def admin(method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> tuple[int, Any]:
    event = api_event(method, path, body, client_id="ops", scopes="admin")
    if query:
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    return call(handler, event)
