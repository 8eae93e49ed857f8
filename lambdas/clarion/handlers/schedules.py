"""On-call schedules API (scope `admin`): create or replace, read and delete a schedule, and read its history
(`clarion.usecases.manage_schedules`). Its overrides and who is on call: `clarion.handlers.overrides`.

Served by the contacts function (one admin function): its resolver includes this router.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.domain.validation import CONTACT_ID_PATTERN
from clarion.handlers import history, operations
from clarion.handlers.api_models import HistoryView
from clarion.handlers.schedule_models import ScheduleBody, ScheduleView
from clarion.shared import requests
from clarion.usecases import manage_schedules

router = APIGatewayRouter()
ScheduleIdPath = Annotated[str, Path(max_length=64, pattern=CONTACT_ID_PATTERN)]


@router.put("/schedules/<schedule_id>", **operations.PUT_SCHEDULE)
def put_schedule(schedule_id: ScheduleIdPath, body: ScheduleBody) -> Response[ScheduleView]:
    schedule = body.to_schedule()
    created = manage_schedules.put(schedule_id, schedule, requests.client_id(router))
    return Response(
        status_code=201 if created else 200,
        content_type=content_types.APPLICATION_JSON,
        body=ScheduleView.of(schedule_id, schedule),
    )


@router.get("/schedules/<schedule_id>", **operations.GET_SCHEDULE)
def get_schedule(schedule_id: ScheduleIdPath) -> ScheduleView:
    return ScheduleView.of(schedule_id, manage_schedules.get(schedule_id))


@router.delete("/schedules/<schedule_id>", **operations.DELETE_SCHEDULE)
def delete_schedule(schedule_id: ScheduleIdPath) -> Response[None]:
    manage_schedules.delete(schedule_id, requests.client_id(router))
    return Response(status_code=204)


@router.get("/schedules/<schedule_id>/history", **operations.GET_SCHEDULE_HISTORY)
def schedule_history(schedule_id: ScheduleIdPath) -> HistoryView:
    return history.view(manage_schedules.history(schedule_id))
