"""Receipts in-process against the emulator: the providers' receipts (played by `clarion_local.receipts`, through the
real receipts topic and EventBridge rule) settle each attempt, and the router moves on as they say.

Deadlines are real: a 1-second receipt timeout, and the delayed SQS message that holds it."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import boto3
import pytest

from clarion import names
from clarion.adapters import delivery_log
from clarion.domain.models import Alert, AlertStatus, Attempt, Channel, Contact, Outcome, Priority
from clarion.handlers import receipts, router
from clarion.shared import settings
from clarion.usecases import settle_receipt
from clarion_local.receipts import LocalReceipts, ses_event
from tests.helpers import FakeContext, sqs_record, wait_until
from tests.integration.routing import (
    given_accepted,
    log_of,
    make_alert,
    queue_event,
)

CALL_AND_EMAIL = Contact(
    contact_id="C-1",
    name="Dr Ada Byron",
    phone_call="+447700900001",
    email="ada@clarion.example.org",
    channels={Priority.HIGH: (Channel.CALL, Channel.EMAIL), Priority.LOW: (Channel.EMAIL,)},
)
SECRETS = ("+447700900001", "ada@clarion.example.org", "Potassium")


@pytest.fixture
def receipted(clarion: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Receipts on for email and calls (as deployed), the local providers sending them without delay."""
    monkeypatch.setenv(names.ENV_RECEIPT_TIMEOUTS, json.dumps({"email": 300, "call": 300}))
    settings.settings.cache_clear()
    router_env = clarion.deployment.function_for(names.ROUTER_HANDLER).environment
    instance = router_env[names.ENV_CONNECT_INSTANCE_ID]
    clarion.bridge.receipts = LocalReceipts(
        sns=boto3.client("sns"),
        events=boto3.client("events"),
        topic_arn=clarion.deployment.output("ReceiptsTopicArn"),
        instance_arn=f"arn:aws:connect:{boto3.session.Session().region_name}:123456789012:instance/{instance}",
        delay_s=0,
    )
    yield clarion
    clarion.bridge.receipts = None


def receipts_waiting(clarion: Any, wait_s: int = 0) -> dict[str, Any]:
    """Everything on the receipts queue, as the event source mapping hands it to the function."""
    sqs = boto3.client("sqs")
    url = clarion.deployment.output("ReceiptsQueueUrl")
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # The providers' receipts are sent from timer threads of their own: once none is left, each is on its way
    wait_until(lambda: not [t for t in threading.enumerate() if isinstance(t, threading.Timer)], 10, 0.01)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=wait_s).get(
        "Messages", []
    )
    return {"Records": [sqs_record(m, arn) for m in got]}


def settle(clarion: Any, wait_s: int = 0) -> int:
    """Hand the waiting receipts to the receipts function, then the deliveries it resumed to the router;
    the number of receipts handled."""
    event = receipts_waiting(clarion, wait_s)
    assert receipts.handler(event, FakeContext(function_name="receipts")) == {"batchItemFailures": []}
    for message in clarion.queued():
        router.handler(queue_event(clarion, message["Body"]), FakeContext())
    return len(event["Records"])


def start(clarion: Any, alert: Alert, contact: Contact = CALL_AND_EMAIL) -> None:
    given_accepted(alert, contact)
    assert router.handler(queue_event(clarion, json.dumps(alert.to_message())), FakeContext()) == {
        "batchItemFailures": []
    }


def attempts(alert: Alert) -> list[tuple[str, str, str | None]]:
    return [(a.channel.value, a.outcome.value, a.receipt) for a in log_of(alert).attempts]


def test_an_email_is_delivered_when_its_receipt_says_so_not_when_ses_accepts_it(receipted, output):
    # Given a low-priority alert, sent by email
    alert = make_alert(Priority.LOW, message_id="rcpt-delivered")
    start(receipted, alert)
    # Then SES accepting it is not delivery: the attempt waits for its receipt
    assert attempts(alert) == [("email", "sent", None)]
    assert log_of(alert).status is AlertStatus.DELIVERING
    # When SES's Delivery event arrives through the receipts topic
    assert settle(receipted) == 1
    # Then the attempt and the alert are delivered, measured from send to receipt
    assert attempts(alert) == [("email", "delivered", "Delivery")]
    assert log_of(alert).status is AlertStatus.DELIVERED
    assert output.metric(names.METRIC_RECEIPTS_DELIVERED) == 0  # per channel only, never an aggregate
    blobs = [b for b in output.lines() if names.METRIC_SEND_TO_RECEIPT in b]
    assert [b["channel"] for b in blobs] == ["email"]


def test_an_unanswered_call_moves_to_the_next_channel_at_once_and_a_bounce_ends_it(receipted, output):
    # Given a high-priority alert whose call rings out and whose email bounces
    receipted.bridge.add_fault("call", "unanswered", count=1)
    receipted.bridge.add_fault("email", "bounce", count=1)
    alert = make_alert(Priority.HIGH, message_id="rcpt-unanswered")
    alert = Alert.from_message({**alert.to_message(), "plan": ["call", "email"]})
    start(receipted, alert)
    assert attempts(alert) == [("call", "sent", None)]
    # When Connect's DISCONNECTED event arrives (through EventBridge)
    settle(receipted)
    # Then the email goes out at once, not after the acknowledgement window
    assert attempts(alert) == [("call", "no_answer", "TELECOM_UNANSWERED"), ("email", "sent", None)]
    # And when its bounce arrives, the recipient is unreachable on every channel
    settle(receipted)
    assert attempts(alert) == [
        ("call", "no_answer", "TELECOM_UNANSWERED"),
        ("email", "undelivered", "Bounce/Permanent"),
    ]
    assert log_of(alert).status is AlertStatus.FAILED
    logs = "\n".join(json.dumps(line) for line in output.logs())
    assert [s for s in SECRETS if s in logs] == []


