"""Escalator: reads the timer queue and moves each alert's walk on (`escalation.decide`).

A timer not yet due goes back on the queue with the time still to wait (SQS delays at most 15 minutes), and the
last fraction of a second is waited out here so a stage starts on time. A due timer reads the alert; when its
stage's window has ended (or the stage settled) the next stage starts with one conditional write, then its
deliveries go on the alert queue (one message per contact, each delivered by its own channel chain) and its
window's timer on the timer queue. A crash after the write and before those sends leaves the timer message on
the queue: it comes back (received twice) and the sends are made then. The router ignores a delivery it has
already made, so a repeat sends nothing twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion import names
from clarion.adapters import contacts, delivery_log, escalations, events, queue, timers
from clarion.adapters.delivery_log import AlertRecord
from clarion.adapters.timers import Timer
from clarion.domain import escalation
from clarion.domain.escalation import End, Outcome, Progress, StartStage, Wait
from clarion.domain.models import Alert, AlertStatus, Priority
from clarion.shared.batches import each_record
from clarion.shared.observability import logger, loop_metric, metrics, tracer
from clarion.shared.settings import settings

EARLY_WAIT_LIMIT_S = 1.5  # a timer this close to due is waited out here rather than put back
sleep: Callable[[float], None] = time.sleep  # replaceable in tests
clock: Callable[[], float] = time.time


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def _epoch(iso: str) -> float:
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def progress_of(record: AlertRecord) -> Progress:
    return Progress(
        stage=record.stage,
        started_at=_epoch(record.stage_started_at),
        acknowledged=record.ack is not None,
        declined=frozenset(record.declines),
        reach=record.reach,
    )


def _delivery(record: AlertRecord, recipient: str, stage: int) -> Alert:
    """The alert queue's message for `recipient` at `stage`, with that contact's own channels."""
    contact = contacts.get_contact(recipient)
    priority = Priority(record.priority)
    plan = contact.plan(priority, settings().call_enabled) if contact else ()
    return Alert(
        client_id=record.client_id,
        message_id=record.message_id,
        type=record.type,
        contact_id=record.contact_id,
        description=record.description,
        priority=priority,
        accepted_at=record.accepted_at,
        plan=plan,
        recipient=recipient,
        stage=stage,
        ack_required=True,
    )


def _dispatch(record: AlertRecord, stage: int, contact_ids: tuple[str, ...], window_ends: float) -> None:
    """Send the deliveries and the window's timer of a stage already recorded as started."""
    queue.enqueue_many([_delivery(record, c, stage) for c in contact_ids])
    timers.schedule(Timer(record.client_id, record.message_id, stage, window_ends))


def _start(record: AlertRecord, step: StartStage, due: float, now: float) -> None:
    if not escalations.start_stage(
        record.client_id, record.message_id, record.stage, step.stage, step.contact_ids, _iso(now)
    ):
        logger.info("Stage not started: the alert moved on, ended or was acknowledged meanwhile")
        return
    _dispatch(record, step.stage, step.contact_ids, step.window_ends)
    lateness = max(0.0, now - due)
    events.publish_walk(
        record.client_id,
        record.message_id,
        record.priority,
        record.type,
        events.ESCALATED,
        _iso(now),
        stage=step.stage,
        contact_ids=list(step.contact_ids),
    )
    loop_metric(names.METRIC_ESCALATIONS, record.priority)
    metrics.add_metric(name=names.METRIC_STAGE_LATENESS, unit=MetricUnit.Seconds, value=lateness)
    logger.info("Stage started", extra={"stage": step.stage, "contacts": len(step.contact_ids), "late_s": lateness})


def _end(record: AlertRecord, outcome: Outcome, now: float) -> None:
    status = AlertStatus.UNACKNOWLEDGED if outcome is Outcome.UNACKNOWLEDGED else AlertStatus.FAILED
    if not escalations.end_walk(record.client_id, record.message_id, record.stage, status, _iso(now)):
        return
    at = _iso(now)
    if status is AlertStatus.UNACKNOWLEDGED:
        event = events.UNACKNOWLEDGED
        loop_metric(names.METRIC_UNACKNOWLEDGED, record.priority)
        logger.error("Alert unacknowledged: every stage's window ended", extra={"stage": record.stage})
    else:
        event = AlertStatus.FAILED.value
        metrics.add_metric(name=names.METRIC_UNROUTABLE, unit=MetricUnit.Count, value=1)
        logger.error("Alert failed: no contact of any stage could be reached", extra={"stage": record.stage})
    for name in (event,) if status is AlertStatus.UNACKNOWLEDGED else (event, events.UNROUTABLE):
        events.publish_walk(
            record.client_id, record.message_id, record.priority, record.type, name, at, stage=record.stage
        )


def _repair(record: AlertRecord) -> None:
    """A timer of the previous stage came back: the stage may have been started without its sends."""
    stage = record.stage
    window_ends = _epoch(record.stage_started_at) + record.path[stage].ack_within_s
    contact_ids = tuple(c for c in record.path[stage].contact_ids if c not in record.declines)
    logger.info("Resending a started stage's deliveries and timer", extra={"stage": stage})
    _dispatch(record, stage, contact_ids, window_ends)


@tracer.capture_method
def on_timer(timer: Timer, receive_count: int) -> None:
    now = clock()
    if timer.due - now > EARLY_WAIT_LIMIT_S:
        timers.schedule(timer, now)
        return
    if timer.due > now:
        sleep(timer.due - now)
        now = clock()
    record = delivery_log.get_alert(timer.client_id, timer.message_id)
    if record is None or not record.ack_required or record.ended:
        return
    if record.stage != timer.stage:
        if record.stage == timer.stage + 1 and receive_count > 1:
            _repair(record)
        return
    decision = escalation.decide(record.path, progress_of(record), now)
    if isinstance(decision, StartStage):
        _start(record, decision, timer.due, now)
    elif isinstance(decision, End) and decision.outcome is not Outcome.ACKNOWLEDGED:
        _end(record, decision.outcome, now)
    elif isinstance(decision, Wait):
        pass  # a check before the window ends, and the stage has not settled: the window's own timer is queued


def _due(record: dict[str, Any]) -> float:
    try:
        return Timer.parse(record["body"]).due
    except (ValueError, KeyError, TypeError):
        return 0.0  # not a timer: handled (and refused) first


def record_handler(record: dict[str, Any]) -> None:
    logger.remove_keys(["message_id", "client_id"])
    timer = Timer.parse(record["body"])
    logger.set_correlation_id(timer.message_id)
    logger.append_keys(message_id=timer.message_id, client_id=timer.client_id)
    on_timer(timer, int(record.get("attributes", {}).get("ApproximateReceiveCount", "1")))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    """Each timer on its own, soonest due first (a timer that came early and waits out its last second must not
    hold back one already due); a failed one goes back to the queue (ReportBatchItemFailures)."""
    return each_record(sorted(event["Records"], key=_due), record_handler, "Timer not handled; it comes back")
