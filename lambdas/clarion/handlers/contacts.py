"""Contacts API (scope `admin`): create or replace, read and delete a contact (`clarion.usecases.manage_contacts`).
The same function serves the
escalation policies (`clarion.handlers.policies`), the other half of "who is notified"."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.domain.validation import CONTACT_ID_PATTERN
from clarion.handlers import history, http_errors
from clarion.handlers import policies as policy_routes
from clarion.handlers.api_models import ContactBody, ContactView, HistoryView
from clarion.shared import requests
from clarion.shared.observability import logger, tracer
from clarion.usecases import manage_contacts

router = APIGatewayRouter()
_PUT_ERRORS = http_errors.documented(400, 401, 403, 413, 415, 422, 500, 503)
_ERRORS = http_errors.documented(400, 401, 403, 404, 422, 500, 503)
_DELETE_ERRORS = http_errors.documented(400, 401, 403, 404, 409, 422, 500, 503)
ContactIdPath = Annotated[str, Path(max_length=64, pattern=CONTACT_ID_PATTERN)]


@router.put(
    "/contacts/<contact_id>",
    operation_id="putContact",
    summary="Create or replace a contact",
    responses={200: {"description": "Replaced"}, 201: {"description": "Created"}, **_PUT_ERRORS},
    tags=["contacts"],
)
def put_contact(contact_id: ContactIdPath, body: ContactBody) -> Response[ContactView]:
    contact = body.to_contact(contact_id)
    created = manage_contacts.put(contact, requests.client_id(router))
    return Response(
        status_code=201 if created else 200, content_type=content_types.APPLICATION_JSON, body=ContactView.of(contact)
    )


@router.get(
    "/contacts/<contact_id>",
    operation_id="getContact",
    summary="Read a contact",
    responses={200: {"description": "The contact"}, **_ERRORS},
    tags=["contacts"],
)
def get_contact(contact_id: ContactIdPath) -> ContactView:
    return ContactView.of(manage_contacts.get(contact_id))


@router.delete(
    "/contacts/<contact_id>",
    operation_id="deleteContact",
    summary="Delete a contact",
    description="Refused (409 in_use) while an escalation policy names the contact.",
    responses={204: {"description": "Deleted"}, **_DELETE_ERRORS},
    tags=["contacts"],
)
def delete_contact(contact_id: ContactIdPath) -> Response[None]:
    manage_contacts.delete(contact_id, requests.client_id(router))
    return Response(status_code=204)


@router.get(
    "/contacts/<contact_id>/history",
    operation_id="getContactHistory",
    summary="Read who changed a contact, when, and what it held before",
    description="Every create, replace and delete, oldest first; kept after the contact is deleted.",
    responses={200: {"description": "The changes"}, **_ERRORS},
    tags=["contacts"],
)
def contact_history(contact_id: ContactIdPath) -> HistoryView:
    return history.view(manage_contacts.history(contact_id))


app = APIGatewayRestResolver(enable_validation=True)
http_errors.install(app)
app.include_router(router)
app.include_router(policy_routes.router)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refused = http_errors.refused_unread(event)
    if refused is not None:
        return refused
    return app.resolve(http_errors.decoded_path(event), context)
