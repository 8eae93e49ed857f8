"""The errors an AWS call can raise, named once so that layers above the adapters need no botocore import."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

AWS_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError)


def describe(error: Exception) -> dict[str, str]:
    """What a log line may say of `error`: its type and, for a service error, its code (never its message)."""
    if isinstance(error, ClientError):
        return {"error_type": "ClientError", "error_code": str(error.response.get("Error", {}).get("Code"))}
    return {"error_type": type(error).__name__}
