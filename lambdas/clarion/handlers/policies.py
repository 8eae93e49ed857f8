"""Escalation policies API (scope `admin`): create or replace, read and delete a policy
(`clarion.usecases.manage_policies`).

Served by the contacts function (one admin function): its resolver includes this router.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.domain.validation import CONTACT_ID_PATTERN
from clarion.handlers import history, http_errors
from clarion.handlers.api_models import HistoryView, PolicyBody, PolicyView
from clarion.shared import requests
from clarion.usecases import manage_policies

router = APIGatewayRouter()
# 422 replaces the validator's default entry; it is also what an unknown contact gets.
_PUT_ERRORS = http_errors.documented(400, 401, 403, 413, 415, 422, 500, 503)
_ERRORS = http_errors.documented(400, 401, 403, 404, 422, 500, 503)
_DELETE_ERRORS = http_errors.documented(400, 401, 403, 404, 409, 422, 500, 503)
PolicyIdPath = Annotated[str, Path(max_length=64, pattern=CONTACT_ID_PATTERN)]


@router.put(
    "/escalation-policies/<policy_id>",
    operation_id="putEscalationPolicy",
    summary="Create or replace an escalation policy",
    description="Who is notified, stage by stage, when an alert is not acknowledged in time. Alerts already on "
    "their way keep the path they were accepted with.",
    responses={200: {"description": "Replaced"}, 201: {"description": "Created"}, **_PUT_ERRORS},
    tags=["escalation policies"],
)
def put_policy(policy_id: PolicyIdPath, body: PolicyBody) -> Response[PolicyView]:
    policy = body.to_policy(policy_id)
    created = manage_policies.put(policy, requests.client_id(router))
    return Response(
        status_code=201 if created else 200, content_type=content_types.APPLICATION_JSON, body=PolicyView.of(policy)
    )


@router.get(
    "/escalation-policies/<policy_id>",
    operation_id="getEscalationPolicy",
    summary="Read an escalation policy",
    responses={200: {"description": "The policy"}, **_ERRORS},
    tags=["escalation policies"],
)
def get_policy(policy_id: PolicyIdPath) -> PolicyView:
    return PolicyView.of(manage_policies.get(policy_id))


@router.delete(
    "/escalation-policies/<policy_id>",
    operation_id="deleteEscalationPolicy",
    summary="Delete an escalation policy",
    description="Refused (409 in_use) while a contact names it as its policy.",
    responses={204: {"description": "Deleted"}, **_DELETE_ERRORS},
    tags=["escalation policies"],
)
def delete_policy(policy_id: PolicyIdPath) -> Response[None]:
    manage_policies.delete(policy_id, requests.client_id(router))
    return Response(status_code=204)


@router.get(
    "/escalation-policies/<policy_id>/history",
    operation_id="getEscalationPolicyHistory",
    summary="Read who changed an escalation policy, when, and what it held before",
    description="Every create, replace and delete, oldest first; kept after the policy is deleted.",
    responses={200: {"description": "The changes"}, **_ERRORS},
    tags=["escalation policies"],
)
def policy_history(policy_id: PolicyIdPath) -> HistoryView:
    return history.view(manage_policies.history(policy_id))
