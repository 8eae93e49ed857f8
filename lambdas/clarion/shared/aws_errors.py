"""The errors an AWS call can raise, named once so that layers above the adapters need no botocore import."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

AWS_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError)


def describe(error: Exception) -> dict[str, str]:
    """What a log line may say of `error`: its type and, for a service error, its code (never its message)."""
    if isinstance(error, ClientError):
        return {"error_type": "ClientError", "error_code": str(error.response.get("Error", {}).get("Code"))}
    return {"error_type": type(error).__name__}


def condition_failed(error: ClientError) -> bool:
    return bool(error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


def item_that_stood(error: ClientError) -> dict[str, Any] | None:
    """The item a failed conditional write returned (`ReturnValuesOnConditionCheckFailure="ALL_OLD"`), each value
    plain: the service gives the low-level form ({"N": "3"}) even to a resource client; None when there was none."""
    item = error.response.get("Item")
    return {name: _plain(value) for name, value in item.items()} if item else None


def _plain(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        kind, inner = next(iter(value.items()))
        if kind in ("N", "S"):
            return inner
    return value
