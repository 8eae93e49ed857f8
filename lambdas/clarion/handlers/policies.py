"""Escalation policies API (scope `admin`): create or replace, read and delete a policy.

Served by the contacts function (one admin function): its resolver includes this router.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.adapters import audit, contacts, policies
from clarion.domain.errors import InUse, NotFound, UnknownContact
from clarion.domain.escalation import Policy, Stage
from clarion.domain.validation import CONTACT_ID_PATTERN
from clarion.handlers import history, http_errors
from clarion.handlers.api_models import HistoryView, PolicyBody, PolicyView, StageBody
from clarion.shared.observability import logger

router = APIGatewayRouter()
# 422 replaces the validator's default entry; it is also what an unknown contact gets.
_PUT_ERRORS = http_errors.documented(400, 401, 403, 413, 415, 422, 500, 503)
_ERRORS = http_errors.documented(400, 401, 403, 404, 422, 500, 503)
_DELETE_ERRORS = http_errors.documented(400, 401, 403, 404, 409, 422, 500, 503)
PolicyIdPath = Annotated[str, Path(max_length=64, pattern=CONTACT_ID_PATTERN)]


def _view(policy: Policy) -> PolicyView:
    return PolicyView(
        policy_id=policy.policy_id,
        name=policy.name,
        addressee_ack_within_s=policy.addressee_ack_within_s,
        stages=[StageBody(contact_ids=list(s.contact_ids), ack_within_s=s.ack_within_s) for s in policy.stages],
        repeat=policy.repeat,
    )


def _not_found(policy_id: str) -> NotFound:
    return NotFound(f"There is no escalation policy '{policy_id}'.", field="policy_id")


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
    for n, stage in enumerate(body.stages):
        for contact_id in stage.contact_ids:
            if contacts.get_contact(contact_id) is None:
                raise UnknownContact(f"There is no contact '{contact_id}'.", field=f"stages.{n}.contact_ids")
    previous = policies.get_policy(policy_id)
    existed = previous is not None
    policy = Policy(
        policy_id=policy_id,
        name=body.name,
        stages=tuple(Stage(tuple(s.contact_ids), s.ack_within_s) for s in body.stages),
        repeat=body.repeat,
        addressee_ack_within_s=body.addressee_ack_within_s,
    )
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    before = policies.to_item(previous) if previous else None
    entry = audit.Entry(f"policy#{policy_id}", history.admin_client_id(router), now, before, policies.to_item(policy))
    policies.put_audited(policy, now, entry)
    logger.info("escalation policy stored", extra={"policy_id": policy_id, "new_policy": not existed})
    return Response(
        status_code=200 if existed else 201, content_type=content_types.APPLICATION_JSON, body=_view(policy)
    )


@router.get(
    "/escalation-policies/<policy_id>",
    operation_id="getEscalationPolicy",
    summary="Read an escalation policy",
    responses={200: {"description": "The policy"}, **_ERRORS},
    tags=["escalation policies"],
)
def get_policy(policy_id: PolicyIdPath) -> PolicyView:
    policy = policies.get_policy(policy_id)
    if policy is None:
        raise _not_found(policy_id)
    return _view(policy)


@router.delete(
    "/escalation-policies/<policy_id>",
    operation_id="deleteEscalationPolicy",
    summary="Delete an escalation policy",
    description="Refused (409 in_use) while a contact names it as its policy.",
    responses={204: {"description": "Deleted"}, **_DELETE_ERRORS},
    tags=["escalation policies"],
)
def delete_policy(policy_id: PolicyIdPath) -> Response[None]:
    users = contacts.covered_by(policy_id)
    if users:
        raise InUse(f"Escalation policy '{policy_id}' is named by contacts {', '.join(users)}.", field="policy_id")
    previous = policies.get_policy(policy_id)
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    before = policies.to_item(previous) if previous else None
    entry = audit.Entry(f"policy#{policy_id}", history.admin_client_id(router), now, before, None)
    if previous is None or not policies.delete_audited(policy_id, entry):
        raise _not_found(policy_id)
    logger.info("escalation policy deleted", extra={"policy_id": policy_id})
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
    entries = audit.history(f"policy#{policy_id}")
    if not entries:
        raise _not_found(policy_id)
    return history.view(entries)
