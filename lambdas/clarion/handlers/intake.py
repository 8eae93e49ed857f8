"""Intake API (scope `alerts`): accept an alert (`clarion.usecases.accept_alert`), read one
(`clarion.usecases.read_alert`); its answers are `clarion.handlers.acks`'. POST /alerts and POST /notification (the
AWS sample's path) are the same operation."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.domain.validation import MESSAGE_ID_PATTERN
from clarion.handlers import acks, http_errors, operations
from clarion.handlers.alert_views import alert_view
from clarion.handlers.api_models import AlertAccepted, AlertRequest, AlertView
from clarion.shared import requests
from clarion.shared.observability import logger, metrics, tracer
from clarion.usecases import accept_alert, read_alert
from clarion.usecases.accept_alert import NewAlert

router = APIGatewayRouter()


def _post_alert(alert: AlertRequest) -> Response[AlertAccepted]:
    client_id = requests.client_id(router)
    logger.set_correlation_id(alert.message_id)
    logger.append_keys(client_id=client_id, contact_id=alert.contact_id)
    accepted = accept_alert.accept(client_id, NewAlert(**alert.model_dump()))
    body = AlertAccepted(message_id=accepted.message_id, channels=list(accepted.channels))
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=body)


@router.post("/alerts", **operations.CREATE_ALERT)
def post_alerts(alert: AlertRequest) -> Response[AlertAccepted]:
    return _post_alert(alert)


@router.post("/notification", **operations.CREATE_NOTIFICATION)
def post_notification(alert: AlertRequest) -> Response[AlertAccepted]:
    return _post_alert(alert)


@router.get("/alerts/<message_id>", **operations.GET_ALERT)
def get_alert(message_id: Annotated[str, Path(max_length=128, pattern=MESSAGE_ID_PATTERN)]) -> AlertView:
    logger.set_correlation_id(message_id)
    return alert_view(read_alert.read(requests.client_id(router), message_id))


app = APIGatewayRestResolver(enable_validation=True)
http_errors.install(app)
app.include_router(router)
app.include_router(acks.router)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refused = http_errors.refused_unread(event)
    if refused is not None:
        return refused
    accept_alert.begin(context)
    return app.resolve(http_errors.decoded_path(event), context)
