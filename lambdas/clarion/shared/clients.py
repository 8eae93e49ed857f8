"""boto3 clients, created lazily once per container with timeouts that fit a Lambda."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Short connect/read timeouts and a small SDK retry budget: Clarion's own retry policy
# (router) decides what to do next, within the function's time budget.
_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 2})
# A send (an SMS, an email, a call) is made once per attempt: SNS and SES sends are not idempotent, so an SDK retry
# after a timeout could reach the clinician twice, and every attempt in the delivery log is one provider request.
_SEND_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 1})


@cache
def client(service: str) -> Any:
    return boto3.session.Session().client(service, config=_CONFIG)  # type: ignore[call-overload]


@cache
def send_client(service: str) -> Any:
    """The client that makes the providers' sends: no SDK retries (the router's policy retries)."""
    return boto3.session.Session().client(service, config=_SEND_CONFIG)  # type: ignore[call-overload]


@cache
def dynamodb_table(name: str) -> Any:
    return boto3.session.Session().resource("dynamodb", config=_CONFIG).Table(name)


def reset() -> None:
    """Forget cached clients (tests switch endpoints and credentials)."""
    client.cache_clear()
    send_client.cache_clear()
    dynamodb_table.cache_clear()
