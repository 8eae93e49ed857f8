"""An alert the router keeps failing on: SQS moves it to the dead-letter queue after five receives, the
dead-letters function ends it failed (with a reason, an event and the unroutable metric) and parks it, and the
operator's redrive sends it back once, after the fix, without anything going out twice."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from clarion import names
from clarion.adapters import dead_letters as parked_letters
from clarion.adapters import delivery_log
from clarion.domain.escalation import Reach
from clarion.domain.models import Alert, AlertStatus, Priority
from clarion.handlers import alert_views, dead_letters, router
from clarion.usecases import deliver_alert
from tests.helpers import FakeContext, sqs_record
from tests.integration.routing import given_accepted, log_of, make_alert, queue_event
from tests.integration.walk import Walk
from tools import redrive

RECEIVES = 5  # the alert queue's maxReceiveCount (stacks/constructs/messaging.py)


def sqs_event(url: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    arn = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return {"Records": [sqs_record(m, arn["QueueArn"]) for m in messages]}


def fail_until_dead_lettered(clarion: Any, monkeypatch: pytest.MonkeyPatch, body: str) -> dict[str, Any]:
    """Hand `body` to a router that raises on every send, as SQS would, until SQS moves it to the dead-letter
    queue; the dead-letter queue's records, as its event source mapping delivers them."""
    sqs = boto3.client("sqs")
    url = clarion.env[names.ENV_ALERT_QUEUE_URL]

    def broken(*_: Any, **__: Any) -> str:
        raise RuntimeError("a bug in this release")

    monkeypatch.setattr(deliver_alert.channels, "send", broken)
    event = queue_event(clarion, body)
    for _ in range(RECEIVES):
        assert router.handler(event, FakeContext())["batchItemFailures"]
        for record in event["Records"]:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0)
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
        event = {
            "Records": [
                {**event["Records"][0], "receiptHandle": m["ReceiptHandle"]} for m in received.get("Messages", [])
            ]
        }
    assert not event["Records"], "SQS should have moved the message to the dead-letter queue"
    monkeypatch.undo()
    moved = sqs.receive_message(QueueUrl=clarion.dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in moved] == [body]
    return sqs_event(clarion.dlq_url, moved)


def test_an_alert_the_router_gave_up_on_ends_failed_with_a_reason_an_event_and_the_unroutable_metric(
    clarion: Any, monkeypatch: pytest.MonkeyPatch, output: Any
) -> None:
    # Given an accepted low-priority alert (no acknowledgement) and a router that fails on it every time
    alert = make_alert(Priority.LOW, message_id="dead-1")
    given_accepted(alert)
    event = fail_until_dead_lettered(clarion, monkeypatch, json.dumps(alert.to_message()))
    assert not log_of(alert).ended  # stuck: so it stayed before this function
    # When the dead-letters function takes it from the dead-letter queue
    assert dead_letters.handler(event, FakeContext()) == {"batchItemFailures": []}
    # Then the alert is failed, with a reason a person understands
    view = alert_views.alert_view(log_of(alert)).model_dump()
    assert view["status"] == "failed"
    assert view["failure"]["code"] == "dead_lettered" and "could not finish routing" in view["failure"]["message"]
    # And failed and unroutable were published, the unroutable and dead-lettered metrics counted
    assert [e["message"]["status"] for e in clarion.events()][-2:] == ["failed", "unroutable"]
    assert output.metric(names.METRIC_UNROUTABLE) == 1 and output.metric(names.METRIC_DEAD_LETTERED) == 1
    # And it is parked for a redrive, its body kept and never logged
    (item,) = parked_letters.parked()
    assert (item["message_id"], item["body"]) == ("dead-1", json.dumps(alert.to_message()))
    assert alert.description not in output.read()


