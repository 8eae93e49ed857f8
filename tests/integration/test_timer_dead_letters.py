"""No walk stalls on a timer the escalator gave up on: its dead letter moves the walk on (the next stage starts) or,
if that fails again, ends it `unacknowledged` loudly; and the receipt and reply dead-letter queues are drained and
parked like the alert queue's, each counted for its alarm."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from clarion import names
from clarion.adapters import dead_letters as parked_letters
from clarion.domain.timers import Timer
from clarion.handlers import dead_letters, timer_dead_letters
from clarion.shared import clock
from clarion.usecases import advance_walk
from tests.helpers import FakeContext, sqs_record
from tests.integration.walk import Walk
from tools import redrive


@pytest.fixture
def walk(clarion: Any) -> Walk:
    w = Walk(clarion)
    w.given_contacts_and_policy()
    return w


def _dead_timer(walk: Walk, due: float) -> dict[str, Any]:
    """The timer of stage 0, as the timer dead-letter queue's event source mapping hands it over."""
    sqs = boto3.client("sqs")
    url = walk.clarion.deployment.output("TimerDeadLetterQueueUrl")
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.send_message(QueueUrl=url, MessageBody=Timer(walk.client_id, walk.message_id, 0, due).body())
    [message] = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    return {"Records": [sqs_record(message, arn)]}


def test_a_dead_lettered_timer_moves_its_walk_on(walk: Walk, output: Any, monkeypatch) -> None:
    # Given C-1 was notified and its window ended, but the escalator gave up on the window's timer
    walk.post_alert(escalation_policy_id="ward-7b")
    walk.route_all()
    end = walk.window_end(0)
    monkeypatch.setattr(clock, "time", lambda: end + 1)
    # When the timer dead-letters function drains it
    answer = timer_dead_letters.handler(_dead_timer(walk, end), FakeContext())
    # Then stage 1 starts (C-2 is queued), the timer is counted and parked, and the redrive leaves it be
    assert answer == {"batchItemFailures": []}
    assert [s["stage"] for s in walk.get()["stages"]] == [0, 1]
    assert [d["recipient"] for d in walk.deliveries()] == ["C-2"]
    assert output.metric(names.METRIC_TIMERS_DEAD_LETTERED) == 1
    [parked] = parked_letters.parked()
    assert parked["source"] == "timers"
    outcome = redrive.redrive(walk.clarion.env[names.ENV_ALERT_QUEUE_URL], boto3.client("sqs"))
    assert outcome.kept == {"timers": 1} and not outcome.queued


def test_a_dead_lettered_timer_that_fails_again_ends_the_walk_unacknowledged_loudly(
    walk: Walk, clarion: Any, output: Any, monkeypatch
) -> None:
    # Given C-1 was notified, and whatever broke the escalator breaks it again
    walk.post_alert(escalation_policy_id="ward-7b")
    walk.route_all()
    end = walk.window_end(0)

    def broken(*_: Any) -> None:
        raise RuntimeError("a bug in this release")

    monkeypatch.setattr(advance_walk, "advance", broken)
    # When the timer dead-letters function drains the timer
    answer = timer_dead_letters.handler(_dead_timer(walk, end), FakeContext())
    # Then the walk ends unacknowledged (not stalled at stage 0), with its event and the unacknowledged metric
    assert answer == {"batchItemFailures": []}
    view = walk.get()
    assert view["status"] == "unacknowledged" and view["ended_at"]
    assert output.metric(names.METRIC_UNACKNOWLEDGED) == 1
    assert output.metric(names.METRIC_TIMERS_DEAD_LETTERED) == 1
    # And an acknowledgement that comes after is still recorded for the audit
    assert walk.answer("ack", "C-1")[0] == 200
    assert walk.get()["ack"]["after_end"] is True


@pytest.mark.parametrize(
    ("output_name", "source", "metric"),
    [
        ("ReceiptDeadLetterQueueUrl", "receipts", names.METRIC_RECEIPTS_DEAD_LETTERED),
        ("ReplyDeadLetterQueueUrl", "replies", names.METRIC_REPLIES_DEAD_LETTERED),
    ],
)
def test_receipt_and_reply_dead_letters_are_drained_parked_and_counted(
    clarion: Any, output: Any, output_name: str, source: str, metric: str
) -> None:
    # Given a message in the receipt (or reply) dead-letter queue
    sqs = boto3.client("sqs")
    url = clarion.deployment.output(output_name)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.send_message(QueueUrl=url, MessageBody='{"Type": "Notification", "Message": "{}"}')
    [message] = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    # When the dead-letters function drains it
    answer = dead_letters.handler({"Records": [sqs_record(message, arn)]}, FakeContext())
    # Then it is parked with its source and counted for its alarm, and the redrive leaves it parked
    assert answer == {"batchItemFailures": []}
    [parked] = parked_letters.parked()
    assert parked["source"] == source
    assert output.metric(metric) == 1
    outcome = redrive.redrive(clarion.env[names.ENV_ALERT_QUEUE_URL], sqs)
    assert outcome.kept == {source: 1} and not outcome.queued
    assert f"1 {source}" in outcome.report(dry_run=False)
    # And once its queue is named (the data stack's outputs), the redrive puts it back there, once
    home = clarion.deployment.output({"receipts": "ReceiptsQueueUrl", "replies": "RepliesQueueUrl"}[source])
    sqs.purge_queue(QueueUrl=home)
    outcome = redrive.redrive(clarion.env[names.ENV_ALERT_QUEUE_URL], sqs, queues={source: home})
    assert outcome.resent == {source: 1} and parked_letters.parked() == []
    [again] = sqs.receive_message(QueueUrl=home)["Messages"]
    assert again["Body"] == message["Body"]
