"""Rescue a walk whose timer dead-lettered: the escalator was handed the timer `maxReceiveCount` times and never
finished with it, so nothing else will move that walk on. Left alone the alert would stall: no next stage, no end,
no alarm. So, for each such timer:
- it is tried once more as due now (a cause that has passed, such as a throttled table, lets the next stage start
  or the walk end as it should);
- if that fails too, the walk ends `unacknowledged` at its current stage, loudly: the `unacknowledged` event and
  metric (the on-call alarm), and an error log naming the alert;
- it is counted (`TimersDeadLettered`, the timer dead-letter alarm) either way, and parked in the delivery log for
  the record (`tools.redrive` lists it; a walk that moved on or ended needs no redrive).
A timer whose alert is gone, acknowledged or ended is only counted and parked.
"""

from __future__ import annotations

from clarion import names
from clarion.adapters import dead_letters, delivery_log, escalations, events
from clarion.adapters.commits import Head
from clarion.domain.models import AlertStatus
from clarion.domain.timers import Timer
from clarion.shared import clock, metrics
from clarion.shared.aws_errors import describe
from clarion.shared.observability import logger
from clarion.usecases import advance_walk

SOURCE = "timers"


def rescue(sqs_message_id: str, body: str) -> None:
    """Move on, or end loudly, the walk of the dead-lettered timer `body`; then count and park it."""
    timer = _timer_in(body)
    if timer is not None:
        logger.append_keys(message_id=timer.message_id, client_id=timer.client_id, stage=timer.stage)
        _move_on_or_end(timer)
    dead_letters.park(sqs_message_id, body, clock.stamp(), None, SOURCE)
    metrics.emit(names.METRIC_TIMERS_DEAD_LETTERED)
    logger.info("Dead-lettered timer handled and parked", extra={"sqs_message_id": sqs_message_id})


def _timer_in(body: str) -> Timer | None:
    try:
        return Timer.parse(body)
    except (ValueError, KeyError, TypeError):
        logger.error("A dead-lettered timer is no timer; parked as it is")
        return None


def _move_on_or_end(timer: Timer) -> None:
    due_now = Timer(timer.client_id, timer.message_id, timer.stage, min(timer.due, clock.time()))
    try:
        advance_walk.advance(due_now, receive_count=2)  # 2: a stage started without its sends is repaired
        return
    except Exception as error:  # the last resort for this walk: whatever failed, end it rather than stall
        logger.error("The dead-lettered timer failed again; ending its walk", extra=describe(error))
    record = delivery_log.get_alert(timer.client_id, timer.message_id)
    if record is None or not record.open:
        return
    ended = escalations.end_walk(
        record.client_id, record.message_id, record.stage, AlertStatus.UNACKNOWLEDGED, Head(record.seq, record.seq_at)
    )
    if ended is None:
        return  # acknowledged or ended meanwhile
    events.publish_walk(
        record.client_id,
        record.message_id,
        record.priority,
        record.type,
        events.UNACKNOWLEDGED,
        ended.at,
        seq=ended.seq,
        stage=record.stage,
        reason="timer_dead_lettered",
    )
    metrics.loop(names.METRIC_UNACKNOWLEDGED, record.priority)
    logger.error("Alert unacknowledged: its timer could not be handled, so its walk was ended")
