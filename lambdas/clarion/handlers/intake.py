"""Intake API (scope `alerts`): accept an alert, report an alert's status.

POST /alerts and POST /notification (the AWS sample's path) are the same operation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from clarion.adapters import contacts, delivery_log, events, queue
from clarion.domain.errors import NotFound, NoUsableChannel, UnknownContact
from clarion.domain.models import Alert, AlertStatus
from clarion.domain.validation import MESSAGE_ID_PATTERN
from clarion.handlers import http_errors
from clarion.handlers.api_models import AlertAccepted, AlertRequest, AlertView, AttemptView
from clarion.names import ENV_IDEMPOTENCY_TABLE, METRIC_ALERTS_ACCEPTED
from clarion.shared import clients
from clarion.shared.observability import logger, metrics, tracer
from clarion.shared.settings import required, settings

router = APIGatewayRouter()
_POST_ERRORS = http_errors.documented(400, 401, 403, 409, 413, 415, 422, 500, 503)
# 422 is listed only to replace the validator's default entry; this route answers 400 instead.
_GET_ERRORS = http_errors.documented(400, 401, 403, 404, 422, 500, 503)


class _Submission(BaseModel):
    """What the idempotency record is keyed on (client_id + message_id) and validated against (alert)."""

    client_id: str
    alert: AlertRequest


# The key includes the client, so two clients may use the same message_id; the whole body is
# validated so a reused message_id with a different body is refused instead of answered from cache.
_IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="[client_id, alert.message_id]",
    payload_validation_jmespath="alert",
    raise_on_no_idempotency_key=True,
    hash_function="sha256",
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _client_id() -> str:
    return str(router.current_event.request_context.authorizer.get("client_id") or "")


def _accept(*, submission: _Submission) -> dict[str, Any]:
    """Check the contact can be reached, then record, announce and enqueue the alert."""
    request = submission.alert
    contact = contacts.get_contact(request.contact_id)
    if contact is None:
        raise UnknownContact(f"There is no contact '{request.contact_id}'.", field="contact_id")
    plan = contact.plan(request.priority, settings().call_enabled)
    if not plan:
        raise NoUsableChannel(
            f"Contact '{request.contact_id}' has no channel that can be used for priority {request.priority.value}.",
            field="contact_id",
        )
    alert = Alert(
        client_id=submission.client_id,
        message_id=request.message_id,
        type=request.type,
        contact_id=request.contact_id,
        description=request.description,
        priority=request.priority,
        accepted_at=_now(),
        plan=plan,
    )
    delivery_log.create_alert(alert)
    events.publish_status(alert, AlertStatus.ACCEPTED, alert.accepted_at)
    queue.enqueue(alert)  # last: once it is on the queue, it will be delivered
    metrics.add_metric(name=METRIC_ALERTS_ACCEPTED, unit=MetricUnit.Count, value=1)
    logger.info("alert accepted", extra={"priority": alert.priority.value, "plan": [c.value for c in plan]})
    return AlertAccepted(message_id=alert.message_id, channels=list(plan)).model_dump(mode="json")


@cache
def _idempotent_accept() -> Callable[..., dict[str, Any]]:
    """Built on first use, so importing this module needs no table and no AWS client."""
    _IDEMPOTENCY.expires_after_seconds = settings().delivery_retention_days * 86400
    persistence = DynamoDBPersistenceLayer(
        table_name=required(settings().idempotency_table, ENV_IDEMPOTENCY_TABLE),
        boto3_client=clients.client("dynamodb"),
    )
    accept: Callable[..., dict[str, Any]] = idempotent_function(
        _accept,
        data_keyword_argument="submission",
        persistence_store=persistence,
        config=_IDEMPOTENCY,
        key_prefix="clarion-intake-accept",
    )
    return accept


def _post_alert(alert: AlertRequest) -> Response[AlertAccepted]:
    logger.set_correlation_id(alert.message_id)
    logger.append_keys(client_id=_client_id(), contact_id=alert.contact_id)
    answer = _idempotent_accept()(submission=_Submission(client_id=_client_id(), alert=alert))
    return Response(
        status_code=202, content_type=content_types.APPLICATION_JSON, body=AlertAccepted.model_validate(answer)
    )


@router.post(
    "/alerts",
    summary="Send an alert",
    description="Accepts the alert for delivery. Sending the same alert again returns the same answer.",
    responses={202: {"description": "Accepted for delivery"}, **_POST_ERRORS},
    tags=["alerts"],
)
def post_alerts(alert: AlertRequest) -> Response[AlertAccepted]:
    return _post_alert(alert)


@router.post(
    "/notification",
    summary="Send an alert (AWS sample path)",
    description="The same operation as POST /alerts, for clients of the AWS sample.",
    responses={202: {"description": "Accepted for delivery"}, **_POST_ERRORS},
    tags=["alerts"],
)
def post_notification(alert: AlertRequest) -> Response[AlertAccepted]:
    return _post_alert(alert)


@router.get(
    "/alerts/<message_id>",
    summary="Read an alert's status",
    description="The calling client's own alert, with every delivery attempt so far.",
    responses={200: {"description": "The alert"}, **_GET_ERRORS},
    tags=["alerts"],
)
def get_alert(message_id: Annotated[str, Path(max_length=128, pattern=MESSAGE_ID_PATTERN)]) -> AlertView:
    logger.set_correlation_id(message_id)
    record = delivery_log.get_alert(_client_id(), message_id)
    if record is None:
        raise NotFound(f"There is no alert '{message_id}'.", field="message_id")
    return AlertView(
        message_id=record.message_id,
        status=record.status,
        priority=record.priority,  # type: ignore[arg-type]
        type=record.type,
        accepted_at=record.accepted_at,
        attempts=[
            AttemptView(
                channel=a.channel,
                attempt=a.attempt,
                outcome=a.outcome,
                at=a.at,
                provider_message_id=a.provider_message_id,
                error=a.error,
            )
            for a in record.attempts
        ],
    )


app = APIGatewayRestResolver(enable_validation=True)
http_errors.install(app)
app.include_router(router)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    too_large = http_errors.oversized(event)
    if too_large is not None:
        return too_large
    _IDEMPOTENCY.register_lambda_context(context)
    return app.resolve(event, context)
