"""Dead letters: drains the alert dead-letter queue, so no alert waits there unseen.

A message lands there after the router was handed it `maxReceiveCount` times without finishing (it crashed, ran
out of time, or the body is no alert). For each one this function:
- ends an alert that needs no acknowledgement `failed`, with failure_reason `dead_lettered`, publishes `failed`
  and `unroutable` and counts it unroutable (the on-call alarm); for one that does, marks the recipient
  unreachable at that stage and asks the escalator to look, so the walk moves on as for any unreachable recipient;
- parks the body in the delivery log, where `python -m tools.redrive` finds it after the cause is fixed;
- counts it (`AlertsDeadLettered`, the dead-letter alarm) and logs its ids, never its body.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion import names
from clarion.adapters import dead_letters, delivery_log, escalations, events, timers
from clarion.domain.escalation import Reach
from clarion.domain.models import Alert, AlertStatus
from clarion.services import taken
from clarion.shared.observability import logger, metrics, tracer


def _alert_in(body: str) -> Alert | None:
    """The alert the body routes, or None for a `taken` notice request or a body that is no alert."""
    try:
        data = json.loads(body)
        if isinstance(data, dict) and taken.is_request(data):
            return None
        return Alert.from_message(data)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def give_up(alert: Alert, at: str) -> None:
    """What the router would have recorded had it finished: this delivery reached nobody."""
    if alert.ack_required:
        escalations.record_reach(alert, Reach.FAILED, at)
        timers.check(alert.client_id, alert.message_id, alert.stage)
        logger.warning("Dead-lettered: the recipient counts as unreachable at this stage")
        return
    if delivery_log.set_final_status(alert, AlertStatus.FAILED, at, reason=dead_letters.REASON):
        events.publish_status(alert, AlertStatus.FAILED, at)
        events.publish_status(alert, events.UNROUTABLE, at)
        metrics.add_metric(name=names.METRIC_UNROUTABLE, unit="Count", value=1)
        logger.error("Dead-lettered: the alert is failed and reached nobody")


def record_handler(record: dict[str, Any]) -> None:
    logger.remove_keys(["message_id", "client_id", "stage"])
    at = datetime.now(UTC).isoformat(timespec="milliseconds")
    body = str(record.get("body") or "")
    alert = _alert_in(body)
    if alert is not None:
        logger.append_keys(message_id=alert.message_id, client_id=alert.client_id, stage=alert.stage)
        give_up(alert, at)
    dead_letters.park(record["messageId"], body, at, alert)
    metrics.add_metric(name=names.METRIC_DEAD_LETTERED, unit="Count", value=1)
    logger.info("Dead letter parked for redrive", extra={"sqs_message_id": record["messageId"], "alert": bool(alert)})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    failures = []
    for record in event["Records"]:
        try:
            record_handler(record)
        except Exception:  # the batch boundary: the record stays in the dead-letter queue and comes again
            logger.exception("Dead letter not handled; it stays in the dead-letter queue")
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
