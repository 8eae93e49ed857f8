"""Answers for the methods a route does not take, made by the gateway itself (MOCK integrations, no function):
405 with `Allow` in Clarion's error format, and 204 with `Allow` to OPTIONS. Without them API Gateway answers
any undeclared method with 403 "Missing Authentication Token", which clients read as "do not retry"."""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import aws_apigateway as apigw

from stacks.compliance import acknowledge

_REASON = (
    "A MOCK integration that answers 405 (or 204 to OPTIONS) with the route's Allow header: it reaches no "
    "function and returns no data, so there is nothing to authorize."
)


def _mock(status: int, allow: str, body: str | None) -> apigw.MockIntegration:
    return apigw.MockIntegration(
        request_templates={"application/json": json.dumps({"statusCode": status})},
        passthrough_behavior=apigw.PassthroughBehavior.NEVER,
        integration_responses=[
            apigw.IntegrationResponse(
                status_code=str(status),
                response_parameters={"method.response.header.Allow": f"'{allow}'"},
                response_templates={"application/json": body or ""},
            )
        ],
    )


def refuse_other_methods(resource: apigw.IResource, allowed: Sequence[str]) -> None:
    """Add OPTIONS (204) and ANY (405) to `resource`, whose own methods are `allowed`."""
    allow = ", ".join([*allowed, "OPTIONS"])
    message = f"This route does not accept $context.httpMethod; it accepts {', '.join(allowed)}."
    body = json.dumps({"error": {"code": "method_not_allowed", "message": message}})
    for verb, status, text in (("OPTIONS", 204, None), ("ANY", 405, body)):
        method = resource.add_method(
            verb,
            _mock(status, allow, text),
            authorization_type=apigw.AuthorizationType.NONE,
            method_responses=[
                apigw.MethodResponse(
                    status_code=str(status), response_parameters={"method.response.header.Allow": True}
                )
            ],
        )
        acknowledge(method, "AwsSolutions-APIG4", _REASON)
        acknowledge(method, "AwsSolutions-COG4", _REASON)
