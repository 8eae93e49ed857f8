"""Delivery receipts: what a provider's report on a sent message means for its attempt. Pure logic, no I/O.

A provider accepting a message is not a person receiving it. The receipt says what happened after: the email was
delivered or bounced, the SMS reached the handset or the carrier could not deliver it, the call was answered or
rang out. `classify` reads each provider's own event into a `Verdict`. Only the first final verdict on an
attempt counts (a receipt twice, late or out of order changes nothing): the delivery log's conditional write
holds that rule (`clarion.adapters.delivery_log.settle_attempt`).

`read` recognises what arrives on the receipts queue: an SES event (through the receipts topic), an End User
Messaging SMS event (same topic), an Amazon Connect contact event (through EventBridge), SNS's SMS delivery status
(a CloudWatch Logs line, reduced by `sns_sms_body` to what Clarion needs), or Clarion's own deadline for a receipt
that has not come (`deadline_body`): no receipt in time counts as undelivered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from clarion.domain.models import Channel, Outcome
from clarion.shared import clock


class Verdict(StrEnum):
    IN_PROGRESS = "in_progress"  # accepted, queued, ringing: not final
    DELIVERED = "delivered"  # reached the inbox or the handset; the call was answered
    UNDELIVERED = "undelivered"  # will not arrive: bounced, rejected, unreachable, blocked, expired
    NO_ANSWER = "no_answer"  # the call rang out, was busy, or went unanswered
    IGNORED = "ignored"  # nothing that changes delivery (a complaint, an open, an unknown event)


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


OUTCOMES = {
    Verdict.DELIVERED: Outcome.DELIVERED,
    Verdict.UNDELIVERED: Outcome.UNDELIVERED,
    Verdict.NO_ANSWER: Outcome.NO_ANSWER,
}
NO_RECEIPT = "no_receipt"  # the receipt kind recorded when a deadline, not a provider, settled the attempt


@dataclass(frozen=True)
class Receipt:
    """One provider report on one message, or a deadline: which message, what it says, and when."""

    channel: Channel
    provider_id: str
    verdict: Verdict
    kind: str  # the provider's event kind (Delivery, Bounce, TEXT_UNREACHABLE, TELECOM_UNANSWERED) or no_receipt
    at: str | None = None  # ISO 8601 UTC, when the provider says it happened

    @property
    def outcome(self) -> Outcome | None:
        return OUTCOMES.get(self.verdict)


def _iso_ms(epoch_ms: Any) -> str | None:
    try:
        return clock.stamp(float(epoch_ms) / 1000)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _iso(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    try:
        return clock.stamp(clock.parse(text))
    except ValueError:
        return None


def deadline_body(channel: Channel, provider_id: str, timeout_s: int) -> dict[str, Any]:
    """The message that settles a `sent` attempt as undelivered if no receipt has come when it arrives."""
    return {"receipt_deadline": {"channel": channel.value, "provider_id": provider_id, "timeout_s": timeout_s}}


def _email(body: dict[str, Any]) -> Receipt | None:
    mail = body.get("mail")
    if not isinstance(mail, dict) or not mail.get("messageId"):
        return None
    kind = str(body.get("eventType") or body.get("notificationType") or "")
    detail = body.get(kind[:1].lower() + kind[1:]) if kind else None
    at = _iso(detail.get("timestamp")) if isinstance(detail, dict) else None
    if kind == "Bounce" and isinstance(detail, dict) and detail.get("bounceType"):
        kind = f"Bounce/{detail['bounceType']}"
    return Receipt(Channel.EMAIL, str(mail["messageId"]), classify_email(body), kind, at)


def _sms(body: dict[str, Any]) -> Receipt | None:
    kind = str(body.get("eventType") or "")
    if not kind.startswith("TEXT_") or not body.get("messageId"):
        return None
    return Receipt(Channel.SMS, str(body["messageId"]), classify_sms(body), kind, _iso_ms(body.get("eventTimestamp")))


def _call(body: dict[str, Any]) -> Receipt | None:
    """A call's contact event. Answered calls are settled by the contact flow's keypress (`handlers.keypress`);
    the events settle the rest: a call that never connected (by its disconnect reason), and one that connected and
    ended with no key pressed (the clinician hung up, or voicemail took it), as `no_answer`."""
    detail = body.get("detail")
    if body.get("source") != "aws.connect" or not isinstance(detail, dict) or not detail.get("contactId"):
        return None
    kind = str(detail.get("eventType") or "")
    if kind == "DISCONNECTED" and detail.get("connectedToSystemTimestamp"):
        verdict, kind = Verdict.NO_ANSWER, "DISCONNECTED_WITHOUT_KEYPRESS"
    elif kind == "DISCONNECTED":
        reason = detail.get("disconnectReason") or detail.get("DisconnectReason")
        verdict = classify_call(str(reason) if reason else "DISCONNECTED", connected=False)
        kind = str(reason or kind)
    else:
        verdict = Verdict.IGNORED  # initiated, queued, connected: the keypress (or the disconnect) decides
    return Receipt(Channel.CALL, str(detail["contactId"]), verdict, kind, _iso(body.get("time")))


# SNS's SMS delivery status (`status` of its CloudWatch Logs line). SUCCESS: the carrier accepted the message for
# the handset; FAILURE: it will not arrive (unreachable, blocked, opted out, invalid number, ...).
_SNS_SMS = {"SUCCESS": Verdict.DELIVERED, "FAILURE": Verdict.UNDELIVERED}
SNS_SMS_KEY = "sns_sms_status"


def sns_sms_body(line: Any) -> dict[str, Any] | None:
    """What goes on the receipts queue for one line of SNS's SMS delivery-status log: the message id, the status
    and the time, and nothing else (the line also holds the destination number, the carrier and the price)."""
    try:
        entry = json.loads(line) if isinstance(line, str) else None
    except ValueError:
        return None
    if not isinstance(entry, dict):
        return None
    notification = entry.get("notification")
    status = entry.get("status")
    if not isinstance(notification, dict) or not notification.get("messageId") or status not in _SNS_SMS:
        return None
    timestamp = notification.get("timestamp")
    return {
        SNS_SMS_KEY: {
            "messageId": str(notification["messageId"]),
            "status": status,
            "timestamp": timestamp if isinstance(timestamp, str) else None,
        }
    }


def _sns_sms(body: dict[str, Any]) -> Receipt | None:
    spec = body.get(SNS_SMS_KEY)
    if not isinstance(spec, dict) or not spec.get("messageId") or spec.get("status") not in _SNS_SMS:
        return None
    status = str(spec["status"])
    return Receipt(Channel.SMS, str(spec["messageId"]), _SNS_SMS[status], status, _iso(spec.get("timestamp")))


def _deadline(body: dict[str, Any]) -> Receipt | None:
    spec = body.get("receipt_deadline")
    if not isinstance(spec, dict):
        return None
    try:
        channel = Channel(str(spec.get("channel")))
    except ValueError:
        return None
    if not spec.get("provider_id"):
        return None
    return Receipt(channel, str(spec["provider_id"]), Verdict.UNDELIVERED, NO_RECEIPT)


def read(body: Any) -> Receipt | None:
    """The receipt in a message of the receipts queue, or None when it is none Clarion knows how to read."""
    if not isinstance(body, dict):
        return None
    for reader in (_deadline, _email, _sms, _sns_sms, _call):
        receipt = reader(body)
        if receipt is not None:
            return receipt
    return None
