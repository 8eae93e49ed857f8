"""The router dies at each step of handling an alert; redelivery finishes it.

A crash is a `BaseException` raised inside the handler at the chosen step: nothing in the function catches it,
so the invocation ends as a killed process would, and the queue redelivers the message. The only duplicate
allowed is the documented ambiguous case: a send that happened but was not recorded is sent again (SMS and
email reach the person twice; a call does not ring twice, because Connect drops a repeated ClientToken). The
router counts each such resend in the AmbiguousResends metric.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from clarion import names
from clarion.adapters import channels, delivery_log
from clarion.domain.models import AlertStatus, Outcome, Priority
from clarion.handlers import router
from clarion.usecases import deliver_alert
from tests.helpers import FakeContext
from tests.integration.routing import given_accepted, log_of, make_alert, queue_event


class Crash(BaseException):
    """The function's process dies here."""


STEPS = ("before_send", "after_send", "after_log")
CHANNEL_OF = {Priority.HIGH: "call", Priority.MEDIUM: "sms", Priority.LOW: "email"}


def arm(monkeypatch: pytest.MonkeyPatch, step: str) -> list[str]:
    """Crash once at `step`; the returned list records that it happened."""
    crashed: list[str] = []
    real_send: Callable[..., str] = channels.send
    real_record: Callable[..., None] = delivery_log.record_attempt

    def send(*args: Any, **kwargs: Any) -> str:
        if step == "before_send" and not crashed:
            crashed.append(step)
            raise Crash
        provider_id = real_send(*args, **kwargs)
        if step == "after_send" and not crashed:
            crashed.append(step)
            raise Crash
        return provider_id

    def record_attempt(alert: Any, attempt: Any, **kwargs: Any) -> None:
        real_record(alert, attempt, **kwargs)
        if step == "after_log" and attempt.outcome is Outcome.SENT and not crashed:
            crashed.append(step)
            raise Crash

    monkeypatch.setattr(deliver_alert.channels, "send", send)
    monkeypatch.setattr(deliver_alert.delivery_log, "record_attempt", record_attempt)
    return crashed


@pytest.mark.parametrize("priority", list(CHANNEL_OF), ids=lambda p: CHANNEL_OF[p])
@pytest.mark.parametrize("step", STEPS)
def test_a_crash_at_each_step_is_finished_by_redelivery(clarion, monkeypatch, output, priority, step) -> None:
    monkeypatch.setattr(deliver_alert, "sleep", lambda _: None)
    # Given an accepted alert, and a router that dies once at `step`
    alert = make_alert(priority, message_id=f"crash-{step}-{priority.value}")
    given_accepted(alert)
    crashed = arm(monkeypatch, step)
    body = json.dumps(alert.to_message())
    # When the first invocation dies
    with pytest.raises(Crash):
        router.handler(queue_event(clarion, body), FakeContext())
    assert crashed == [step]
    assert log_of(alert).status is AlertStatus.DELIVERING
    # And the queue redelivers the message
    response = router.handler(queue_event(clarion, body), FakeContext())
    # Then the alert is delivered, and sent twice only in the ambiguous case (sent, not recorded; not for calls)
    assert response == {"batchItemFailures": []}
    assert log_of(alert).status is AlertStatus.DELIVERED
    channel = CHANNEL_OF[priority]
    sends = [m for m in clarion.outbox if m["channel"] == channel]
    ambiguous = step == "after_send"
    assert len(sends) == (2 if ambiguous and channel != "call" else 1)
    sent = [a for a in log_of(alert).attempts if a.outcome is Outcome.SENT]
    assert [(a.channel.value, a.attempt) for a in sent] == [(channel, 1)]  # the resend reuses attempt 1
    assert output.metric(names.METRIC_AMBIGUOUS_RESENDS) == (1 if step in ("before_send", "after_send") else 0)
