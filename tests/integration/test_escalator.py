"""The escalator in a burst: the timers of a batch handled side by side, a failed timer back in seconds, and an
ended alert's timer that never waits."""

from __future__ import annotations

from typing import Any

import pytest

from clarion.handlers import escalator
from clarion.shared import clock
from clarion.usecases import advance_walk
from tests.integration.walk import Walk


@pytest.fixture
def walk(clarion: Any) -> Walk:
    w = Walk(clarion)
    w.given_contacts_and_policy()
    return w


def test_a_batch_of_timers_is_handled_all_at_once(walk: Walk, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    from clarion.domain.timers import Timer
    from tests.helpers import FakeContext, sqs_record

    # Given ten timers, each of which takes 0.3 s to handle (waiting out its last fraction of a second)
    seen: list[float] = []
    threads: set[int] = set()

    def slow(timer: Timer, _count: int) -> None:
        threads.add(threading.get_ident())
        time.sleep(0.3)
        seen.append(timer.due)

    monkeypatch.setattr(advance_walk, "advance", slow)
    records = [
        sqs_record({"MessageId": str(due), "ReceiptHandle": "h", "Body": Timer("lab-system", "m", 0, due).body()})
        for due in range(10)
    ]
    # When the escalator gets them as one batch
    started = time.monotonic()
    assert escalator.handler({"Records": records}, FakeContext()) == {"batchItemFailures": []}
    # Then they were handled side by side, not one after another (which would take 3 s)
    assert sorted(seen) == list(range(10)) and len(threads) == 10
    assert time.monotonic() - started < 1.5


def test_a_failed_timer_comes_back_in_seconds_not_after_the_visibility_timeout(
    walk: Walk, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    import boto3

    from clarion import names
    from clarion.domain.timers import Timer
    from clarion.handlers import escalator as escalator_handler
    from tests.helpers import FakeContext, sqs_record, wait_until

    # Given a timer on the timer queue (visibility timeout 180 s) whose handling fails
    sqs = boto3.client("sqs")
    url = walk.clarion.env[names.ENV_TIMER_QUEUE_URL]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    walk._receive(names.ENV_TIMER_QUEUE_URL)  # start from an empty queue
    sqs.send_message(QueueUrl=url, MessageBody=Timer("lab-system", "m-1", 0, 0.0).body())
    [message] = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]

    def fails(*_: Any) -> None:
        raise ConnectionError("the table did not answer")

    monkeypatch.setattr(advance_walk, "advance", fails)
    monkeypatch.setattr(escalator_handler, "RETRY_S", 1)
    # When the escalator handles it
    answer = escalator_handler.handler({"Records": [sqs_record(message, arn)]}, FakeContext())
    failed_at = time.monotonic()
    # Then it is reported failed, and SQS hands it out again within seconds
    assert answer == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    again = wait_until(lambda: sqs.receive_message(QueueUrl=url).get("Messages"), timeout=5.0)
    assert again and time.monotonic() - failed_at < 5.0


def test_a_timer_for_an_ended_alert_never_waits(walk: Walk, monkeypatch: pytest.MonkeyPatch) -> None:
    from clarion.domain.timers import Timer

    # Given an acknowledged alert, and its window's timer handed over 0.8 s before it is due
    walk.post_alert(escalation_policy_id="ward-7b")
    walk.route_all()
    assert walk.answer("ack", "C-1")[0] == 200
    waited: list[float] = []
    monkeypatch.setattr(advance_walk, "sleep", waited.append)
    monkeypatch.setattr(clock, "time", lambda: 1_000.0)
    # When the escalator handles it
    advance_walk.advance(Timer("lab-system", walk.message_id, 0, 1_000.8), 1)
    # Then it does not wait (holding the function's concurrency) for an alert that needs nothing more
    assert waited == []
    # While for an open alert it waits out the fraction, so the stage starts on time
    walk.message_id = "lab-2"
    walk.post_alert(escalation_policy_id="ward-7b")
    advance_walk.advance(Timer("lab-system", "lab-2", 0, 1_000.8), 1)
    assert waited and abs(waited[0] - 0.8) < 1e-6
