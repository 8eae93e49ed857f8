"""Dialer: starts one Amazon Connect call for the router, from outside the VPC."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.adapters import dialer
from clarion.shared.observability import logger, tracer

# Only these request fields pass through: the dialer cannot be used to call Connect in any other way.
ALLOWED = {
    "InstanceId",
    "ContactFlowId",
    "SourcePhoneNumber",
    "DestinationPhoneNumber",
    "ClientToken",
    "Attributes",
}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = {k: v for k, v in (event.get("request") or {}).items() if k in ALLOWED}
    attributes = request.get("Attributes") or {}
    logger.set_correlation_id(attributes.get("message_id"))
    if set(request) != ALLOWED:
        return {
            "error": {"code": "InvalidParameterException", "message": "incomplete call request", "http_status": 400}
        }
    answer = dialer.answer_for(request)
    logger.info(
        "call started" if "contact_id" in answer else "call refused", extra={"attempt": attributes.get("attempt")}
    )
    return answer
