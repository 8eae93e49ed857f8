"""Manage the escalation policies (scope `admin`): create or replace, read, delete, and read who changed one.

Every change is written together with its audit entry in one transaction. A policy may name only contacts that
exist; a policy a contact names cannot be deleted. Alerts already on their way keep the path they were accepted
with.
"""

from __future__ import annotations

from typing import Any

from clarion.adapters import audit, contacts, policies
from clarion.domain.errors import InUse, NotFound, UnknownContact
from clarion.domain.escalation import Policy
from clarion.shared import clock
from clarion.shared.observability import logger


def _not_found(policy_id: str) -> NotFound:
    return NotFound(f"There is no escalation policy '{policy_id}'.", field="policy_id")


def put(policy: Policy, by: str) -> bool:
    """Store `policy` for the client `by`; True when it is new."""
    for n, stage in enumerate(policy.stages):
        for contact_id in stage.contact_ids:
            if contacts.get_contact(contact_id) is None:
                raise UnknownContact(f"There is no contact '{contact_id}'.", field=f"stages.{n}.contact_ids")
    previous = policies.get_policy(policy.policy_id)
    now = clock.stamp()
    before = policies.to_item(previous) if previous else None
    entry = audit.Entry(f"policy#{policy.policy_id}", by, now, before, policies.to_item(policy))
    policies.put_audited(policy, now, entry)
    logger.info("escalation policy stored", extra={"policy_id": policy.policy_id, "new_policy": previous is None})
    return previous is None


def get(policy_id: str) -> Policy:
    policy = policies.get_policy(policy_id)
    if policy is None:
        raise _not_found(policy_id)
    return policy


def delete(policy_id: str, by: str) -> None:
    """Delete the policy for the client `by`; refused while a contact names it."""
    users = contacts.covered_by(policy_id)
    if users:
        raise InUse(f"Escalation policy '{policy_id}' is named by contacts {', '.join(users)}.", field="policy_id")
    previous = policies.get_policy(policy_id)
    before = policies.to_item(previous) if previous else None
    entry = audit.Entry(f"policy#{policy_id}", by, clock.stamp(), before, None)
    if previous is None or not policies.delete_audited(policy_id, entry):
        raise _not_found(policy_id)
    logger.info("escalation policy deleted", extra={"policy_id": policy_id})


def history(policy_id: str) -> list[dict[str, Any]]:
    """Every change to the policy, oldest first (kept after it is deleted)."""
    entries = audit.history(f"policy#{policy_id}")
    if not entries:
        raise _not_found(policy_id)
    return entries
