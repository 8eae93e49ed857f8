"""TOKEN authorizer: who is calling, and which routes its token's scopes open (`clarion.usecases.authorize_client`).
The policy lists every route the scopes allow (API Gateway caches it per token), anything else is denied (403); a
malformed header is "Unauthorized" (401). An allowed answer names the client's usage plan key (`usageIdentifierKey`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.domain import tokens
from clarion.shared import requests
from clarion.shared.observability import logger, tracer
from clarion.usecases import authorize_client


def _answer(
    method_arn: str, client_id: str, effect: str, routes: list[tuple[str, str]], context: dict[str, str] | None = None
) -> dict[str, Any]:
    """The authorizer's answer: `effect` on `routes` (method, path) of the API and stage `method_arn` is on.

    (Written here rather than with Powertools' data classes, whose package import alone costs half of
    `import boto3` at every cold start.)"""
    *head, resource = method_arn.split(":", 5)
    api_id, _, rest = resource.partition("/")
    stage = rest.partition("/")[0]
    if not (len(head) == 5 and head[0] == "arn" and api_id and stage):
        raise ValueError("methodArn is not an execute-api ARN")
    base = f"{':'.join(head)}:{api_id}/{stage}"
    statement = {
        "Action": "execute-api:Invoke",
        "Effect": effect,
        "Resource": [f"{base}/{method}/{path.lstrip('/')}" for method, path in routes],
    }
    answer: dict[str, Any] = {
        "principalId": client_id,
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
    }
    if context:
        answer["context"] = context
    return answer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        verdict = authorize_client.authorize(event.get("authorizationToken") or "")
    except tokens.MalformedToken:
        logger.info("authorization header malformed")
        raise Exception("Unauthorized") from None  # API Gateway answers 401
    if not verdict.allowed:
        return _answer(event["methodArn"], verdict.client_id, "Deny", [("*", "*")])
    claims = {requests.CLIENT_ID: verdict.client_id, requests.SCOPES: " ".join(verdict.scopes)}
    answer = _answer(event["methodArn"], verdict.client_id, "Allow", list(verdict.routes), claims)
    if verdict.usage_key:
        answer["usageIdentifierKey"] = verdict.usage_key
    return answer
