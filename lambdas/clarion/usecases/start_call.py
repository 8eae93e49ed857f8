"""Start one Amazon Connect call for a router in a VPC (Connect has no VPC endpoint): the dialer function runs
outside it and does only this. Only the fields of a call request pass, so it cannot be used to call Connect in any
other way; the answer is `{"contact_id": ...}` or `{"error": {"code", "message", "http_status"}}`."""

from __future__ import annotations

from typing import Any

from clarion.adapters import dialer
from clarion.shared.observability import logger

ALLOWED = frozenset(
    {"InstanceId", "ContactFlowId", "SourcePhoneNumber", "DestinationPhoneNumber", "ClientToken", "Attributes"}
)


def start(request: dict[str, Any]) -> dict[str, Any]:
    call = {k: v for k, v in request.items() if k in ALLOWED}
    if set(call) != ALLOWED:
        return {
            "error": {"code": "InvalidParameterException", "message": "incomplete call request", "http_status": 400}
        }
    answer = dialer.answer_for(call)
    logger.info("call started" if "contact_id" in answer else "call refused")
    return answer
