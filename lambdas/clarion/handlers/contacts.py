"""Contacts API (scope `admin`): create or replace, read and delete a contact (`clarion.usecases.manage_contacts`).
The same function serves the escalation policies (`clarion.handlers.policies`) and the on-call schedules
(`clarion.handlers.schedules`, `clarion.handlers.overrides`), the rest of "who is notified"."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.domain.validation import CONTACT_ID_PATTERN
from clarion.handlers import history, http_errors, operations
from clarion.handlers import overrides as override_routes
from clarion.handlers import policies as policy_routes
from clarion.handlers import schedules as schedule_routes
from clarion.handlers.api_models import ContactBody, ContactView, HistoryView
from clarion.shared import requests
from clarion.shared.observability import logger, tracer
from clarion.usecases import manage_contacts

router = APIGatewayRouter()
ContactIdPath = Annotated[str, Path(max_length=64, pattern=CONTACT_ID_PATTERN)]


@router.put("/contacts/<contact_id>", **operations.PUT_CONTACT)
def put_contact(contact_id: ContactIdPath, body: ContactBody) -> Response[ContactView]:
    contact = body.to_contact(contact_id)
    created = manage_contacts.put(contact, requests.client_id(router))
    return Response(
        status_code=201 if created else 200, content_type=content_types.APPLICATION_JSON, body=ContactView.of(contact)
    )


@router.get("/contacts/<contact_id>", **operations.GET_CONTACT)
def get_contact(contact_id: ContactIdPath) -> ContactView:
    return ContactView.of(manage_contacts.get(contact_id))


@router.delete("/contacts/<contact_id>", **operations.DELETE_CONTACT)
def delete_contact(contact_id: ContactIdPath) -> Response[None]:
    manage_contacts.delete(contact_id, requests.client_id(router))
    return Response(status_code=204)


@router.get("/contacts/<contact_id>/history", **operations.GET_CONTACT_HISTORY)
def contact_history(contact_id: ContactIdPath) -> HistoryView:
    return history.view(manage_contacts.history(contact_id))


app = APIGatewayRestResolver(enable_validation=True)
http_errors.install(app)
app.include_router(router)
app.include_router(policy_routes.router)
app.include_router(schedule_routes.router)
app.include_router(override_routes.router)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refused = http_errors.refused_unread(event)
    if refused is not None:
        return refused
    return app.resolve(http_errors.decoded_path(event), context)
