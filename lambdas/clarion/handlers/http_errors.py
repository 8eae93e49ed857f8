"""The one place where errors become HTTP answers: `{"error": {"code", "message", "field"}}`.

Every resolver installs `to_response` as its only exception handler; no stack trace or input value
ever reaches a client.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)

from clarion.domain import errors
from clarion.handlers.api_models import ErrorBody, ErrorDetail
from clarion.shared.aws_errors import AWS_ERRORS
from clarion.shared.observability import logger

MAX_BODY_BYTES = 16 * 1024

_DOMAIN_STATUS: dict[type[errors.ClarionError], int] = {
    errors.NotFound: 404,
    errors.UnknownContact: 422,
    errors.NoUsableChannel: 422,
    errors.TooManyTokens: 409,
    errors.ConcurrentChange: 409,
    errors.NotARecipient: 422,
    errors.AckNotExpected: 409,
    errors.InUse: 409,
    errors.UnknownPolicy: 422,
    errors.InvalidPhone: 422,
    errors.OverlappingOverride: 409,
}

# Documented on every route (OpenAPI `responses`).
ERROR_RESPONSE: OpenAPIResponse = {
    "description": "Error",
    "content": {"application/json": {"model": ErrorBody}},
}


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return ErrorBody(error=ErrorDetail(code=code, message=message, field=field)).model_dump(mode="json")


def _response(status: int, code: str, message: str, field: str | None = None) -> Response[dict[str, Any]]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=error_body(code, message, field)
    )


def _field_name(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in ("body", "path", "query", "header") else []
    return ".".join(parts) or None


def _validation_response(exc: RequestValidationError) -> Response[dict[str, Any]]:
    first = exc.errors()[0]
    kind = first.get("type", "")
    field = _field_name(tuple(first.get("loc", ())))
    reason = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
    if kind == "json_invalid":
        return _response(400, "invalid_json", "The request body is not valid JSON.")
    if field is None:
        if kind == "missing":
            return _response(400, "missing_body", "The request needs a JSON object as its body.")
        if kind in ("model_attributes_type", "dict_type", "model_type"):
            return _response(400, "invalid_body", "The request body must be a JSON object.")
        return _response(400, "invalid_body", f"The request body is invalid: {reason}.")
    if kind == "extra_forbidden":
        return _response(400, "unknown_field", f"The field '{field}' is not part of this request.", field)
    if kind == "missing":
        return _response(400, "missing_field", f"The field '{field}' is required.", field)
    return _response(400, "invalid_field", f"The field '{field}' is invalid: {reason}.", field)


def to_response(exc: Exception) -> Response[dict[str, Any]]:
    """Map any exception raised while answering a request to the error answer."""
    if isinstance(exc, RequestUnsupportedContentType):
        return _response(415, "unsupported_media_type", "The request body must be sent as application/json.")
    if isinstance(exc, RequestValidationError):
        return _validation_response(exc)
    if isinstance(exc, NotFoundError):
        return _response(404, "not_found", "There is no such route.")
    if isinstance(exc, errors.ClarionError):
        status = _DOMAIN_STATUS.get(type(exc), 400)
        logger.info("request refused", extra={"code": exc.code, "field": exc.field})
        return _response(status, exc.code, exc.message, exc.field)
    if isinstance(exc, IdempotencyValidationError):
        return _response(
            409,
            "conflict",
            "This message_id was already used for an alert with a different body; choose a new message_id.",
            "message_id",
        )
    if isinstance(exc, IdempotencyAlreadyInProgressError):
        return _response(
            409,
            "in_progress",
            "An alert with this message_id is being accepted right now; retry shortly.",
            "message_id",
        )
    if isinstance(exc, (IdempotencyPersistenceLayerError, *AWS_ERRORS)):
        logger.exception("a dependency failed")
        return _response(503, "unavailable", "Clarion could not complete the request; retry it unchanged.")
    logger.exception("unexpected error")
    return _response(500, "internal_error", "Clarion failed to complete the request; retry it unchanged.")


def json_object_body(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Refuse a JSON body that is not an object (the validator would take a list's first element)."""
    if app.current_event.body and not isinstance(app.current_event.json_body, dict):
        raise RequestValidationError([{"type": "model_attributes_type", "loc": ("body",), "msg": "not an object"}])
    return next_middleware(app)


def install(app: APIGatewayRestResolver) -> None:
    app.exception_handler(Exception)(to_response)
    app.use(middlewares=[json_object_body])


def oversized(event: dict[str, Any]) -> dict[str, Any] | None:
    """A 413 proxy response when the body exceeds MAX_BODY_BYTES, checked before anything parses it."""
    body = event.get("body") or ""
    size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode())
    if size <= MAX_BODY_BYTES:
        return None
    return _proxy_error(413, "payload_too_large", f"The request body is larger than {MAX_BODY_BYTES} bytes.")


def _proxy_error(status: int, code: str, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(error_body(code, message, None)),
        "isBase64Encoded": False,
    }


def refused_unread(event: dict[str, Any]) -> dict[str, Any] | None:
    """The 413 or 415 answer to a body too large or not sent as JSON, decided before anything parses it."""
    too_large = oversized(event)
    if too_large is not None:
        return too_large
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if event.get("body") and media_type not in ("", "application/json"):
        return _proxy_error(415, "unsupported_media_type", "The request body must be sent as application/json.")
    return None


# What the resolver's route patterns take in a path parameter unencoded (Powertools' _SAFE_URI).
_PATH_SAFE = "-._~()'!*:@,;=+&$"


def decoded_path(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its path decoded as far as the resolver can route it. API Gateway (REST) passes the path as
    sent, and the resolver takes path parameters from it: `/alerts/lab%3A1` must reach the route as message id
    `lab:1`, as pathParameters has it; what no id may hold stays encoded, so its pattern refuses it (400)."""
    path = event.get("path")
    if not isinstance(path, str) or "%" not in path:
        return event
    segments = (quote(unquote(segment), safe=_PATH_SAFE) for segment in path.split("/"))
    return {**event, "path": "/".join(segments)}


def documented(*statuses: int) -> dict[int, OpenAPIResponse]:
    """The OpenAPI `responses` entries for the error statuses a route can answer with."""
    return {status: ERROR_RESPONSE for status in statuses}
