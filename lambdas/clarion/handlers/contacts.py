"""Contacts API (scope `admin`): create or replace, read and delete a contact. The same function serves the
escalation policies (`clarion.handlers.policies`), the other half of "who is notified"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.adapters import contacts, policies
from clarion.domain.errors import InUse, NotFound, UnknownPolicy
from clarion.domain.models import Contact, Priority
from clarion.domain.validation import CONTACT_ID_PATTERN, usable_phone
from clarion.handlers import http_errors
from clarion.handlers import policies as policy_routes
from clarion.handlers.api_models import ContactBody, ContactView
from clarion.shared.observability import logger, tracer

router = APIGatewayRouter()
_PUT_ERRORS = http_errors.documented(400, 401, 403, 413, 415, 422, 500, 503)
_ERRORS = http_errors.documented(400, 401, 403, 404, 422, 500, 503)
_DELETE_ERRORS = http_errors.documented(400, 401, 403, 404, 409, 422, 500, 503)
ContactIdPath = Annotated[str, Path(max_length=64, pattern=CONTACT_ID_PATTERN)]


def _view(contact: Contact) -> ContactView:
    return ContactView(
        contact_id=contact.contact_id,
        name=contact.name,
        phone_call=contact.phone_call,
        phone_sms=contact.phone_sms,
        email=contact.email,
        channels={p: list(contact.channels.get(p, ())) for p in Priority},
        escalation_policy_id=contact.escalation_policy_id,
    )


def _not_found(contact_id: str) -> NotFound:
    return NotFound(f"There is no contact '{contact_id}'.", field="contact_id")


@router.put(
    "/contacts/<contact_id>",
    summary="Create or replace a contact",
    responses={200: {"description": "Replaced"}, 201: {"description": "Created"}, **_PUT_ERRORS},
    tags=["contacts"],
)
def put_contact(contact_id: ContactIdPath, body: ContactBody) -> Response[ContactView]:
    for field in ("phone_call", "phone_sms"):
        if (number := getattr(body, field)) is not None:
            usable_phone(number, field)
    policy_id = body.escalation_policy_id
    if policy_id is not None and policies.get_policy(policy_id) is None:
        raise UnknownPolicy(f"There is no escalation policy '{policy_id}'.", field="escalation_policy_id")
    existed = contacts.get_contact(contact_id) is not None
    contact = Contact(
        contact_id=contact_id,
        name=body.name,
        phone_call=body.phone_call,
        phone_sms=body.phone_sms,
        email=body.email,
        escalation_policy_id=policy_id,
        channels={
            Priority.HIGH: tuple(body.channels.H),
            Priority.MEDIUM: tuple(body.channels.M),
            Priority.LOW: tuple(body.channels.L),
        },
    )
    contacts.put_contact(contact, datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"))
    logger.info("contact stored", extra={"contact_id": contact_id, "new_contact": not existed})
    return Response(
        status_code=200 if existed else 201, content_type=content_types.APPLICATION_JSON, body=_view(contact)
    )


@router.get(
    "/contacts/<contact_id>",
    summary="Read a contact",
    responses={200: {"description": "The contact"}, **_ERRORS},
    tags=["contacts"],
)
def get_contact(contact_id: ContactIdPath) -> ContactView:
    contact = contacts.get_contact(contact_id)
    if contact is None:
        raise _not_found(contact_id)
    return _view(contact)


@router.delete(
    "/contacts/<contact_id>",
    summary="Delete a contact",
    description="Refused (409 in_use) while an escalation policy names the contact.",
    responses={204: {"description": "Deleted"}, **_DELETE_ERRORS},
    tags=["contacts"],
)
def delete_contact(contact_id: ContactIdPath) -> Response[None]:
    named_by = policies.naming(contact_id)
    if named_by:
        raise InUse(
            f"Contact '{contact_id}' is named by escalation policies {', '.join(named_by)}.", field="contact_id"
        )
    if not contacts.delete_contact(contact_id):
        raise _not_found(contact_id)
    logger.info("contact deleted", extra={"contact_id": contact_id})
    return Response(status_code=204)


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
