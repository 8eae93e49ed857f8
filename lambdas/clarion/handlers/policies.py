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
from clarion.handlers import history, operations
from clarion.handlers.api_models import HistoryView, PolicyBody, PolicyView
from clarion.shared import requests
from clarion.usecases import manage_policies

router = APIGatewayRouter()
PolicyIdPath = Annotated[str, Path(max_length=64, pattern=CONTACT_ID_PATTERN)]


@router.put("/escalation-policies/<policy_id>", **operations.PUT_ESCALATION_POLICY)
def put_policy(policy_id: PolicyIdPath, body: PolicyBody) -> Response[PolicyView]:
    policy = body.to_policy(policy_id)
    created = manage_policies.put(policy, requests.client_id(router))
    return Response(
        status_code=201 if created else 200, content_type=content_types.APPLICATION_JSON, body=PolicyView.of(policy)
    )


@router.get("/escalation-policies/<policy_id>", **operations.GET_ESCALATION_POLICY)
def get_policy(policy_id: PolicyIdPath) -> PolicyView:
    return PolicyView.of(manage_policies.get(policy_id))


@router.delete("/escalation-policies/<policy_id>", **operations.DELETE_ESCALATION_POLICY)
def delete_policy(policy_id: PolicyIdPath) -> Response[None]:
    manage_policies.delete(policy_id, requests.client_id(router))
    return Response(status_code=204)


@router.get("/escalation-policies/<policy_id>/history", **operations.GET_ESCALATION_POLICY_HISTORY)
def policy_history(policy_id: PolicyIdPath) -> HistoryView:
    return history.view(manage_policies.history(policy_id))