def test_the_same_dead_letter_twice_changes_nothing_more(clarion: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a dead-lettered alert handled once
    alert = make_alert(Priority.LOW, message_id="dead-2")
    given_accepted(alert)
    event = fail_until_dead_lettered(clarion, monkeypatch, json.dumps(alert.to_message()))
    dead_letters.handler(event, FakeContext())
    published = len(clarion.events())
    # When SQS hands the same message again
    dead_letters.handler(event, FakeContext())
    # Then no second event is published and it is parked once
    assert len(clarion.events()) == published
    assert len(parked_letters.parked()) == 1


def test_the_redrive_sends_it_once_after_the_fix_and_a_second_run_sends_nothing(
    clarion: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deliver_alert, "sleep", lambda _: None)
    # Given a dead-lettered alert, and the router fixed
    alert = make_alert(Priority.LOW, message_id="dead-3")
    given_accepted(alert)
    dead_letters.handler(fail_until_dead_lettered(clarion, monkeypatch, json.dumps(alert.to_message())), FakeContext())
    sqs = boto3.client("sqs")
    url = clarion.env[names.ENV_ALERT_QUEUE_URL]
    # When the operator redrives
    first = redrive.redrive(url, sqs)
    # Then the alert is accepted again and its message queued, once
    assert first.queued == ["lab-system/dead-3"]
    assert not log_of(alert).ended and log_of(alert).failure_reason is None
    queued = clarion.queued()
    assert [json.loads(m["Body"])["message_id"] for m in queued] == ["dead-3"]
    # And the router delivers it: one email goes out
    sqs.send_message(QueueUrl=url, MessageBody=queued[0]["Body"])
    assert router.handler(queue_event(clarion), FakeContext()) == {"batchItemFailures": []}
    assert log_of(alert).status is AlertStatus.DELIVERED
    assert len(clarion.outbox) == 1
    # When the operator runs the redrive again
    second = redrive.redrive(url, sqs)
    # Then nothing is parked, nothing queued, nothing sent again
    assert second.report(False) == "Nothing is parked: there is nothing to redrive."
    assert clarion.queued() == [] and len(clarion.outbox) == 1


def test_a_redrive_after_the_alert_ended_otherwise_unparks_it_without_sending(clarion: Any) -> None:
    # Given a parked alert that has since ended some other way (here: delivered)
    alert = make_alert(Priority.LOW, message_id="dead-4")
    given_accepted(alert)
    parked_letters.park("sqs-1", json.dumps(alert.to_message()), "2026-12-02T10:00:00.000+00:00", alert)
    assert delivery_log.set_final_status(alert, AlertStatus.DELIVERED, "2026-12-02T10:01:00.000+00:00")
    # When the operator redrives
    outcome = redrive.redrive(clarion.env[names.ENV_ALERT_QUEUE_URL], boto3.client("sqs"))
    # Then nothing is queued and the parked message is gone
    assert (outcome.queued, outcome.dropped) == ([], ["lab-system/dead-4"])
    assert clarion.queued() == [] and parked_letters.parked() == []


def test_a_dead_lettered_delivery_of_an_alert_awaiting_acknowledgement_moves_the_walk_on(
    clarion: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an alert that needs an acknowledgement, accepted as intake accepts it
    walk = Walk(clarion, message_id="dead-5")
    walk.given_contacts_and_policy()
    assert walk.post_alert(escalation_policy_id="ward-7b")[0] == 202
    (message,) = clarion.queued()
    alert = router.parse({"messageId": "m", "body": message["Body"]})
    assert isinstance(alert, Alert) and alert.ack_required
    # When the router gives up on its delivery to the addressee and the dead-letters function takes it
    dead_letters.handler(fail_until_dead_lettered(clarion, monkeypatch, message["Body"]), FakeContext())
    # Then the addressee counts as unreachable at stage 0 and the walk runs on (the escalator is asked to look)
    record = log_of(alert)
    assert record.reach[(0, alert.recipient)] is Reach.FAILED
    assert not record.ended
    assert walk.delayed_timers() >= 1
    # And the redrive puts the addressee back to pending and queues the delivery again
    outcome = redrive.redrive(clarion.env[names.ENV_ALERT_QUEUE_URL], boto3.client("sqs"))
    assert outcome.queued == ["lab-system/dead-5"]
    assert log_of(alert).reach[(0, alert.recipient)] is Reach.PENDING
    assert [json.loads(m["Body"])["message_id"] for m in clarion.queued()] == ["dead-5"]


def test_a_body_that_is_no_alert_is_parked_and_left_parked_by_the_redrive(clarion: Any) -> None:
    # Given a message on the dead-letter queue whose body is no alert
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=clarion.dlq_url, MessageBody="{not json")
    moved = sqs.receive_message(QueueUrl=clarion.dlq_url)["Messages"]
    # When the dead-letters function takes it, and the operator redrives
    assert dead_letters.handler(sqs_event(clarion.dlq_url, moved), FakeContext()) == {"batchItemFailures": []}
    outcome = redrive.redrive(clarion.env[names.ENV_ALERT_QUEUE_URL], sqs)
    # Then it stays parked, named by its SQS id, and nothing is queued
    assert outcome.unreadable == [moved[0]["MessageId"]] and outcome.queued == []
    assert len(parked_letters.parked()) == 1 and clarion.queued() == []
