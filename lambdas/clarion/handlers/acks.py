"""Answers through the API (scope `alerts`, the client's own alerts): a clinical system records that a clinician
acknowledged or declined, for example from the EHR's inbox (`clarion.usecases.answer_alert`). Served by the
intake function."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.domain.validation import MESSAGE_ID_PATTERN
from clarion.handlers import http_errors
from clarion.handlers.alert_views import alert_view
from clarion.handlers.api_models import AlertView, AnswerBody, DeclineBody
from clarion.shared import requests
from clarion.shared.observability import logger
from clarion.usecases.answer_alert import Answer, answer

router = APIGatewayRouter()
_ERRORS = http_errors.documented(400, 401, 403, 404, 409, 413, 415, 422, 500, 503)
MessageIdPath = Annotated[str, Path(max_length=128, pattern=MESSAGE_ID_PATTERN)]


@router.post(
    "/alerts/<message_id>/ack",
    operation_id="acknowledgeAlert",
    summary="Acknowledge an alert",
    description="Records that this clinician acknowledged; the first acknowledgement wins and stops escalation. "
    "Later ones answer 200 and change nothing.",
    responses={200: {"description": "The alert"}, **_ERRORS},
    tags=["alerts"],
)
def post_ack(message_id: MessageIdPath, body: AnswerBody) -> AlertView:
    logger.set_correlation_id(message_id)
    client_id = requests.client_id(router)
    return alert_view(answer(Answer.ACKNOWLEDGE, client_id, message_id, body.contact_id, "api"))


@router.post(
    "/alerts/<message_id>/decline",
    operation_id="declineAlert",
    summary="Decline an alert",
    description="Records that this clinician declined (for example: not my patient). They get nothing more for "
    "the alert; when everyone notified in the current stage has declined, the next stage starts at once.",
    responses={200: {"description": "The alert"}, **_ERRORS},
    tags=["alerts"],
)
def post_decline(message_id: MessageIdPath, body: DeclineBody) -> AlertView:
    logger.set_correlation_id(message_id)
    client_id = requests.client_id(router)
    return alert_view(answer(Answer.DECLINE, client_id, message_id, body.contact_id, "api", body.reason))
