"""Move an alert's escalation walk on when a timer says its stage's window ended (or the stage may have settled):
start the next stage, or end the walk `unacknowledged` (alarmed) or `failed` (`clarion.domain.escalation.decide`).

A timer not yet due goes back on the queue with the time still to wait (SQS delays at most 15 minutes). A timer
due within 2.5 s (timers are sent to arrive 1-2 s early) reads the alert at once and waits out the rest only for
an alert still open (one acknowledged or ended holds no concurrency waiting), so a stage starts on time: at its
due moment the decision is made on the alert as read, and the write is conditioned on nothing having committed
since that read (its sequence number); when something did (a decline, an acknowledgement), the alert is read
again and decided again.
When the stage's window has ended (or the stage settled) the next stage starts with one conditional write, then its
deliveries go on the alert queue (one message per contact, each delivered by its own channel chain) and its
window's timer on the timer queue. A crash after the write and before those sends leaves the timer message on
the queue: it comes back (received twice) and the sends are made then. The router ignores a delivery it has
already made, so a repeat sends nothing twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from clarion import names
from clarion.adapters import contacts, delivery_log, escalations, events, queue, timers
from clarion.adapters.commits import Head, Stale
from clarion.domain import escalation
from clarion.domain.alert_record import AlertRecord
from clarion.domain.escalation import End, Outcome, Progress, StartStage
from clarion.domain.models import Alert, AlertStatus, Priority
from clarion.domain.timers import Timer
from clarion.shared import clock, metrics
from clarion.shared.observability import logger, tracer
from clarion.shared.settings import settings

EARLY_WAIT_LIMIT_S = (
    2.5  # a timer this close to due is waited out here rather than put back (timers arrive 1-2 s early)
)
STALE_TRIES = 4  # decisions made again when the alert changed between its read and the write
sleep: Callable[[float], None] = time.sleep  # replaceable in tests


@tracer.capture_method
def advance(timer: Timer, receive_count: int = 1) -> None:
    """Act on `timer` (received `receive_count` times)."""
    now = clock.time()
    if timer.due - now > EARLY_WAIT_LIMIT_S:
        timers.schedule(timer, now)
        return
    record = delivery_log.get_alert(timer.client_id, timer.message_id)  # read while the last fraction runs out
    if timer.due > now and record is not None and record.open:
        sleep(timer.due - now)
    for _ in range(STALE_TRIES):
        if record is None or not record.ack_required or record.ended:
            return
        if record.stage != timer.stage:
            if record.stage == timer.stage + 1 and receive_count > 1:
                _repair(record)
            return
        try:
            _decide(record, timer)
            return
        except Stale:  # something committed on the alert since it was read: read it again and decide again
            record = delivery_log.get_alert(timer.client_id, timer.message_id)
    raise RuntimeError("the alert kept changing while its timer was handled; the timer comes back")


def _decide(record: AlertRecord, timer: Timer) -> None:
    """Start the next stage or end the walk, as `decide` says of `record` now; `Stale` when the alert changed
    since it was read (the decision is then made again on the alert as it is)."""
    now = clock.time()
    decision = escalation.decide(record.path, _progress_of(record), now)
    if isinstance(decision, StartStage):
        _start(record, decision, timer.due, now)
    elif isinstance(decision, End) and decision.outcome is not Outcome.ACKNOWLEDGED:
        _end(record, decision.outcome)
    # Wait: a check before the window ends, and the stage has not settled: the window's own timer is queued


def _progress_of(record: AlertRecord) -> Progress:
    return Progress(
        stage=record.stage,
        started_at=clock.epoch(record.stage_started_at),
        acknowledged=record.ack is not None,
        declined=frozenset(record.declines),
        reach=record.reach,
        window_ends=clock.epoch(record.stage_ends) if record.stage_ends else None,
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
    started = escalations.start_stage(
        record.client_id,
        record.message_id,
        record.stage,
        step.stage,
        step.contact_ids,
        clock.stamp(step.window_ends),
        Head(record.seq, record.seq_at),
        strict=True,
    )
    if started is None:
        logger.info("Stage not started: the alert moved on, ended or was acknowledged meanwhile")
        return
    at = started.at
    _dispatch(record, step.stage, step.contact_ids, step.window_ends)
    lateness = max(0.0, now - due)
    events.publish_walk(
        record.client_id,
        record.message_id,
        record.priority,
        record.type,
        events.ESCALATED,
        at,
        seq=started.seq,
        stage=step.stage,
        contact_ids=list(step.contact_ids),
    )
    metrics.loop(names.METRIC_ESCALATIONS, record.priority)
    metrics.emit(names.METRIC_STAGE_LATENESS, lateness, "Seconds")
    logger.info("Stage started", extra={"stage": step.stage, "contacts": len(step.contact_ids), "late_s": lateness})


def _end(record: AlertRecord, outcome: Outcome) -> None:
    status = AlertStatus.UNACKNOWLEDGED if outcome is Outcome.UNACKNOWLEDGED else AlertStatus.FAILED
    ended = escalations.end_walk(
        record.client_id, record.message_id, record.stage, status, Head(record.seq, record.seq_at)
    )
    if ended is None:
        return
    if status is AlertStatus.UNACKNOWLEDGED:
        published: tuple[str, ...] = (events.UNACKNOWLEDGED,)
        metrics.loop(names.METRIC_UNACKNOWLEDGED, record.priority)
        logger.error("Alert unacknowledged: every stage's window ended", extra={"stage": record.stage})
    else:
        published = (AlertStatus.FAILED.value, events.UNROUTABLE)
        metrics.emit(names.METRIC_UNROUTABLE)
        logger.error("Alert failed: no contact of any stage could be reached", extra={"stage": record.stage})
    for name in published:
        events.publish_walk(
            record.client_id,
            record.message_id,
            record.priority,
            record.type,
            name,
            ended.at,
            seq=ended.seq,
            stage=record.stage,
        )


def _repair(record: AlertRecord) -> None:
    """A timer of the previous stage came back: the stage may have been started without its sends."""
    stage = record.stage
    if record.stage_ends:
        window_ends = clock.epoch(record.stage_ends)
    else:  # a stage started before its planned end was recorded
        window_ends = escalation.window_ends(record.path, stage, clock.epoch(record.stage_started_at))
    contact_ids = tuple(c for c in record.path[stage].contact_ids if c not in record.declines)
    logger.info("Resending a started stage's deliveries and timer", extra={"stage": stage})
    _dispatch(record, stage, contact_ids, window_ends)
