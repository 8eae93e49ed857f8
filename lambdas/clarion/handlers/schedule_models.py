"""Request and response bodies of the on-call schedule routes; the OpenAPI document is generated from these.

A schedule's body is read by the domain's own parser (`clarion.domain.schedules.parse_schedule`) before the model
validates it, so a refusal names its field as the domain does (`layers[0].shift.length`); the model says the same
rules in the document, and adds one: a time zone is one the tzdata package that ships with Clarion names. What the
document cannot say: which zone names exist, and which dates exist (2026-02-30 matches the pattern): 400 both.
"""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from clarion.domain import rotations, schedules, validation
from clarion.handlers.api_models import ContactId, Name, Time

# The zones the shipped tzdata names (the same on every machine, whatever the host's own files), less what names no
# place.
ZONES = frozenset(resources.files("tzdata").joinpath("zones").read_text().split()) - {"Factory"}
_YEAR = r"(19[7-9][0-9]|2[01][0-9][0-9])"
HANDOFF_PATTERN = rf"^{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]$"
CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_Whole = BeforeValidator(validation.json_integer)


def _known_zone(value: str) -> str:
    if value not in ZONES:
        raise ValueError("must be an IANA time zone name such as Europe/London")
    return value


def _instant(value: object) -> object:
    """An RFC 3339 time with its offset (`2026-12-08T19:00:00Z`, `...+01:00`), as an aware datetime."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a date and time with its offset, e.g. 2026-12-08T19:00:00Z")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date and time with its offset, e.g. 2026-12-08T19:00:00Z") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("must give its offset from UTC (Z or +hh:mm)")
    return moment


# Not an enum in the document: the tz database's ~600 names (GMT+0, GMT-0, GMT0...) would be one enum class in a
# generated client, whose member names collide. A name of this form that the database lacks is refused (400).
TimeZone = Annotated[
    str,
    Field(
        max_length=64,
        pattern=r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$",
        examples=["Europe/London"],
        description="An IANA time zone name from the tz database Clarion ships (tzdata), e.g. Europe/London.",
    ),
    AfterValidator(_known_zone),
]
Instant = Annotated[datetime, BeforeValidator(_instant), Field(examples=["2026-12-08T19:00:00Z"])]
ContactList = Annotated[
    list[ContactId],
    Field(min_length=1, max_length=10, json_schema_extra={"uniqueItems": True}),
    AfterValidator(validation.distinct),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShiftLength(_Strict):
    length: Annotated[int, Field(ge=1, le=rotations.MAX_SHIFT_LENGTH), _Whole]
    unit: Literal["hours", "days", "weeks"]


class WindowBody(_Strict):
    """Each of `days`, from `from` to `to` on the wall clock (`to` at or before `from`: into the next day)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    days: Annotated[
        list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]],
        Field(min_length=1, max_length=7, json_schema_extra={"uniqueItems": True}),
    ]
    start: Annotated[str, Field(alias="from", pattern=CLOCK_PATTERN, examples=["08:00"])]
    end: Annotated[str, Field(alias="to", pattern=CLOCK_PATTERN, examples=["20:00"])]


class LayerBody(_Strict):
    participants: Annotated[
        list[ContactId],
        Field(min_length=1, max_length=rotations.MAX_PARTICIPANTS, description="In rotation order."),
    ]
    shift: ShiftLength
    handoff_at: Annotated[
        str,
        Field(
            pattern=HANDOFF_PATTERN,
            examples=["2026-12-07T08:00"],
            description="Wall-clock date and time in the schedule's zone, no offset: the first participant's shift "
            "starts then, and every `shift` from it, before and after.",
        ),
    ]
    windows: (
        Annotated[list[WindowBody], Field(min_length=1, max_length=rotations.MAX_WINDOWS)] | SkipJsonSchema[None]
    ) = Field(default=None, description="When the layer has someone; absent: always.")


class ScheduleBody(_Strict):
    """Who is on call: the last layer with someone at an instant gives them, else the fallback contacts."""

    name: Name
    time_zone: TimeZone
    layers: Annotated[list[LayerBody], Field(max_length=schedules.MAX_LAYERS)]
    fallback_contact_ids: Annotated[
        list[ContactId], Field(max_length=schedules.MAX_FALLBACK, json_schema_extra={"uniqueItems": True})
    ] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _read_by_the_domain(cls, data: Any) -> Any:
        schedules.parse_schedule(data)  # its refusals (InvalidSchedule...) name the field the domain's way
        return data

    def to_schedule(self) -> schedules.Schedule:
        return schedules.parse_schedule(self.model_dump(by_alias=True, exclude_none=True))


class LayerView(LayerBody):
    windows: list[WindowBody] | None = Field(default=None, description="When the layer has someone; null: always.")


class ScheduleView(BaseModel):
    schedule_id: str
    name: str
    time_zone: str
    layers: list[LayerView]
    fallback_contact_ids: list[str]

    @classmethod
    def of(cls, schedule_id: str, schedule: schedules.Schedule) -> ScheduleView:
        return cls.model_validate({"schedule_id": schedule_id, **schedule.to_json()})


class OverrideBody(_Strict):
    start: Instant
    end: Instant
    contact_ids: ContactList


class OverrideView(BaseModel):
    override_id: str
    start: Time
    end: Time
    contact_ids: list[str]
    created_at: Time


class OverridesView(BaseModel):
    overrides: list[OverrideView] = Field(description="By start.")


class OnCallView(BaseModel):
    at: Time
    contact_ids: list[str] = Field(description="Whom to notify: the fallback contacts when `fallback`; empty: nobody.")
    sources: dict[str, str] = Field(
        description="Where each contact's turn comes from: layers[i] (the schedule's i-th layer), "
        "overrides/<override_id>, or fallback_contact_ids.",
        examples=[{"C-1": "layers[0]"}],
    )
    until: Time = Field(description="When this answer next changes (at most 31 days on).")
    fallback: bool = Field(description="Nobody from the overrides or layers: the fallback contacts apply.")


class ShiftView(BaseModel):
    start: Time
    end: Time
    contact_ids: list[str]
    fallback: bool


class ShiftsView(BaseModel):
    shifts: list[ShiftView] = Field(description="The period tiled, no gap, no overlap; equal neighbours merged.")
