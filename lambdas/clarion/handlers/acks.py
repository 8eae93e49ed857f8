"""Answers through the API (scope `alerts`, the client's own alerts): a clinical system records that a clinician
acknowledged or declined, for example from the EHR's inbox (`clarion.usecases.answer_alert`). Served by the
intake function."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from clarion.domain.validation import MESSAGE_ID_PATTERN
from clarion.handlers import operations
from clarion.handlers.alert_views import alert_view
from clarion.handlers.api_models import AlertView, AnswerBody, DeclineBody
from clarion.shared import requests
from clarion.shared.observability import logger
from clarion.usecases.answer_alert import Answer, answer

router = APIGatewayRouter()
MessageIdPath = Annotated[str, Path(max_length=128, pattern=MESSAGE_ID_PATTERN)]


@router.post("/alerts/<message_id>/ack", **operations.ACKNOWLEDGE_ALERT)
def post_ack(message_id: MessageIdPath, body: AnswerBody) -> AlertView:
    logger.set_correlation_id(message_id)
    client_id = requests.client_id(router)
    return alert_view(answer(Answer.ACKNOWLEDGE, client_id, message_id, body.contact_id, "api"))


@router.post("/alerts/<message_id>/decline", **operations.DECLINE_ALERT)
def post_decline(message_id: MessageIdPath, body: DeclineBody) -> AlertView:
    logger.set_correlation_id(message_id)
    client_id = requests.client_id(router)
    return alert_view(answer(Answer.DECLINE, client_id, message_id, body.contact_id, "api", body.reason))
