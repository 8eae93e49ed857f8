"""The answers API Gateway makes itself (no function runs), in Clarion's error format, so clients see one shape
whoever answers; the two 429s say when to try again (`Retry-After`).

A gateway response is API-wide: it cannot differ by route. The acknowledgement link's own limit is therefore the
WAF's (`waf.py`), whose answer is a page; the gateway's 429 reaches a link only when every address at once goes
over the link methods' own throttle, set far above what clinicians send (`api.py`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import aws_apigateway as apigw

THROTTLED_RETRY_AFTER_S = 1  # rates are per second: a throttled client's bucket has room again within one
# A spent daily quota renews at the next UTC midnight, which a gateway response cannot compute (its headers are
# fixed or copied, never calculated): retry hourly, and each retry until then is another cheap 429.
QUOTA_RETRY_AFTER_S = 3600


@dataclass(frozen=True)
class _Answer:
    code: str
    message: str | None  # None: API Gateway's own message, JSON-quoted by `messageString`
    status: str | None = None  # None: API Gateway's status for the type
    retry_after_s: int | None = None


# MISSING_AUTHENTICATION_TOKEN is what API Gateway answers for a path no route has: 404 here, not its 403.
ANSWERS: dict[apigw.ResponseType, _Answer] = {
    apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN: _Answer("not_found", "There is no such route.", "404"),
    apigw.ResponseType.UNAUTHORIZED: _Answer("unauthorized", "A token is required in the Authorization header."),
    apigw.ResponseType.ACCESS_DENIED: _Answer("forbidden", "This token may not use this route."),
    apigw.ResponseType.THROTTLED: _Answer(
        "throttled", "Too many requests; retry with backoff.", retry_after_s=THROTTLED_RETRY_AFTER_S
    ),
    apigw.ResponseType.QUOTA_EXCEEDED: _Answer(
        "quota_exceeded",
        "This client's daily quota of requests is spent; it renews at 00:00 UTC.",
        retry_after_s=QUOTA_RETRY_AFTER_S,
    ),
    # The authorizer named a usage identifier in no usage plan (a client's key removed by hand).
    apigw.ResponseType.INVALID_API_KEY: _Answer(
        "forbidden", "This client is in no usage plan; ask the operator for a tier."
    ),
    apigw.ResponseType.BAD_REQUEST_BODY: _Answer("invalid_body", "The request body must be a JSON object."),
    apigw.ResponseType.REQUEST_TOO_LARGE: _Answer("body_too_large", "The request body is too large."),
    apigw.ResponseType.WAF_FILTERED: _Answer("blocked", "The request was blocked by the web application firewall."),
    apigw.ResponseType.DEFAULT_4_XX: _Answer("bad_request", None),
    apigw.ResponseType.DEFAULT_5_XX: _Answer("internal_error", "The service could not answer; retry with backoff."),
}


def add_gateway_responses(api: apigw.RestApi) -> None:
    for response_type, answer in ANSWERS.items():
        text = "$context.error.messageString" if answer.message is None else json.dumps(answer.message)
        api.add_gateway_response(
            f"Gw{response_type.response_type}",
            type=response_type,
            status_code=answer.status,
            response_headers={"Retry-After": f"'{answer.retry_after_s}'"} if answer.retry_after_s else None,
            templates={"application/json": f'{{"error": {{"code": "{answer.code}", "message": {text}}}}}'},
        )