def test_a_receipt_that_overtakes_the_record_of_its_send_comes_back_and_then_counts(receipted, output):
    # Given an email whose provider id is findable, but whose attempt still reads `pending`: SES's receipt came
    # between the router's two writes (the provider-id item, then the attempt's `sent`)
    alert = make_alert(Priority.LOW, message_id="rcpt-overtaken")
    start(receipted, alert)
    (sent,) = log_of(alert).attempts
    delivery_log.record_attempt(alert, Attempt(Channel.EMAIL, sent.attempt, Outcome.PENDING, sent.at))
    # When the Delivery receipt arrives then
    event = receipts_waiting(receipted)
    (record,) = event["Records"]
    answer = receipts.handler(event, FakeContext(function_name="receipts"))
    # Then it is not dropped as "settled already": it goes back to the queue, to come again in a few seconds
    assert answer == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert attempts(alert) == [("email", "pending", None)]
    # And when it comes again after the send is recorded, it settles the attempt
    delivery_log.record_attempt(alert, sent, awaits_receipt=True)
    record["attributes"]["ApproximateReceiveCount"] = "2"
    assert receipts.handler({"Records": [record]}, FakeContext(function_name="receipts")) == {"batchItemFailures": []}
    assert attempts(alert) == [("email", "delivered", "Delivery")]


def test_receipts_twice_late_or_contradicting_change_nothing(receipted, output):
    # Given an email that was delivered
    alert = make_alert(Priority.LOW, message_id="rcpt-dup")
    start(receipted, alert)
    settle(receipted)
    (sent,) = [o for o in receipted.outbox if o["channel"] == "email"]
    # When the same Delivery comes again, then a Bounce for the same message, both late
    topic = receipted.deployment.output("ReceiptsTopicArn")
    for bounced in (False, True):
        event = ses_event(sent["provider_id"], {"Destination": {"ToAddresses": ["x@example.org"]}}, bounced)
        boto3.client("sns").publish(TopicArn=topic, Message=json.dumps(event))
    assert settle(receipted) == 2
    # Then the first verdict stands and nothing more is sent
    assert attempts(alert) == [("email", "delivered", "Delivery")]
    assert len([o for o in receipted.outbox if o["channel"] == "email"]) == 1
    said = [line["message"] for line in output.logs() if line.get("provider_message_id") == sent["provider_id"]]
    assert said.count("Receipt changes nothing: the attempt was settled already") == 2


def test_a_receipt_for_a_message_clarion_never_sent_comes_back_then_is_dropped(receipted, output):
    # Given a receipt for a message id the delivery log does not hold
    event = ses_event("never-sent-0001", {"Destination": {"ToAddresses": ["x@example.org"]}}, bounced=True)
    body = json.dumps(event)
    record = sqs_record(
        {"MessageId": "m-1", "ReceiptHandle": "h", "Body": body, "Attributes": {"ApproximateReceiveCount": "1"}}
    )
    # When it arrives first (it may have overtaken the write of its attempt), it goes back to the queue
    assert receipts.handler({"Records": [record]}, FakeContext()) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    # And on its third arrival it is dropped, counted, and raises nothing
    record["attributes"] = {"ApproximateReceiveCount": str(settle_receipt.UNMATCHED_RETRIES)}
    assert receipts.handler({"Records": [record]}, FakeContext()) == {"batchItemFailures": []}
    assert output.metric(names.METRIC_RECEIPTS_UNMATCHED) == 1
    # And something that is no receipt at all is dropped at once
    junk = {**record, "body": "{not json"}
    assert receipts.handler({"Records": [junk]}, FakeContext()) == {"batchItemFailures": []}


def test_no_receipt_within_the_timeout_counts_as_undelivered_and_the_next_channel_starts(
    receipted, monkeypatch, output
):
    # Given a one-second receipt timeout for calls, and a call whose receipt never comes
    monkeypatch.setenv(names.ENV_RECEIPT_TIMEOUTS, json.dumps({"email": 300, "call": 1}))
    settings.settings.cache_clear()
    receipted.bridge.add_fault("call", "no_receipt", count=1)
    alert = make_alert(Priority.HIGH, message_id="rcpt-deadline")
    alert = Alert.from_message({**alert.to_message(), "plan": ["call", "email"]})
    started = time.monotonic()
    start(receipted, alert)
    # Then nothing settles it before the deadline: the deadline is a delayed message, not yet visible
    assert receipts_waiting(receipted)["Records"] == []
    # When the deadline arrives (real time, about a second)
    assert settle(receipted, wait_s=3) == 1
    waited = time.monotonic() - started
    # Then the call counts as undelivered, and the email went out at once
    assert attempts(alert) == [("call", "undelivered", "no_receipt"), ("email", "sent", None)]
    assert 0.8 <= waited < 4, waited
    # And a receipt that comes after the deadline changes nothing
    (call,) = [o for o in receipted.outbox if o["channel"] == "call"]
    receipted.bridge.receipts._send("call", call["provider_id"], {}, None)
    settle(receipted)
    assert attempts(alert)[0] == ("call", "undelivered", "no_receipt")
