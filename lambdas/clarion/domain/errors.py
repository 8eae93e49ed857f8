"""Errors the API reports to its clients. Each carries a machine code and a sentence naming the
field at fault; the HTTP status is chosen in one place (`clarion.handlers.http_errors`)."""

from __future__ import annotations

from typing import ClassVar


class ClarionError(Exception):
    code: ClassVar[str] = "error"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(ClarionError):
    code = "not_found"


class UnknownContact(ClarionError):
    code = "unknown_contact"


class NoUsableChannel(ClarionError):
    code = "no_usable_channel"


class TooManyTokens(ClarionError):
    code = "too_many_tokens"


class ConcurrentChange(ClarionError):
    code = "concurrent_change"


class NotARecipient(ClarionError):
    code = "not_a_recipient"


class AckNotExpected(ClarionError):
    code = "ack_not_expected"


class InUse(ClarionError):
    code = "in_use"


class UnknownPolicy(ClarionError):
    code = "unknown_policy"


class InvalidPhone(ClarionError):
    code = "invalid_phone"


class OverlappingOverride(ClarionError):
    code = "overlapping_override"
