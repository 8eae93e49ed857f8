"""Park a dead letter of the alert, receipt or reply queue, so nothing waits in a dead-letter queue unseen.

A receipt or an SMS reply lands in its dead-letter queue after its consumer was handed it `maxReceiveCount` times
without finishing: it is parked and counted (`ReceiptsDeadLettered`, `RepliesDeadLettered`, each alarmed). The
attempt the receipt was for is settled by its receipt deadline; the clinician whose reply it was is still being
escalated past, and can answer again (docs/runbook.md).

An alert's message lands there after the router was handed it `maxReceiveCount` times without finishing (it
crashed, ran out of time, or the body is no alert). For each one:
- an alert that needs no acknowledgement ends `failed`, with failure_reason `dead_lettered`, publishes `failed`
  and `unroutable` and counts as unroutable (the on-call alarm); for one that does, the recipient counts as
  unreachable at that stage and the escalator is asked to look, so the walk moves on as for any unreachable one;
- the body is parked in the delivery log, where `python -m tools.redrive` finds it after the cause is fixed;
- it is counted (`AlertsDeadLettered`, the dead-letter alarm) and its ids are logged, never its body.
"""

from __future__ import annotations

import json

from clarion import names
from clarion.adapters import dead_letters, delivery_log, escalations, events, timers
from clarion.domain.escalation import Reach
from clarion.domain.models import Alert, AlertStatus
from clarion.shared import clock, metrics
from clarion.shared.observability import logger
from clarion.usecases.notify_taken import TakenRequest

# What each source's dead letters count as (alerts: `METRIC_DEAD_LETTERED`, with the alert's own handling).
COUNTED = {"receipts": names.METRIC_RECEIPTS_DEAD_LETTERED, "replies": names.METRIC_REPLIES_DEAD_LETTERED}


def park(sqs_message_id: str, body: str, source: str = dead_letters.ALERTS) -> None:
    """Give up on what the dead letter `body` (from the `source` queue) did, and park it."""
    at = clock.stamp()
    if source in COUNTED:
        dead_letters.park(sqs_message_id, body, at, None, source)
        metrics.emit(COUNTED[source])
        logger.error("Dead letter parked", extra={"sqs_message_id": sqs_message_id, "source": source})
        return
    alert = _alert_in(body)
    if alert is not None:
        logger.append_keys(message_id=alert.message_id, client_id=alert.client_id, stage=alert.stage)
        _give_up(alert, at)
    dead_letters.park(sqs_message_id, body, at, alert)
    metrics.emit(names.METRIC_DEAD_LETTERED)
    logger.info("Dead letter parked for redrive", extra={"sqs_message_id": sqs_message_id, "alert": bool(alert)})


def _alert_in(body: str) -> Alert | None:
    """The alert the body routes, or None for a `taken` notice request or a body that is no alert."""
    try:
        data = json.loads(body)
        if TakenRequest.read(data) is not None:
            return None
        return Alert.from_message(data)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _give_up(alert: Alert, at: str) -> None:
    """What the router would have recorded had it finished: this delivery reached nobody."""
    if alert.ack_required:
        escalations.record_reach(alert, Reach.FAILED, at)
        timers.check(alert.client_id, alert.message_id, alert.stage)
        logger.warning("Dead-lettered: the recipient counts as unreachable at this stage")
        return
    if delivery_log.set_final_status(alert, AlertStatus.FAILED, at, reason=dead_letters.REASON):
        events.publish_status(alert, AlertStatus.FAILED, at)
        events.publish_status(alert, events.UNROUTABLE, at)
        metrics.emit(names.METRIC_UNROUTABLE)
        logger.error("Dead-lettered: the alert is failed and reached nobody")
