"""Accept an alert (`POST /alerts`, and the AWS sample's `POST /notification`): check that its contact can be
reached, fix its escalation path, record it, announce it and queue it for delivery; answered once per message id.

An alert whose priority needs an acknowledgement is accepted with its walk fixed (the addressee, then the policy's
stages: the alert's own policy wins over the contact's) and the addressee's window timer queued before the alert
itself. An alert naming an unknown policy is refused even when its priority needs no acknowledgement, so clients
learn of the typo. The patient reference is validated by the API, taken into the body's keyed hash (HMAC) for
idempotency (`adapters/idempotency.py`: a reused message id with another patient is refused), and otherwise
discarded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from clarion import names
from clarion.adapters import contacts, delivery_log, escalations, events, idempotency, policies, queue, timers
from clarion.domain import escalation, messages
from clarion.domain.errors import NoUsableChannel, UnknownContact, UnknownPolicy
from clarion.domain.models import Alert, AlertStatus, Channel, Contact, Priority
from clarion.domain.timers import Timer
from clarion.shared import clock, metrics
from clarion.shared.observability import logger
from clarion.shared.settings import settings


@dataclass(frozen=True)
class NewAlert:
    """An alert as a client submits it (its fields are what the idempotency record's keyed hash is taken over)."""

    message_id: str
    type: str
    patient_id: str
    contact_id: str
    description: str
    priority: Priority
    escalation_policy_id: str | None = None


@dataclass(frozen=True)
class Accepted:
    message_id: str
    channels: tuple[Channel, ...]


@dataclass(frozen=True)
class _Submission:
    """What the idempotency record is keyed on (client_id + message_id) and validated against (alert)."""

    client_id: str
    alert: NewAlert


def accept(client_id: str, alert: NewAlert) -> Accepted:
    """Accept `alert` from `client_id`; the same answer again for the same alert, `IdempotencyValidationError` for
    a reused message id with another body."""
    answer = idempotency.once(_accept, "submission", "clarion-intake-accept")(submission=_Submission(client_id, alert))
    return Accepted(str(answer["message_id"]), tuple(Channel(c) for c in answer["channels"]))


def _accept(*, submission: _Submission) -> dict[str, Any]:
    request = submission.alert
    contact = contacts.get_contact(request.contact_id)
    if contact is None:
        raise UnknownContact(f"There is no contact '{request.contact_id}'.", field="contact_id")
    plan = contact.plan(request.priority, settings().call_enabled)
    if not plan:
        raise NoUsableChannel(
            f"Contact '{request.contact_id}' has no channel that can be used for priority {request.priority.value}.",
            field="contact_id",
        )
    alert = Alert(
        client_id=submission.client_id,
        message_id=request.message_id,
        type=request.type,
        contact_id=request.contact_id,
        description=request.description,
        priority=request.priority,
        accepted_at=clock.stamp(),
        plan=plan,
    )
    walk = _walk(alert, request, contact)
    if walk is not None:
        alert = replace(alert, ack_required=True)
    delivery_log.create_alert(alert, walk[0] if walk else None)
    events.publish_status(alert, AlertStatus.ACCEPTED, alert.accepted_at)
    if walk is not None:
        timers.schedule(Timer(alert.client_id, alert.message_id, 0, walk[1]))
    queue.enqueue(alert)  # last: once it is on the queue, it will be delivered
    metrics.emit(names.METRIC_ALERTS_ACCEPTED)
    logger.info("alert accepted", extra={"priority": alert.priority.value, "plan": [c.value for c in plan]})
    # The answer as the idempotency record keeps it (and gives it again): the API's 202 body.
    return {"message_id": alert.message_id, "status": "accepted", "channels": [c.value for c in plan]}


def _policy_for(request: NewAlert, contact: Contact) -> escalation.Policy | None:
    """The alert's own policy (it wins), else the contact's; an alert naming an unknown one is refused."""
    if request.escalation_policy_id is not None:
        policy = policies.get_policy(request.escalation_policy_id)
        if policy is None:
            raise UnknownPolicy(
                f"There is no escalation policy '{request.escalation_policy_id}'.", field="escalation_policy_id"
            )
        return policy
    if contact.escalation_policy_id is None:
        return None
    policy = policies.get_policy(contact.escalation_policy_id)
    if policy is None:
        logger.warning("The contact's escalation policy is gone; the alert has no stages past its addressee")
    return policy


def _walk(alert: Alert, request: NewAlert, contact: Contact) -> tuple[dict[str, Any], float] | None:
    """The escalation walk's attributes and the addressee's window end (epoch), or None: no ack needed."""
    config = settings()
    window = config.ack_window_s(alert.priority.value)
    if window is None:
        if request.escalation_policy_id is not None:
            _policy_for(request, contact)  # still refuse an unknown policy, so clients learn of the typo
        return None
    policy = _policy_for(request, contact)
    path = escalation.build_path(alert.contact_id, window, policy)
    target = config.ack_target_s(alert.priority.value) or window
    ends = escalation.window_ends(path, 0, clock.epoch(alert.accepted_at))
    walk = escalations.walk_item(
        path,
        target,
        policy.policy_id if policy else None,
        alert.accepted_at,
        messages.clean_description(alert.description),
        clock.stamp(ends),
    )
    return walk, ends


def begin(context: Any) -> None:
    """Called by the handler at each invocation (with its Lambda context): an accept cut short by a timeout can be
    retried once the invocation's own time is over, not only when its in-progress record expires."""
    idempotency.register(context)
