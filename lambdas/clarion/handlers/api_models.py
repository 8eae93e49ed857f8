"""Request and response bodies of the HTTP API. The OpenAPI document is generated from these."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from clarion.domain import escalation, validation
from clarion.domain.models import DEFAULT_CHAINS, AlertStatus, Channel, Contact, Outcome, Priority

MessageId = Annotated[
    str, Field(min_length=1, max_length=128, pattern=validation.MESSAGE_ID_PATTERN, examples=["lab-2024-000123"])
]
ContactId = Annotated[str, Field(min_length=1, max_length=64, pattern=validation.CONTACT_ID_PATTERN, examples=["C-1"])]
PolicyId = Annotated[
    str, Field(min_length=1, max_length=64, pattern=validation.CONTACT_ID_PATTERN, examples=["ward-7b-critical"])
]
_Whole = BeforeValidator(validation.json_integer)
Window = Annotated[int, Field(ge=escalation.MIN_WINDOW_S, le=escalation.MAX_WINDOW_S, examples=[300]), _Whole]
Chain = Annotated[
    list[Channel],
    Field(min_length=1, max_length=3, json_schema_extra={"uniqueItems": True}),
    AfterValidator(validation.channel_chain),
]
Phone = Annotated[
    str,
    Field(
        max_length=16,
        examples=["+447911123456"],
        json_schema_extra={"pattern": validation.PHONE_PATTERN},
        description="E.164. A number no network assigns is refused with 422 invalid_phone.",
    ),
    AfterValidator(validation.e164_form),
]
Email = Annotated[
    str,
    Field(max_length=validation.MAX_EMAIL, json_schema_extra={"pattern": validation.EMAIL_PATTERN}),
    AfterValidator(validation.email_address),
]
# Free text: the patterns are documented here and matched by `printable_text` (Python's `re`, not pydantic's).
_TEXT: dict[str, Any] = {"pattern": validation.TEXT_PATTERN, "not": {"pattern": validation.BLANK_PATTERN}}
_Printable = AfterValidator(validation.printable_text)
PatientId = Annotated[
    str, Field(min_length=1, max_length=validation.MAX_PATIENT_ID, json_schema_extra=_TEXT), _Printable
]
Description = Annotated[
    str, Field(min_length=1, max_length=validation.MAX_DESCRIPTION, json_schema_extra=_TEXT), _Printable
]
Name = Annotated[str, Field(min_length=1, max_length=validation.MAX_NAME, json_schema_extra=_TEXT), _Printable]
Reason = Annotated[str, Field(min_length=1, max_length=200, json_schema_extra=_TEXT), _Printable]


# Every time Clarion answers: UTC to the millisecond with a Z (`clarion.shared.clock`), e.g. 2026-12-07T17:43:16.123Z.
Time = Annotated[str, Field(json_schema_extra={"format": "date-time"}, examples=["2026-12-07T17:43:16.123Z"])]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AlertRequest(_Strict):
    """The AWS sample's `POST /notification` body, unchanged."""

    message_id: MessageId = Field(description="Chosen by the client, unique per alert: the idempotency key.")
    type: Annotated[str, Field(min_length=1, max_length=64, pattern=validation.TYPE_PATTERN)] = Field(
        examples=["blood_test_alert"]
    )
    patient_id: PatientId = Field(
        description="An anonymised reference. Validated, then discarded: never stored, logged or sent."
    )
    contact_id: ContactId
    description: Description
    priority: Priority
    escalation_policy_id: PolicyId | None = Field(
        default=None, description="Who covers if nobody acknowledges; wins over the contact's own policy."
    )


class AlertAccepted(BaseModel):
    message_id: str
    status: Literal["accepted"] = "accepted"
    channels: list[Channel] = Field(description="The channels Clarion will try, in order.")


class AttemptView(BaseModel):
    channel: Channel
    attempt: int = Field(description="1-based, counted per recipient and stage.")
    outcome: Outcome
    at: Time
    provider_message_id: str | None = None
    error: str | None = Field(default=None, description="The provider's error code (e.g. Throttling), never its text.")
    error_message: str | None = Field(
        default=None, description="What that error meant for the alert, in Clarion's words."
    )
    contact_id: str | None = Field(default=None, description="Who this attempt tried to reach.")
    stage: int = 0
    receipt: str | None = Field(
        default=None,
        description="The provider's delivery receipt that settled a sent attempt (its event kind, e.g. Delivery, "
        "Bounce, TEXT_UNREACHABLE, TELECOM_UNANSWERED), or no_receipt when none came in time.",
    )
    receipt_at: Time | None = None
    seq: int | None = Field(
        default=None,
        description="Its place in the alert's commit order: every attempt, stage, decline and the acknowledgement "
        "take the next number when they commit (acceptance is 0). Absent on records written before it existed.",
    )


class AckView(BaseModel):
    required: bool
    acknowledged_by: str | None = None
    acknowledged_at: Time | None = None
    via: Literal["api", "link", "sms", "call"] | None = None
    time_to_ack_s: float | None = None
    target_s: int | None = Field(default=None, description="The organisation's target for this priority.")
    within_target: bool | None = None
    after_end: bool = Field(default=False, description="Recorded after escalation had ended (for the audit).")
    seq: int | None = Field(
        default=None,
        description="Its place in the alert's commit order: every attempt, stage, decline and the acknowledgement "
        "take the next number when they commit (acceptance is 0). Absent on records written before it existed.",
    )


class StageView(BaseModel):
    stage: int = Field(description="0 is the addressed contact; then each policy stage, across repeats.")
    contact_ids: list[str]
    started_at: Time
    seq: int | None = Field(
        default=None,
        description="Its place in the alert's commit order: every attempt, stage, decline and the acknowledgement "
        "take the next number when they commit (acceptance is 0). Absent on records written before it existed.",
    )


