"""TOKEN authorizer: who is calling, and which routes its token's scopes open.

API Gateway caches the answer per token across routes, so the policy lists every route the
scopes allow on this API and stage; anything else is denied (403). An empty or malformed header
is answered with "Unauthorized" (401).

An allowed answer names the client's usage identifier (`usageIdentifierKey`): its own API key in its tier's usage
plan, else the key its tier's clients without one share; API Gateway then holds the client to that plan's rate and
burst (429 beyond them).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.adapters.clients_repo import ClientsRepo, Usage
from clarion.domain import tokens
from clarion.shared.observability import logger, tracer
from clarion.shared.settings import settings

CONTEXT_CLIENT_ID = "client_id"
CONTEXT_SCOPES = "scopes"  # space-separated, e.g. "alerts admin"


@cache
def _repo() -> ClientsRepo:
    return ClientsRepo.from_settings()


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


def usage_key(usage: Usage, shared: dict[str, str], default_tier: str) -> str | None:
    """The usage identifier for a client: its own key, else its tier's shared key; None when this API has no usage
    plans. A client whose tier is no longer configured (its plan, and its own key's place in it, are gone) gets the
    default tier's shared key, so that it keeps working."""
    if usage.tier and usage.tier not in shared:
        logger.warning("client's tier is not configured; using the default tier", extra={"tier": usage.tier})
        return shared.get(default_tier)
    if usage.key:
        return usage.key
    return shared.get(usage.tier or default_tier)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        token = tokens.token_from_header(event.get("authorizationToken") or "")
    except tokens.MalformedToken:
        logger.info("authorization header malformed")
        raise Exception("Unauthorized") from None  # API Gateway answers 401
    client_id = tokens.client_id_of(token)
    record = _repo().record_of(client_id)
    match = tokens.verify(token, record.tokens)
    if match is None:
        logger.info("token refused", extra={"client_id": client_id})
        return _answer(event["methodArn"], client_id, "Deny", [("*", "*")])
    scopes = sorted(s.value for s in match.scopes)
    logger.info("token accepted", extra={"client_id": client_id, "token_id": match.token_id, "scopes": scopes})
    claims = {CONTEXT_CLIENT_ID: client_id, CONTEXT_SCOPES: " ".join(scopes)}
    answer = _answer(event["methodArn"], client_id, "Allow", tokens.allowed_routes(match.scopes), claims)
    config = settings()
    key = usage_key(record.usage, config.usage_keys, config.usage_tier_default)
    if key:
        answer["usageIdentifierKey"] = key
    return answer
