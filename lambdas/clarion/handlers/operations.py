"""What the API document says of each operation: its id (a generated client's function name), summary, description,
documented answers and tag. The handlers' route decorators take these (`@router.put(path, **operations.PUT_CONTACT)`),
so a handler file holds what the handler does and this one what the document says of it."""

from __future__ import annotations

from typing import Any

from clarion.handlers.http_errors import documented

ALERT_POST_ERRORS = documented(400, 401, 403, 409, 413, 415, 422, 500, 503)
ALERT_GET_ERRORS = documented(400, 401, 403, 404, 422, 500, 503)
ANSWER_ERRORS = documented(400, 401, 403, 404, 409, 413, 415, 422, 500, 503)
ADMIN_PUT_ERRORS = documented(400, 401, 403, 413, 415, 422, 500, 503)
ADMIN_ERRORS = documented(400, 401, 403, 404, 422, 500, 503)
ADMIN_DELETE_ERRORS = documented(400, 401, 403, 404, 409, 422, 500, 503)
# 422 is listed on the reads only to replace the validator's default entry: they answer 400 instead.

CREATE_ALERT: dict[str, Any] = dict(
    operation_id="createAlert",
    summary="Send an alert",
    description="Accepts the alert for delivery. Sending the same alert again returns the same answer.",
    responses={202: {"description": "Accepted for delivery"}, **ALERT_POST_ERRORS},
    tags=["alerts"],
)
CREATE_NOTIFICATION: dict[str, Any] = dict(
    operation_id="createNotification",
    summary="Send an alert (AWS sample path)",
    description="The same operation as POST /alerts, for clients of the AWS sample.",
    responses={202: {"description": "Accepted for delivery"}, **ALERT_POST_ERRORS},
    tags=["alerts"],
)
GET_ALERT: dict[str, Any] = dict(
    operation_id="getAlert",
    summary="Read an alert's status",
    description="The calling client's own alert, with every delivery attempt so far.",
    responses={200: {"description": "The alert"}, **ALERT_GET_ERRORS},
    tags=["alerts"],
)
ACKNOWLEDGE_ALERT: dict[str, Any] = dict(
    operation_id="acknowledgeAlert",
    summary="Acknowledge an alert",
    description="Records that this clinician acknowledged; the first acknowledgement wins and stops escalation. "
    "Later ones answer 200 and change nothing.",
    responses={200: {"description": "The alert"}, **ANSWER_ERRORS},
    tags=["alerts"],
)
DECLINE_ALERT: dict[str, Any] = dict(
    operation_id="declineAlert",
    summary="Decline an alert",
    description="Records that this clinician declined (for example: not my patient). They get nothing more for "
    "the alert; when everyone notified in the current stage has declined, the next stage starts at once.",
    responses={200: {"description": "The alert"}, **ANSWER_ERRORS},
    tags=["alerts"],
)
PUT_CONTACT: dict[str, Any] = dict(
    operation_id="putContact",
    summary="Create or replace a contact",
    responses={200: {"description": "Replaced"}, 201: {"description": "Created"}, **ADMIN_PUT_ERRORS},
    tags=["contacts"],
)
GET_CONTACT: dict[str, Any] = dict(
    operation_id="getContact",
    summary="Read a contact",
    responses={200: {"description": "The contact"}, **ADMIN_ERRORS},
    tags=["contacts"],
)
DELETE_CONTACT: dict[str, Any] = dict(
    operation_id="deleteContact",
    summary="Delete a contact",
    description="Refused (409 in_use) while an escalation policy names the contact.",
    responses={204: {"description": "Deleted"}, **ADMIN_DELETE_ERRORS},
    tags=["contacts"],
)
GET_CONTACT_HISTORY: dict[str, Any] = dict(
    operation_id="getContactHistory",
    summary="Read who changed a contact, when, and what it held before",
    description="Every create, replace and delete, oldest first; kept after the contact is deleted.",
    responses={200: {"description": "The changes"}, **ADMIN_ERRORS},
    tags=["contacts"],
)
PUT_ESCALATION_POLICY: dict[str, Any] = dict(
    operation_id="putEscalationPolicy",
    summary="Create or replace an escalation policy",
    description="Who is notified, stage by stage, when an alert is not acknowledged in time. Alerts already on "
    "their way keep the path they were accepted with.",
    responses={200: {"description": "Replaced"}, 201: {"description": "Created"}, **ADMIN_PUT_ERRORS},
    tags=["escalation policies"],
)
GET_ESCALATION_POLICY: dict[str, Any] = dict(
    operation_id="getEscalationPolicy",
    summary="Read an escalation policy",
    responses={200: {"description": "The policy"}, **ADMIN_ERRORS},
    tags=["escalation policies"],
)
DELETE_ESCALATION_POLICY: dict[str, Any] = dict(
    operation_id="deleteEscalationPolicy",
    summary="Delete an escalation policy",
    description="Refused (409 in_use) while a contact names it as its policy.",
    responses={204: {"description": "Deleted"}, **ADMIN_DELETE_ERRORS},
    tags=["escalation policies"],
)
GET_ESCALATION_POLICY_HISTORY: dict[str, Any] = dict(
    operation_id="getEscalationPolicyHistory",
    summary="Read who changed an escalation policy, when, and what it held before",
    description="Every create, replace and delete, oldest first; kept after the policy is deleted.",
    responses={200: {"description": "The changes"}, **ADMIN_ERRORS},
    tags=["escalation policies"],
)
ADMIN_POST_ERRORS = documented(400, 401, 403, 404, 409, 413, 415, 422, 500, 503)
PUT_SCHEDULE: dict[str, Any] = dict(
    operation_id="putSchedule",
    summary="Create or replace an on-call schedule",
    description="Rotation layers in an IANA time zone, and fallback contacts: who is on call follows from this "
    "definition and the overrides alone. Every participant and fallback contact must exist (422 naming the field).",
    responses={200: {"description": "Replaced"}, 201: {"description": "Created"}, **ADMIN_PUT_ERRORS},
    tags=["schedules"],
)
GET_SCHEDULE: dict[str, Any] = dict(
    operation_id="getSchedule",
    summary="Read an on-call schedule",
    responses={200: {"description": "The schedule"}, **ADMIN_ERRORS},
    tags=["schedules"],
)
DELETE_SCHEDULE: dict[str, Any] = dict(
    operation_id="deleteSchedule",
    summary="Delete an on-call schedule and its overrides",
    description="Their history is kept.",
    responses={204: {"description": "Deleted"}, **ADMIN_DELETE_ERRORS},
    tags=["schedules"],
)
GET_SCHEDULE_HISTORY: dict[str, Any] = dict(
    operation_id="getScheduleHistory",
    summary="Read who changed a schedule or its overrides, when, and what they held before",
    description="Every create, replace and delete of the schedule and of its overrides (their before and after "
    "hold an override_id), oldest first; kept after the schedule is deleted.",
    responses={200: {"description": "The changes"}, **ADMIN_ERRORS},
    tags=["schedules"],
)
CREATE_OVERRIDE: dict[str, Any] = dict(
    operation_id="createScheduleOverride",
    summary="Put contacts on call instead of the schedule's, for a while",
    description="From start to end (RFC 3339 with an offset; end in the future, at most 366 days after start). "
    "Refused with 409 overlapping_override, naming the other, when it shares an instant with another override.",
    responses={201: {"description": "Created"}, **ADMIN_POST_ERRORS},
    tags=["schedules"],
)
LIST_OVERRIDES: dict[str, Any] = dict(
    operation_id="listScheduleOverrides",
    summary="Read a schedule's overrides",
    description="Those running or to come, by start; with include_past=true, every one on record.",
    responses={200: {"description": "The overrides"}, **ADMIN_ERRORS},
    tags=["schedules"],
)
DELETE_OVERRIDE: dict[str, Any] = dict(
    operation_id="deleteScheduleOverride",
    summary="End or remove an override",
    description="A running override ends now (and stays on record); one not yet started is removed; one already "
    "over is left as it was.",
    responses={204: {"description": "Ended or removed"}, **ADMIN_DELETE_ERRORS},
    tags=["schedules"],
)
GET_ON_CALL: dict[str, Any] = dict(
    operation_id="getOnCall",
    summary="Read who is on call",
    description="At `at` (default now): the contacts, where each turn comes from, and until when the answer holds.",
    responses={200: {"description": "Who is on call"}, **ADMIN_ERRORS},
    tags=["schedules"],
)
GET_SHIFTS: dict[str, Any] = dict(
    operation_id="getShifts",
    summary="Read who is on call over a period, shift by shift",
    description="From `from` to `to`, at most 31 days.",
    responses={200: {"description": "The shifts"}, **ADMIN_ERRORS},
    tags=["schedules"],
)