class DeclineView(BaseModel):
    contact_id: str
    at: Time
    via: str
    reason: str | None = None
    seq: int | None = Field(
        default=None,
        description="Its place in the alert's commit order: every attempt, stage, decline and the acknowledgement "
        "take the next number when they commit (acceptance is 0). Absent on records written before it existed.",
    )


class FailureView(BaseModel):
    code: str = Field(examples=["dead_lettered"])
    message: str


class AlertView(BaseModel):
    message_id: str
    status: AlertStatus
    priority: Priority
    type: str
    accepted_at: Time
    attempts: list[AttemptView]
    ack: AckView
    stages: list[StageView] = Field(default_factory=list)
    declines: list[DeclineView] = Field(default_factory=list)
    time_to_first_delivery_s: float | None = None
    escalation_policy_id: str | None = None
    ended_at: Time | None = Field(default=None, description="When the walk ended (acknowledged or not).")
    failure: FailureView | None = Field(
        default=None, description="Why Clarion gave up, when it did (not a provider's refusal: see attempts)."
    )


class AnswerBody(_Strict):
    contact_id: ContactId = Field(description="The clinician who acknowledged (one Clarion notified).")


class DeclineBody(_Strict):
    contact_id: ContactId
    reason: Reason | None = Field(default=None, examples=["not my patient"])


class StageBody(_Strict):
    contact_ids: Annotated[
        list[ContactId],
        Field(min_length=1, max_length=escalation.MAX_CONTACTS_PER_STAGE, json_schema_extra={"uniqueItems": True}),
        AfterValidator(validation.distinct),
    ]
    ack_within_s: Window


class PolicyBody(_Strict):
    name: Name
    addressee_ack_within_s: Window | None = None
    stages: Annotated[list[StageBody], Field(min_length=1, max_length=escalation.MAX_STAGES)]
    repeat: Annotated[int, Field(ge=0, le=escalation.MAX_REPEAT), _Whole] = 0

    def to_policy(self, policy_id: str) -> escalation.Policy:
        stages = tuple(escalation.Stage(tuple(s.contact_ids), s.ack_within_s) for s in self.stages)
        return escalation.Policy(policy_id, self.name, stages, self.repeat, self.addressee_ack_within_s)


class PolicyView(PolicyBody):
    policy_id: str

    @classmethod
    def of(cls, policy: escalation.Policy) -> PolicyView:
        return cls(
            policy_id=policy.policy_id,
            name=policy.name,
            addressee_ack_within_s=policy.addressee_ack_within_s,
            stages=[StageBody(contact_ids=list(s.contact_ids), ack_within_s=s.ack_within_s) for s in policy.stages],
            repeat=policy.repeat,
        )


class Chains(_Strict):
    """For each priority, the channels to try in order (distinct values)."""

    H: Chain = Field(default_factory=lambda: list(DEFAULT_CHAINS[Priority.HIGH]))
    M: Chain = Field(default_factory=lambda: list(DEFAULT_CHAINS[Priority.MEDIUM]))
    L: Chain = Field(default_factory=lambda: list(DEFAULT_CHAINS[Priority.LOW]))


# "At least one destination", said as "not every destination absent or null": a top-level anyOf says the same, but
# client generators read it as a union and give one body three classes.
_NO_DESTINATION: dict[str, Any] = {"properties": {n: {"type": "null"} for n in ("phone_call", "phone_sms", "email")}}


class ContactBody(_Strict):
    """At least one of phone_call, phone_sms and email."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"not": _NO_DESTINATION})

    name: Name
    phone_call: Phone | None = None
    phone_sms: Phone | None = None
    email: Email | None = None
    channels: Chains = Field(default_factory=Chains)
    escalation_policy_id: PolicyId | None = Field(default=None, description="Who covers for this clinician.")

    @model_validator(mode="after")
    def _has_a_destination(self) -> ContactBody:
        if not (self.phone_call or self.phone_sms or self.email):
            raise ValueError("a contact needs at least one of phone_call, phone_sms or email")
        return self

    def to_contact(self, contact_id: str) -> Contact:
        return Contact(
            contact_id=contact_id,
            name=self.name,
            phone_call=self.phone_call,
            phone_sms=self.phone_sms,
            email=self.email,
            escalation_policy_id=self.escalation_policy_id,
            channels={
                Priority.HIGH: tuple(self.channels.H),
                Priority.MEDIUM: tuple(self.channels.M),
                Priority.LOW: tuple(self.channels.L),
            },
        )


class ContactView(BaseModel):
    contact_id: str
    name: str
    phone_call: str | None = None
    phone_sms: str | None = None
    email: str | None = None
    channels: dict[Priority, list[Channel]]
    escalation_policy_id: str | None = None

    @classmethod
    def of(cls, contact: Contact) -> ContactView:
        return cls(
            contact_id=contact.contact_id,
            name=contact.name,
            phone_call=contact.phone_call,
            phone_sms=contact.phone_sms,
            email=contact.email,
            channels={p: list(contact.channels.get(p, ())) for p in Priority},
            escalation_policy_id=contact.escalation_policy_id,
        )


class ErrorDetail(BaseModel):
    code: str = Field(examples=["unknown_contact"])
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class ChangeView(BaseModel):
    at: Time
    client_id: str = Field(description="The client whose admin token made the change.")
    action: Literal["created", "replaced", "deleted"]
    before: dict[str, Any] | None = Field(description="What it held before (destinations included); null if new.")
    after: dict[str, Any] | None = Field(description="What it held after; null once deleted.")


class HistoryView(BaseModel):
    changes: list[ChangeView] = Field(description="Oldest first.")
