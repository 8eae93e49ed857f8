"""Escalation timers: SQS messages on the timer queue, delayed until a stage's window ends.

SQS delays a message by at most 15 minutes, so a longer window is a chain: the escalator receives a timer that is
not yet due and puts it back with the time still to wait (`reschedule`). A timer is durable from the moment
`schedule` returns: SQS keeps it (encrypted with Clarion's key) until a handler has finished with it, and a crash
of that handler gives it back after the visibility timeout.

A timer names the alert, the stage whose window it measures, and when that window ends. A `check` is a timer due
now: sent when a stage may have settled early (every contact declined or unreachable).
"""

from __future__ import annotations

import math

from clarion.domain.timers import Timer
from clarion.names import ENV_TIMER_QUEUE_URL
from clarion.shared import clients, clock
from clarion.shared.settings import required, settings

MAX_DELAY_S = 900  # SQS's limit for DelaySeconds
LEAD_S = 1  # a timer arrives this much (plus the fraction) before it is due: the escalator reads its alert meanwhile


def delay_for(due: float, now: float) -> int:
    """Whole seconds to delay a timer due at `due`: it arrives between 1 and 2 s early (`LEAD_S`), never late, so
    the escalator has read its alert by the due moment and waits out the rest."""
    return max(0, min(MAX_DELAY_S, math.floor(due - now) - LEAD_S))


def schedule(timer: Timer, now: float | None = None) -> None:
    """Put `timer` on the queue, delayed as far as SQS allows towards its due time."""
    delay = delay_for(timer.due, clock.time() if now is None else now)
    clients.client("sqs").send_message(
        QueueUrl=required(settings().timer_queue_url, ENV_TIMER_QUEUE_URL),
        MessageBody=timer.body(),
        DelaySeconds=delay,
    )


def check(client_id: str, message_id: str, stage: int) -> None:
    """Ask the escalator to look at `stage` now (it may have settled before its window ends)."""
    schedule(Timer(client_id, message_id, stage, clock.time()))
