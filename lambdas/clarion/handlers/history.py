"""The audit history's answers (`GET /contacts/{id}/history`, `GET /escalation-policies/{id}/history`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from clarion.handlers.api_models import ChangeView, HistoryView


def view(entries: list[dict[str, Any]]) -> HistoryView:
    changes = [
        ChangeView(
            at=str(e["at"]),
            client_id=str(e.get("client_id", "")),
            action=e["action"],
            before=_plain(e.get("before")),
            after=_plain(e.get("after")),
        )
        for e in entries
    ]
    return HistoryView(changes=changes)


def _plain(value: Any) -> Any:
    """DynamoDB's Decimals back to ints, for JSON."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(v) for v in value]
    return int(value) if isinstance(value, Decimal) else value
