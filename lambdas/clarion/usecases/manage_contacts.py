"""Manage the contacts (scope `admin`): create or replace, read, delete, and read who changed one.

Every change is written together with its audit entry (who, when, before and after) in one transaction, so no
change goes unrecorded; the history outlives the contact. A contact's phone numbers must be usable for their
channel, and its escalation policy must exist; a contact an escalation policy names cannot be deleted.
"""

from __future__ import annotations

from typing import Any

from clarion.adapters import audit, contacts, policies
from clarion.domain.errors import InUse, NotFound, UnknownPolicy
from clarion.domain.models import Contact
from clarion.domain.validation import usable_phone
from clarion.shared import clock
from clarion.shared.observability import logger


def _not_found(contact_id: str) -> NotFound:
    return NotFound(f"There is no contact '{contact_id}'.", field="contact_id")


def put(contact: Contact, by: str) -> bool:
    """Store `contact` for the client `by`; True when it is new."""
    for field in ("phone_call", "phone_sms"):
        if (number := getattr(contact, field)) is not None:
            usable_phone(number, field)
    policy_id = contact.escalation_policy_id
    if policy_id is not None and policies.get_policy(policy_id) is None:
        raise UnknownPolicy(f"There is no escalation policy '{policy_id}'.", field="escalation_policy_id")
    previous = contacts.get_contact(contact.contact_id)
    now = clock.stamp()
    before = contacts.to_item(previous) if previous else None
    entry = audit.Entry(f"contact#{contact.contact_id}", by, now, before, contacts.to_item(contact))
    contacts.put_audited(contact, now, entry)
    logger.info("contact stored", extra={"contact_id": contact.contact_id, "new_contact": previous is None})
    return previous is None


def get(contact_id: str) -> Contact:
    contact = contacts.get_contact(contact_id)
    if contact is None:
        raise _not_found(contact_id)
    return contact


def delete(contact_id: str, by: str) -> None:
    """Delete the contact for the client `by`; refused while an escalation policy names it."""
    named_by = policies.naming(contact_id)
    if named_by:
        raise InUse(
            f"Contact '{contact_id}' is named by escalation policies {', '.join(named_by)}.", field="contact_id"
        )
    previous = contacts.get_contact(contact_id)
    entry = audit.Entry(
        f"contact#{contact_id}", by, clock.stamp(), contacts.to_item(previous) if previous else None, None
    )
    if previous is None or not contacts.delete_audited(contact_id, entry):
        raise _not_found(contact_id)
    logger.info("contact deleted", extra={"contact_id": contact_id})


def history(contact_id: str) -> list[dict[str, Any]]:
    """Every change to the contact, oldest first (kept after it is deleted)."""
    entries = audit.history(f"contact#{contact_id}")
    if not entries:
        raise _not_found(contact_id)
    return entries
