"""The interface every delivery channel implements, and the mapping of SDK errors to `SendError`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
)

from clarion.domain import routing
from clarion.domain.models import Alert, Channel, Outcome

ERROR_TEXT_MAX = 300


@dataclass(frozen=True)
class Delivery:
    """One attempt to reach one destination with one alert."""

    alert: Alert
    attempt: int
    destination: str
    link: str | None = None  # the recipient's acknowledgement link, for an alert that needs an acknowledgement
    reply_code: str | None = None  # the code a two-way SMS asks the recipient to reply with


class SendError(Exception):
    """A provider refused or failed the send. `code` and `detail` are the provider's, never message content."""

    def __init__(self, retryable: bool, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.retryable = retryable
        self.code = code
        self.detail = detail

    @property
    def outcome(self) -> Outcome:
        return Outcome.RETRYABLE if self.retryable else Outcome.PERMANENT

    @property
    def text(self) -> str:
        """What the delivery log keeps: the provider's code and message, bounded."""
        return (f"{self.code}: {self.detail}" if self.detail else self.code)[:ERROR_TEXT_MAX]


class ChannelAdapter(Protocol):
    channel: Channel

    def send(self, delivery: Delivery) -> str:
        """Hand the message to the provider; return the provider's message (or contact) id."""
        ...


def attempt_token(alert: Alert, attempt: int) -> str:
    """A stable idempotency token for one attempt of one alert to one recipient (same alert, stage, recipient and
    attempt: same token). Stage 0 to the addressed contact keeps the token it always had."""
    if alert.stage == 0 and alert.recipient == alert.contact_id:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"clarion:{alert.key}#{attempt}"))
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"clarion:{alert.key}#{alert.stage}#{alert.recipient}#{attempt}"))


def _transport_code(error: BotoCoreError) -> str | None:
    if isinstance(error, ConnectTimeoutError | ReadTimeoutError):
        return routing.TIMEOUT
    if isinstance(error, EndpointConnectionError | ConnectionClosedError):
        return routing.CONNECTION_ERROR
    if isinstance(error, ParamValidationError):
        return "ValidationError"
    return None


def to_send_error(channel: Channel, error: ClientError | BotoCoreError) -> SendError:
    """Classify an SDK error raised by a channel's provider call."""
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        code = str(info.get("Code") or "Unknown")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        outcome = routing.classify_failure(channel, code, status)
        return SendError(outcome is Outcome.RETRYABLE, code, str(info.get("Message") or ""))
    code = _transport_code(error) or type(error).__name__
    outcome = routing.classify_failure(channel, code)
    return SendError(outcome is Outcome.RETRYABLE, code)
