"""Domain values shared by intake and router. Plain, typed, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum


class Priority(StrEnum):
    HIGH = "H"
    MEDIUM = "M"
    LOW = "L"


class Channel(StrEnum):
    CALL = "call"
    SMS = "sms"
    EMAIL = "email"


class AlertStatus(StrEnum):
    ACCEPTED = "accepted"
    DELIVERING = "delivering"
    DELIVERED = "delivered"  # a provider accepted a message; for an alert that needs an ack, none yet
    ACKNOWLEDGED = "acknowledged"
    UNACKNOWLEDGED = "unacknowledged"  # every stage's window ended without an acknowledgement
    FAILED = "failed"


# Statuses after which nothing more is sent for an alert.
ENDED = frozenset({AlertStatus.ACKNOWLEDGED, AlertStatus.UNACKNOWLEDGED, AlertStatus.FAILED})


class Outcome(StrEnum):
    """What one provider attempt came to, as written to the delivery log."""

    PENDING = "pending"  # written before the provider call; still pending after a crash = unknown
    SENT = "sent"  # the provider accepted it; where the channel has receipts, the receipt is awaited
    RETRYABLE = "retryable_failure"  # throttling, 5xx, timeout: may succeed later
    PERMANENT = "permanent_failure"  # will not succeed on retry: go to the next channel
    # What a delivery receipt made of a `sent` attempt (`clarion.domain.receipts`):
    DELIVERED = "delivered"  # reached the inbox or the handset; the call was answered
    UNDELIVERED = "undelivered"  # bounced, rejected, unreachable, or no receipt came in time: next channel
    NO_ANSWER = "no_answer"  # the call rang out, was busy, or nobody pressed a key: next channel


# Outcomes that exhaust a channel at once: the next channel is tried without waiting.
EXHAUSTING = frozenset({Outcome.PERMANENT, Outcome.UNDELIVERED, Outcome.NO_ANSWER})


DEFAULT_CHAINS: dict[Priority, tuple[Channel, ...]] = {
    Priority.HIGH: (Channel.CALL, Channel.SMS, Channel.EMAIL),
    Priority.MEDIUM: (Channel.SMS, Channel.EMAIL),
    Priority.LOW: (Channel.EMAIL,),
}


@dataclass(frozen=True)
class Contact:
    contact_id: str
    name: str
    phone_call: str | None = None
    phone_sms: str | None = None
    email: str | None = None
    channels: dict[Priority, tuple[Channel, ...]] = field(default_factory=lambda: dict(DEFAULT_CHAINS))
    escalation_policy_id: str | None = None  # who covers for this clinician

    def destination(self, channel: Channel) -> str | None:
        return {Channel.CALL: self.phone_call, Channel.SMS: self.phone_sms, Channel.EMAIL: self.email}[channel]

    def plan(self, priority: Priority, call_enabled: bool) -> tuple[Channel, ...]:
        """The channels to try for `priority`, in order: the contact's chain less the channels it
        has no destination for, and less `call` when the deployment has no call channel."""
        return tuple(
            channel
            for channel in self.channels.get(priority, ())
            if self.destination(channel) and (call_enabled or channel is not Channel.CALL)
        )


@dataclass(frozen=True)
class Alert:
    """An accepted alert as it travels on the queue, addressed to one recipient. Holds no patient reference.

    `recipient` is the contact this message delivers to (the addressed `contact_id` at stage 0, a policy's contact
    at a later stage) and `plan` that recipient's channels; `ack_required` says whether the alert walks an
    escalation path (`clarion.domain.escalation`) rather than ending at `delivered`."""

    client_id: str
    message_id: str
    type: str
    contact_id: str
    description: str
    priority: Priority
    accepted_at: str  # ISO 8601, UTC
    plan: tuple[Channel, ...]
    recipient: str = ""
    stage: int = 0
    ack_required: bool = False

    def __post_init__(self) -> None:
        if not self.recipient:
            object.__setattr__(self, "recipient", self.contact_id)

    @property
    def key(self) -> str:
        return f"{self.client_id}#{self.message_id}"

    def for_recipient(self, recipient: str, stage: int, plan: tuple[Channel, ...]) -> Alert:
        """The same alert, addressed to `recipient` at `stage`."""
        return replace(self, recipient=recipient, stage=stage, plan=plan)

    def to_message(self) -> dict[str, object]:
        return {
            "client_id": self.client_id,
            "message_id": self.message_id,
            "type": self.type,
            "contact_id": self.contact_id,
            "description": self.description,
            "priority": self.priority.value,
            "accepted_at": self.accepted_at,
            "plan": [c.value for c in self.plan],
            "recipient": self.recipient,
            "stage": self.stage,
            "ack_required": self.ack_required,
        }

    @classmethod
    def from_message(cls, data: dict[str, object]) -> Alert:
        return cls(
            client_id=str(data["client_id"]),
            message_id=str(data["message_id"]),
            type=str(data["type"]),
            contact_id=str(data["contact_id"]),
            description=str(data["description"]),
            priority=Priority(str(data["priority"])),
            accepted_at=str(data["accepted_at"]),
            plan=tuple(Channel(str(c)) for c in data["plan"]),  # type: ignore[attr-defined]
            recipient=str(data.get("recipient") or data["contact_id"]),
            stage=int(data.get("stage") or 0),  # type: ignore[call-overload]
            ack_required=data.get("ack_required") is True,
        )


@dataclass(frozen=True)
class Attempt:
    """One provider attempt, one item in the delivery log."""

    channel: Channel
    attempt: int  # 1-based, counted per recipient and stage (every retry and fallback counts)
    outcome: Outcome
    at: str
    provider_message_id: str | None = None
    error: str | None = None
    contact_id: str | None = None  # the recipient (read back from the log; the router knows its own)
    stage: int = 0
    receipt: str | None = None  # the provider's receipt that settled a `sent` attempt (event kind, no content)
    receipt_at: str | None = None
    seq: int | None = None  # its place in the alert's commit order, taken when its send was fenced
