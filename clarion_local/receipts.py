"""The local providers' delivery receipts, sent the way the real ones are.

- SES: the configuration set's event (Delivery, or a permanent Bounce) published to the receipts topic;
- Amazon Connect: the contact event (CONNECTED_TO_SYSTEM when answered, DISCONNECTED with TELECOM_UNANSWERED when
  not) put on EventBridge's default bus, whose rule sends it to the receipts queue;
- End User Messaging SMS: the SMS event (TEXT_DELIVERED, or TEXT_UNREACHABLE) published to the receipts topic.

A receipt goes out `delay_s` after the send returns, from a thread of its own, as a provider's comes after its
API call has answered. A receipt fault changes what it says, or sends none.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

RECEIPT_DELAY_S = 0.1


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ses_event(message_id: str, params: dict[str, Any], bounced: bool) -> dict[str, Any]:
    now = _iso(datetime.now(UTC))
    tags = {t["Name"]: [t["Value"]] for t in params.get("Tags", [])}
    mail = {
        "timestamp": now,
        "messageId": message_id,
        "source": params.get("Source"),
        "destination": params.get("Destination", {}).get("ToAddresses", []),
        "tags": tags,
    }
    if bounced:
        recipients = [{"emailAddress": a, "status": "5.1.1", "action": "failed"} for a in mail["destination"]]
        detail = {"bounceType": "Permanent", "bounceSubType": "General", "bouncedRecipients": recipients}
        return {"eventType": "Bounce", "mail": mail, "bounce": {**detail, "timestamp": now}}
    return {"eventType": "Delivery", "mail": mail, "delivery": {"timestamp": now, "recipients": mail["destination"]}}


def sms_event(message_id: str, params: dict[str, Any], delivered: bool) -> dict[str, Any]:
    now_ms = int(time.time() * 1000)
    return {
        "eventType": "TEXT_DELIVERED" if delivered else "TEXT_UNREACHABLE",
        "eventVersion": "1.0",
        "eventTimestamp": now_ms,
        "isFinal": True,
        "originationPhoneNumber": params.get("OriginationIdentity"),
        "destinationPhoneNumber": params.get("DestinationPhoneNumber"),
        "messageId": message_id,
        "messageStatus": "DELIVERED" if delivered else "UNREACHABLE",
        "context": params.get("Context", {}),
    }


def call_detail(contact_id: str, instance_arn: str, answered: bool) -> dict[str, Any]:
    now = _iso(datetime.now(UTC))
    detail: dict[str, Any] = {
        "contactId": contact_id,
        "channel": "VOICE",
        "instanceArn": instance_arn,
        "initiationMethod": "API",
        "initiationTimestamp": now,
    }
    if answered:
        return {**detail, "eventType": "CONNECTED_TO_SYSTEM", "connectedToSystemTimestamp": now}
    return {**detail, "eventType": "DISCONNECTED", "disconnectTimestamp": now, "disconnectReason": "TELECOM_UNANSWERED"}


@dataclass
class LocalReceipts:
    """Sends receipts through the emulator: `sns` and `events` are clients of it (not of Clarion's functions)."""

    sns: Any
    events: Any
    topic_arn: str
    instance_arn: str | None
    delay_s: float = RECEIPT_DELAY_S
    sent: list[dict[str, Any]] = field(default_factory=list)  # what went out, for the outbox and tests
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def emit(self, channel: str, provider_id: str, params: dict[str, Any], fault: str | None) -> None:
        """The receipt for a send that succeeded; `fault` is the receipt fault armed for it, if any."""
        if fault == "no_receipt":
            self._note(channel, provider_id, "none")
            return
        timer = threading.Timer(self.delay_s, self._send, args=(channel, provider_id, params, fault))
        timer.daemon = True
        timer.start()

    def _send(self, channel: str, provider_id: str, params: dict[str, Any], fault: str | None) -> None:
        try:
            if channel == "email":
                event = ses_event(provider_id, params, bounced=fault in ("bounce", "undelivered"))
                self.sns.publish(TopicArn=self.topic_arn, Message=json.dumps(event))
                self._note(channel, provider_id, event["eventType"])
            elif channel == "sms":
                event = sms_event(provider_id, params, delivered=fault is None)
                self.sns.publish(TopicArn=self.topic_arn, Message=json.dumps(event))
                self._note(channel, provider_id, event["eventType"])
            elif channel == "call" and self.instance_arn:
                detail = call_detail(provider_id, self.instance_arn, answered=fault != "unanswered")
                self.events.put_events(
                    Entries=[
                        {
                            "Source": "aws.connect",
                            "DetailType": "Amazon Connect Contact Event",
                            "Detail": json.dumps(detail),
                        }
                    ]
                )
                self._note(channel, provider_id, detail.get("disconnectReason") or detail["eventType"])
        except Exception as error:  # a receipt lost here is what the deadline is for; say so
            self._note(channel, provider_id, f"lost: {type(error).__name__}")

    def _note(self, channel: str, provider_id: str, kind: str) -> None:
        with self._lock:
            self.sent.append(
                {"channel": channel, "provider_id": provider_id, "receipt": kind, "at": datetime.now(UTC).isoformat()}
            )

    def receipt_for(self, provider_id: str) -> str | None:
        with self._lock:
            return next((r["receipt"] for r in reversed(self.sent) if r["provider_id"] == provider_id), None)
