"""Starting calls through the dialer function, for a router in a VPC (Connect has no VPC endpoint).

The dialer answers `{"contact_id": ...}` or `{"error": {"code", "message", "http_status"}}`; an error is
raised here as the `ClientError` Connect itself would have raised, so the channel's error mapping applies.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from clarion.shared import clients

OPERATION = "StartOutboundVoiceContact"


def _error(code: str, message: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, OPERATION
    )


def start_call(function_name: str, request: dict[str, Any]) -> str:
    response = clients.send_client("lambda").invoke(
        FunctionName=function_name, InvocationType="RequestResponse", Payload=json.dumps({"request": request})
    )
    if response.get("FunctionError"):
        raise _error("DialerFailed", "the dialer function failed", 500)
    answer = json.loads(response["Payload"].read() or b"{}")
    if "contact_id" in answer:
        return str(answer["contact_id"])
    error = answer.get("error") or {}
    raise _error(
        str(error.get("code", "DialerFailed")), str(error.get("message", "")), int(error.get("http_status", 500))
    )


def answer_for(request: dict[str, Any]) -> dict[str, Any]:
    """The dialer's side: start the call and describe the outcome as plain JSON."""
    try:
        response = clients.send_client("connect").start_outbound_voice_contact(**request)
    except ClientError as error:
        return {
            "error": {
                "code": error.response["Error"].get("Code", "Unknown"),
                "message": error.response["Error"].get("Message", ""),
                "http_status": error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500),
            }
        }
    return {"contact_id": response["ContactId"]}
