"""Contacts API (scope `admin`): create or replace, read and delete a contact. The same function serves the
escalation policies (`clarion.handlers.policies`), the other half of "who is notified"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.adapters import audit, contacts, policies
from clarion.domain.errors import InUse, NotFound, UnknownPolicy
from clarion.domain.models import Contact, Priority
from clarion.domain.validation import CONTACT_ID_PATTERN, usable_phone
from clarion.handlers import history, http_errors
from clarion.handlers import policies as policy_routes
from clarion.handlers.api_models import ContactBody, ContactView, HistoryView
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
    operation_id="putContact",
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
    previous = contacts.get_contact(contact_id)
    existed = previous is not None
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
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    before = contacts.to_item(previous) if previous else None
    entry = audit.Entry(
        f"contact#{contact_id}", history.admin_client_id(router), now, before, contacts.to_item(contact)
    )
    contacts.put_audited(contact, now, entry)
    logger.info("contact stored", extra={"contact_id": contact_id, "new_contact": not existed})
    return Response(
        status_code=200 if existed else 201, content_type=content_types.APPLICATION_JSON, body=_view(contact)
    )


@router.get(
    "/contacts/<contact_id>",
    operation_id="getContact",
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
    operation_id="deleteContact",
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
    previous = contacts.get_contact(contact_id)
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    client_id = history.admin_client_id(router)
    entry = audit.Entry(f"contact#{contact_id}", client_id, now, contacts.to_item(previous) if previous else None, None)
    if previous is None or not contacts.delete_audited(contact_id, entry):
        raise _not_found(contact_id)
    logger.info("contact deleted", extra={"contact_id": contact_id})
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
    entries = audit.history(f"contact#{contact_id}")
    if not entries:
        raise _not_found(contact_id)
    return history.view(entries)


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
