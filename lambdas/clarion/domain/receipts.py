"""Delivery receipts: what a provider's report on a sent message means for its attempt. Pure logic, no I/O.

A provider accepting a message is not a person receiving it. The receipt says what happened after: the email was
delivered or bounced, the SMS reached the handset or the carrier could not deliver it, the call was answered or
rang out. `classify` reads each provider's own event into a `Verdict`; `settle` decides what an attempt's
receipt state becomes when a receipt arrives, so that receipts arriving twice, late or out of order never change
an attempt wrongly: the first final verdict stands, and a progress report after it changes nothing.

Not wired yet: the router still counts a provider's acceptance as delivery (issue 12 continues).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    IN_PROGRESS = "in_progress"  # accepted, queued, ringing: not final
    DELIVERED = "delivered"  # reached the inbox or the handset; the call was answered
    UNDELIVERED = "undelivered"  # will not arrive: bounced, rejected, unreachable, blocked, expired
    NO_ANSWER = "no_answer"  # the call rang out, was busy, or went unanswered
    IGNORED = "ignored"  # nothing that changes delivery (a complaint, an open, an unknown event)


FINAL = frozenset({Verdict.DELIVERED, Verdict.UNDELIVERED, Verdict.NO_ANSWER})
FAILURES = frozenset({Verdict.UNDELIVERED, Verdict.NO_ANSWER})

# AWS End User Messaging SMS event types (`eventType`).
_SMS = {
    "TEXT_DELIVERED": Verdict.DELIVERED,
    "TEXT_SUCCESSFUL": Verdict.DELIVERED,  # used instead of DELIVERED in some countries
    "TEXT_SENT": Verdict.IN_PROGRESS,
    "TEXT_PENDING": Verdict.IN_PROGRESS,
    "TEXT_QUEUED": Verdict.IN_PROGRESS,
    "TEXT_INVALID": Verdict.UNDELIVERED,
    "TEXT_INVALID_MESSAGE": Verdict.UNDELIVERED,
    "TEXT_UNREACHABLE": Verdict.UNDELIVERED,
    "TEXT_CARRIER_UNREACHABLE": Verdict.UNDELIVERED,
    "TEXT_BLOCKED": Verdict.UNDELIVERED,
    "TEXT_CARRIER_BLOCKED": Verdict.UNDELIVERED,
    "TEXT_SPAM": Verdict.UNDELIVERED,
    "TEXT_TTL_EXPIRED": Verdict.UNDELIVERED,
    "TEXT_PROTECT_BLOCKED": Verdict.UNDELIVERED,
    "TEXT_UNKNOWN": Verdict.UNDELIVERED,  # no carrier report within 72 h: not to be believed delivered
}
# Amazon SES event types (`eventType`, or `notificationType` in identity notifications).
_EMAIL = {
    "Delivery": Verdict.DELIVERED,
    "Send": Verdict.IN_PROGRESS,
    "DeliveryDelay": Verdict.IN_PROGRESS,
    "Reject": Verdict.UNDELIVERED,
    "Rendering Failure": Verdict.UNDELIVERED,
    "RenderingFailure": Verdict.UNDELIVERED,
    "Complaint": Verdict.IGNORED,  # it arrived; the recipient's client complained
    "Open": Verdict.IGNORED,
    "Click": Verdict.IGNORED,
}
# Amazon Connect's disconnect reasons for an outbound call.
_CALL_NO_ANSWER = frozenset({"TELECOM_BUSY", "TELECOM_UNANSWERED", "TELECOM_TIMEOUT", "TELECOM_ORIGINATOR_CANCEL"})
_CALL_FAILED = frozenset({"TELECOM_NUMBER_INVALID", "TELECOM_POTENTIAL_BLOCKING", "TELECOM_PROBLEM"})


def classify_sms(event: dict[str, Any]) -> Verdict:
    verdict = _SMS.get(str(event.get("eventType", "")), Verdict.IGNORED)
    if verdict is Verdict.DELIVERED and event.get("isFinal") is False:
        return Verdict.IN_PROGRESS
    return verdict


def classify_email(event: dict[str, Any]) -> Verdict:
    kind = str(event.get("eventType") or event.get("notificationType") or "")
    if kind == "Bounce":
        bounce = event.get("bounce") or {}
        # A transient bounce (mailbox full, message too large) may still arrive after SES retries.
        return Verdict.UNDELIVERED if bounce.get("bounceType") != "Transient" else Verdict.IN_PROGRESS
    return _EMAIL.get(kind, Verdict.IGNORED)


def classify_call(disconnect_reason: str | None, connected: bool) -> Verdict:
    """A call's outcome from its contact record: connected to the flow (answered), or why it ended unanswered."""
    if connected:
        return Verdict.DELIVERED
    reason = disconnect_reason or ""
    if reason in _CALL_FAILED:
        return Verdict.UNDELIVERED
    if reason in _CALL_NO_ANSWER or reason:
        return Verdict.NO_ANSWER
    return Verdict.IN_PROGRESS


def settle(current: Verdict | None, incoming: Verdict) -> Verdict | None:
    """The attempt's receipt state after `incoming` arrives (None: nothing known yet). The first final verdict
    stands: a duplicate, a late progress report or a contradicting second verdict changes nothing."""
    if current in FINAL:
        return current
    if incoming is Verdict.IGNORED:
        return current
    return incoming


def moves_on(before: Verdict | None, after: Verdict | None) -> bool:
    """Whether this change should send the next channel at once: the attempt has just failed for good."""
    return before not in FINAL and after in FAILURES
