"""A schedule's overrides and who is on call (scope `admin`): add, list and end an override
(`clarion.usecases.manage_overrides`); who is on call at an instant, and shift by shift over a period
(`clarion.usecases.read_on_call`).

Served by the contacts function (one admin function): its resolver includes this router.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.domain.validation import CONTACT_ID_PATTERN
from clarion.handlers import operations
from clarion.handlers.schedule_models import (
    Instant,
    OnCallView,
    OverrideBody,
    OverridesView,
    OverrideView,
    ShiftsView,
    ShiftView,
)
from clarion.shared import clock, requests
from clarion.usecases import manage_overrides, read_on_call

router = APIGatewayRouter()
ScheduleIdPath = Annotated[str, Path(max_length=64, pattern=CONTACT_ID_PATTERN)]
OverrideIdPath = Annotated[str, Path(max_length=64, pattern=CONTACT_ID_PATTERN)]


def _view(stored: manage_overrides.StoredOverride) -> OverrideView:
    return OverrideView(**stored.to_item())


@router.post("/schedules/<schedule_id>/overrides", **operations.CREATE_OVERRIDE)
def create_override(schedule_id: ScheduleIdPath, body: OverrideBody) -> Response[OverrideView]:
    contact_ids = tuple(body.contact_ids)
    stored = manage_overrides.add(schedule_id, body.start, body.end, contact_ids, requests.client_id(router))
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=_view(stored))


@router.get("/schedules/<schedule_id>/overrides", **operations.LIST_OVERRIDES)
def list_overrides(
    schedule_id: ScheduleIdPath, include_past: Annotated[bool, Query(description="Also those over.")] = False
) -> OverridesView:
    return OverridesView(overrides=[_view(o) for o in manage_overrides.listing(schedule_id, include_past)])


@router.delete("/schedules/<schedule_id>/overrides/<override_id>", **operations.DELETE_OVERRIDE)
def delete_override(schedule_id: ScheduleIdPath, override_id: OverrideIdPath) -> Response[None]:
    manage_overrides.remove(schedule_id, override_id, requests.client_id(router))
    return Response(status_code=204)


@router.get("/schedules/<schedule_id>/on-call", **operations.GET_ON_CALL)
def on_call(schedule_id: ScheduleIdPath, at: Annotated[Instant | None, Query()] = None) -> OnCallView:
    answer = read_on_call.at(schedule_id, at)
    return OnCallView(
        at=clock.stamp(answer.at),
        contact_ids=list(answer.on_call.contact_ids),
        sources=answer.sources,
        until=clock.stamp(answer.on_call.until),
        fallback=answer.on_call.fallback,
    )


@router.get("/schedules/<schedule_id>/shifts", **operations.GET_SHIFTS)
def shifts(
    schedule_id: ScheduleIdPath,
    start: Annotated[Instant, Query(alias="from")],
    end: Annotated[Instant, Query(alias="to")],
) -> ShiftsView:
    found = read_on_call.shifts(schedule_id, start, end)
    return ShiftsView(
        shifts=[
            ShiftView(
                start=clock.stamp(s.start), end=clock.stamp(s.end), contact_ids=list(s.contact_ids), fallback=s.fallback
            )
            for s in found
        ]
    )
