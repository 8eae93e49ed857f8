"""TOKEN authorizer: who is calling, and which routes its token's scopes open.

API Gateway caches the answer per token across routes, so the policy lists every route the
scopes allow on this API and stage; anything else is denied (403). An empty or malformed header
is answered with "Unauthorized" (401).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    APIGatewayAuthorizerTokenEvent,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.adapters.clients_repo import ClientsRepo
from clarion.domain import tokens
from clarion.shared.observability import logger, tracer

CONTEXT_CLIENT_ID = "client_id"
CONTEXT_SCOPES = "scopes"  # space-separated, e.g. "alerts admin"


@cache
def _repo() -> ClientsRepo:
    return ClientsRepo.from_settings()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = APIGatewayAuthorizerTokenEvent(event)
    try:
        token = tokens.token_from_header(request.authorization_token)
    except tokens.MalformedToken:
        logger.info("authorization header malformed")
        raise Exception("Unauthorized") from None  # API Gateway answers 401
    client_id = tokens.client_id_of(token)
    match = tokens.verify(token, _repo().tokens_of(client_id))
    if match is None:
        logger.info("token refused", extra={"client_id": client_id})
        response = APIGatewayAuthorizerResponse.from_route_arn(request.method_arn, principal_id=client_id)
        response.deny_all_routes()
        return response.asdict()
    scopes = sorted(s.value for s in match.scopes)
    response = APIGatewayAuthorizerResponse.from_route_arn(
        request.method_arn,
        principal_id=client_id,
        context={CONTEXT_CLIENT_ID: client_id, CONTEXT_SCOPES: " ".join(scopes)},
    )
    for method, path in tokens.allowed_routes(match.scopes):
        response.allow_route(method, path)
    logger.info("token accepted", extra={"client_id": client_id, "token_id": match.token_id, "scopes": scopes})
    return response.asdict()
