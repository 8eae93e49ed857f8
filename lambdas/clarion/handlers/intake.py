"""Intake API (scope `alerts`): accept an alert, report an alert's status; answers (`clarion.handlers.acks`).

POST /alerts and POST /notification (the AWS sample's path) are the same operation. An alert whose priority needs
an acknowledgement is accepted with its escalation path fixed (the addressee, then the policy's stages) and the
addressee's window timer queued before the alert itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
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

from clarion.adapters import contacts, delivery_log, escalations, events, policies, queue, timers
from clarion.adapters.timers import Timer
from clarion.domain import escalation, messages
from clarion.domain.errors import NotFound, NoUsableChannel, UnknownContact, UnknownPolicy
from clarion.domain.models import Alert, AlertStatus, Contact
from clarion.domain.validation import MESSAGE_ID_PATTERN
from clarion.handlers import acks, http_errors
from clarion.handlers.alert_views import alert_view
from clarion.handlers.api_models import AlertAccepted, AlertRequest, AlertView
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


def _policy_for(request: AlertRequest, contact: Contact) -> escalation.Policy | None:
    """The alert's own policy (it wins), else the contact's; an alert naming an unknown one is refused."""
    if request.escalation_policy_id is not None:
        policy = policies.get_policy(request.escalation_policy_id)
        if policy is None:
            raise UnknownPolicy(
                f"There is no escalation policy '{request.escalation_policy_id}'.", field="escalation_policy_id"
            )
        return policy
    if contact.escalation_policy_id is None:
        return None
    policy = policies.get_policy(contact.escalation_policy_id)
    if policy is None:
        logger.warning("The contact's escalation policy is gone; the alert has no stages past its addressee")
    return policy


def _walk(alert: Alert, request: AlertRequest, contact: Contact) -> tuple[dict[str, Any], float] | None:
    """The escalation walk's attributes and the addressee's window end (epoch), or None: no ack needed."""
    config = settings()
    window = config.ack_window_s(alert.priority.value)
    if window is None:
        if request.escalation_policy_id is not None:
            _policy_for(request, contact)  # still refuse an unknown policy, so clients learn of the typo
        return None
    policy = _policy_for(request, contact)
    path = escalation.build_path(alert.contact_id, window, policy)
    target = config.ack_target_s(alert.priority.value) or window
    walk = escalations.walk_item(
        path,
        target,
        policy.policy_id if policy else None,
        alert.accepted_at,
        messages.clean_description(alert.description),
    )
    accepted = datetime.fromisoformat(alert.accepted_at.replace("Z", "+00:00")).timestamp()
    return walk, accepted + path[0].ack_within_s


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
    walk = _walk(alert, request, contact)
    if walk is not None:
        alert = replace(alert, ack_required=True)
    delivery_log.create_alert(alert, walk[0] if walk else None)
    events.publish_status(alert, AlertStatus.ACCEPTED, alert.accepted_at)
    if walk is not None:
        timers.schedule(Timer(alert.client_id, alert.message_id, 0, walk[1]))
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
    operation_id="createAlert",
    summary="Send an alert",
    description="Accepts the alert for delivery. Sending the same alert again returns the same answer.",
    responses={202: {"description": "Accepted for delivery"}, **_POST_ERRORS},
    tags=["alerts"],
)
def post_alerts(alert: AlertRequest) -> Response[AlertAccepted]:
    return _post_alert(alert)


@router.post(
    "/notification",
    operation_id="createNotification",
    summary="Send an alert (AWS sample path)",
    description="The same operation as POST /alerts, for clients of the AWS sample.",
    responses={202: {"description": "Accepted for delivery"}, **_POST_ERRORS},
    tags=["alerts"],
)
def post_notification(alert: AlertRequest) -> Response[AlertAccepted]:
    return _post_alert(alert)


@router.get(
    "/alerts/<message_id>",
    operation_id="getAlert",
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
    return alert_view(record)


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
    _IDEMPOTENCY.register_lambda_context(context)
    return app.resolve(http_errors.decoded_path(event), context)
