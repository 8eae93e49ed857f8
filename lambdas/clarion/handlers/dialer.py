"""Dialer: starts one Amazon Connect call for the router, from outside the VPC (`clarion.usecases.start_call`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.shared.observability import logger, tracer
from clarion.usecases import start_call


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return start_call.start(event.get("request") or {})
