"""SMS status: SNS's SMS delivery-status log lines (a CloudWatch Logs subscription's `awslogs` event: gzip, then
base64), forwarded to the receipts queue as receipts by `clarion.usecases.forward_sms_status`.
"""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.shared.observability import logger, tracer
from clarion.usecases import forward_sms_status


def log_lines(event: dict[str, Any]) -> list[str]:
    """The log lines in a CloudWatch Logs subscription event (none for a control message or a malformed one)."""
    try:
        data = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    except (KeyError, TypeError, ValueError, OSError):
        logger.warning("Not a CloudWatch Logs subscription event; dropped")
        return []
    if not isinstance(data, dict) or data.get("messageType") != "DATA_MESSAGE":
        return []  # CONTROL_MESSAGE: CloudWatch Logs checking that the destination is reachable
    return [str(e.get("message", "")) for e in data.get("logEvents", []) if isinstance(e, dict)]


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    queued = forward_sms_status.forward(log_lines(event))
    return {"queued": queued}
