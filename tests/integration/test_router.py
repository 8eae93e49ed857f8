"""The router in-process against the emulator: what goes out, what the log says, what events and metrics show."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from clarion import names
from clarion.adapters import contacts, delivery_log
from clarion.adapters.channels.base import attempt_token
from clarion.domain.models import Alert, AlertStatus, Attempt, Channel, Contact, Outcome, Priority
from clarion.handlers import router
from clarion.shared.observability import logger
from clarion.usecases import deliver_alert
from tests.helpers import FULL_BUDGET_MS, FakeContext, sqs_record

PATIENT_ID = "PAT-99887766"
CONTACT = Contact(
    contact_id="C-1",
    name="Dr Ada Byron",
    phone_call="+447700900001",
    phone_sms="+447700900002",
    email="ada@clarion.example.org",
)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The router's waits, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(deliver_alert, "sleep", recorded.append)
    return recorded


@pytest.fixture
def output(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Output]:
    """Everything the function writes to stdout: JSON log lines and EMF metric blobs."""
    monkeypatch.setattr(logger.registered_handler, "stream", _CurrentStdout())
    yield Output(capsys)


class _CurrentStdout:
    """Writes to whatever `sys.stdout` is at the time (pytest swaps it between set-up and call)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


class Output:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys
        self.text = ""

    def read(self) -> str:
        self.text += self._capsys.readouterr().out
        return self.text

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.read().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out

    def metric(self, name: str, channel: str | None = None) -> float:
        """Sum of `name` over every EMF blob (aggregate blobs only, or one channel's copies)."""
        total = 0.0
        for blob in self.lines():
            if "_aws" not in blob or name not in blob or blob.get("channel") != channel:
                continue
            value = blob[name]
            total += sum(value) if isinstance(value, list) else value
        return total

    def logs(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if "_aws" not in line]


def make_alert(priority: Priority, type_: str = "critical_lab_result", message_id: str = "msg-001") -> Alert:
    return Alert(
        client_id="lab-system",
        message_id=message_id,
        type=type_,
        contact_id=CONTACT.contact_id,
        description="Potassium 6.9 mmol/L on ward 7",
        priority=priority,
        accepted_at=(datetime.now(UTC) - timedelta(seconds=2)).isoformat(),
        plan=CONTACT.plan(priority, call_enabled=True),
    )


def given_accepted(alert: Alert, contact: Contact | None = CONTACT) -> None:
    if contact is not None:
        contacts.put_contact(contact, updated_at="2025-01-01T00:00:00+00:00")
    delivery_log.create_alert(alert)


def queue_event(clarion: Any, *bodies: str) -> dict[str, Any]:
    """Put `bodies` on the alert queue and receive them, shaped as the SQS event source mapping delivers them."""
    sqs = boto3.client("sqs")
    url = clarion.env[names.ENV_ALERT_QUEUE_URL]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    return {"Records": [sqs_record(m, arn) for m in received]}


def route(clarion: Any, alert: Alert, context: FakeContext | None = None) -> dict[str, Any]:
    return router.handler(queue_event(clarion, json.dumps(alert.to_message())), context or FakeContext())


def statuses(clarion: Any) -> list[str]:
    return [e["message"]["status"] for e in clarion.events()]


def log_of(alert: Alert) -> delivery_log.AlertRecord:
    record = delivery_log.get_alert(alert.client_id, alert.message_id)
    assert record is not None
    return record


def outcomes(alert: Alert) -> list[tuple[str, int, str]]:
    return [(a.channel.value, a.attempt, a.outcome.value) for a in log_of(alert).attempts]


# --- happy paths, one per priority ---------------------------------------------------------------


def test_high_priority_alert_is_delivered_by_a_call_that_speaks_the_description(clarion, waits, output):
    # Given a high-priority critical result for a contact with every channel
    alert = make_alert(Priority.HIGH)
    given_accepted(alert)
    # When the router handles the queued alert
    response = router.handler(queue_event(clarion, json.dumps(alert.to_message())), FakeContext())
    # Then one call went to the call number, with the spoken text and the attempt's idempotency token
    assert response == {"batchItemFailures": []}
    [call] = clarion.outbox
    assert call["channel"] == "call"
    assert call["destination"] == CONTACT.phone_call
    assert "urgent critical result" in call["text"]
    assert "Potassium 6.9 mmol/L on ward 7" in call["text"]
    assert call["client_token"] == attempt_token(alert, 1)
    # And the call's only attribute is an opaque handle: no words and no alert reference reach Connect
    assert list(call["attributes"]) == ["call"] and len(call["attributes"]["call"]) == 22
    assert not [s for s in ("Potassium", alert.message_id, PATIENT_ID) if s in json.dumps(call["attributes"])]
    # And the log, the events and the metrics say delivered on the first attempt
    assert log_of(alert).status is AlertStatus.DELIVERED
    assert outcomes(alert) == [("call", 1, "sent")]
    assert log_of(alert).attempts[0].provider_message_id == call["provider_id"]
    events = clarion.events()
    assert [e["message"]["status"] for e in events] == ["delivered"]
    assert events[0]["message"]["channel"] == "call"
    assert events[0]["message"]["attempts"] == 1
    assert events[0]["attributes"]["status"]["Value"] == "delivered"
    assert events[0]["attributes"]["priority"]["Value"] == "H"
    assert output.metric(names.METRIC_DELIVERY_SUCCESSES) == 1
    assert output.metric(names.METRIC_DELIVERY_SUCCESSES, channel="call") == 1
    assert output.metric(names.METRIC_ACCEPT_TO_DELIVERED) >= 2000
    assert output.metric(names.METRIC_ACCEPT_TO_DELIVERED, channel="call") >= 2000
    assert waits == []


def test_medium_priority_alert_is_delivered_by_a_transactional_sms(clarion, waits, output):
    # Given a medium-priority alert
    alert = make_alert(Priority.MEDIUM, type_="blood_test_alert")
    given_accepted(alert)
    # When the router handles it
    route(clarion, alert)
    # Then one SMS went out with the sender id, type and price cap, saying where to look
    [sms] = clarion.outbox
    assert sms["channel"] == "sms"
    assert sms["destination"] == CONTACT.phone_sms
    assert sms["text"].startswith("Important Clarion critical result: Potassium 6.9 mmol/L on ward 7")
    assert sms["text"].endswith("See the clinical system.")
    assert sms["attributes"] == {
        "AWS.SNS.SMS.SMSType": "Transactional",
        "AWS.SNS.SMS.SenderID": "CLARION",
        "AWS.SNS.SMS.MaxPrice": "0.50",
    }
    assert outcomes(alert) == [("sms", 1, "sent")]
    assert statuses(clarion) == ["delivered"]
    assert output.metric(names.METRIC_DELIVERY_ATTEMPTS) == 1


def test_low_priority_alert_is_delivered_by_the_templated_email_of_its_kind(clarion, waits, output):
    # Given a low-priority appointment reminder
    alert = make_alert(Priority.LOW, type_="appointment_reminder")
    given_accepted(alert)
    # When the router handles it
    route(clarion, alert)
    # Then one email went out with the appointment template, subject and body, tagged with message and attempt
    [email] = clarion.outbox
    assert email["channel"] == "email"
    assert email["destination"] == CONTACT.email
    templates = json.loads(clarion.env[names.ENV_EMAIL_TEMPLATES])
    assert email["template"] == templates["appointment_reminder"]
    assert email["template"] in {t["Name"] for t in boto3.client("ses").list_templates()["TemplatesMetadata"]}
    assert email["template_data"]["subject"] == "[For information] Clarion appointment reminder"
    assert "Potassium 6.9 mmol/L on ward 7" in email["template_data"]["body"]
    assert (email["message_id"], email["attempt"]) == (alert.message_id, 1)
    assert log_of(alert).status is AlertStatus.DELIVERED
    assert statuses(clarion) == ["delivered"]


# --- retries and fallbacks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "priority", "mode"),
    [("call", Priority.HIGH, "throttle"), ("sms", Priority.MEDIUM, "outage"), ("email", Priority.LOW, "throttle")],
)
def test_retryable_failure_is_retried_on_the_same_channel_after_a_backoff(
    clarion, waits, output, channel, priority, mode
):
    # Given the first channel of the plan fails once with a retryable error
    alert = make_alert(priority)
    given_accepted(alert)
    clarion.bridge.add_fault(channel, mode, count=1)
    # When the router handles the alert
    response = route(clarion, alert)
    # Then it waited a jittered backoff and the second attempt on the same channel went out
    assert response == {"batchItemFailures": []}
    assert outcomes(alert) == [(channel, 1, "retryable_failure"), (channel, 2, "sent")]
    assert [m["channel"] for m in clarion.outbox] == [channel]
    assert len(waits) == 1
    assert 0 <= waits[0] <= deliver_alert.BASE_DELAY_SECONDS
    assert log_of(alert).attempts[0].error is not None
    assert log_of(alert).attempts[0].error.split(":")[0] in {"Throttling", "ThrottlingException", "InternalError"}
    assert output.metric(names.METRIC_RETRYABLE_FAILURES) == 1
    assert output.metric(names.METRIC_DELIVERY_FAILURES) == 1
    assert output.metric(names.METRIC_DELIVERY_SUCCESSES) == 1
    assert output.metric(names.METRIC_FALLBACKS) == 0
    assert log_of(alert).status is AlertStatus.DELIVERED


@pytest.mark.parametrize(
    ("failing", "priority", "fallback", "code"),
    [
        ("call", Priority.HIGH, "sms", "DestinationNotAllowedException"),
        ("sms", Priority.MEDIUM, "email", "InvalidParameter"),
    ],
)
def test_permanent_failure_falls_back_to_the_next_channel_at_once(
    clarion, waits, output, failing, priority, fallback, code
):
    # Given the first channel rejects the destination permanently
    alert = make_alert(priority)
    given_accepted(alert)
    clarion.bridge.add_fault(failing, "reject", count=1)
    # When the router handles the alert
    route(clarion, alert)
    # Then it did not retry or wait: the next channel went out as attempt 2
    assert outcomes(alert) == [(failing, 1, "permanent_failure"), (fallback, 2, "sent")]
    assert log_of(alert).attempts[0].error is not None
    assert log_of(alert).attempts[0].error.startswith(code)
    assert [m["channel"] for m in clarion.outbox] == [fallback]
    assert waits == []
    assert output.metric(names.METRIC_PERMANENT_FAILURES) == 1
    assert output.metric(names.METRIC_FALLBACKS) == 1
    assert output.metric(names.METRIC_FALLBACKS, channel=fallback) == 1
    [delivered] = [e["message"] for e in clarion.events() if e["message"]["status"] == "delivered"]
    assert (delivered["channel"], delivered["attempts"]) == (fallback, 2)


def test_sms_outage_falls_back_to_email_after_the_retries_run_out(clarion, waits, output):
    # Given SMS is down for longer than its retries
    alert = make_alert(Priority.MEDIUM)
    given_accepted(alert)
    clarion.bridge.add_fault("sms", "outage", count=10)
    # When the router handles the alert
    route(clarion, alert)
    # Then SMS was tried three times with growing backoff caps, then email delivered it
    assert outcomes(alert) == [
        ("sms", 1, "retryable_failure"),
        ("sms", 2, "retryable_failure"),
        ("sms", 3, "retryable_failure"),
        ("email", 4, "sent"),
    ]
    assert len(waits) == 2
    assert 0 <= waits[0] <= 0.2
    assert 0 <= waits[1] <= 0.4
    assert [m["channel"] for m in clarion.outbox] == ["email"]
    assert output.metric(names.METRIC_DELIVERY_FAILURES) == 3
    assert output.metric(names.METRIC_FALLBACKS) == 1


def test_every_channel_failing_marks_the_alert_failed_and_unroutable(clarion, waits, output):
    # Given every channel rejects the contact
    alert = make_alert(Priority.HIGH)
    given_accepted(alert)
    for channel in ("call", "sms", "email"):
        clarion.bridge.add_fault(channel, "reject", count=1)
    # When the router handles the alert
    response = route(clarion, alert)
    # Then nothing went out, the record is done with, and the alert is failed and unroutable
    assert response == {"batchItemFailures": []}
    assert clarion.outbox == []
    assert outcomes(alert) == [
        ("call", 1, "permanent_failure"),
        ("sms", 2, "permanent_failure"),
        ("email", 3, "permanent_failure"),
    ]
    assert log_of(alert).status is AlertStatus.FAILED
    events = [e["message"] for e in clarion.events()]
    assert [e["status"] for e in events] == ["failed", "unroutable"]
    assert events[-1]["attempts"] == 3
    assert output.metric(names.METRIC_UNROUTABLE) == 1
    assert output.metric(names.METRIC_FALLBACKS) == 2
    assert output.metric(names.METRIC_DELIVERY_SUCCESSES) == 0
    assert any(line.get("level") == "ERROR" and "unroutable" in line["message"] for line in output.logs())


def test_contact_removed_after_acceptance_makes_the_alert_unroutable(clarion, waits, output):
    # Given an accepted alert whose contact has since been deleted
    alert = make_alert(Priority.HIGH)
    given_accepted(alert, contact=None)
    # When the router handles it
    route(clarion, alert)
    # Then nothing is sent and the alert is failed and unroutable
    assert clarion.outbox == []
    assert log_of(alert).status is AlertStatus.FAILED
    assert statuses(clarion) == ["failed", "unroutable"]
    assert output.metric(names.METRIC_UNROUTABLE) == 1


def test_contact_without_an_address_for_a_planned_channel_falls_back(clarion, waits, output):
    # Given the alert was planned with SMS but the contact has since lost their SMS number
    alert = make_alert(Priority.MEDIUM)
    contacts.put_contact(Contact("C-1", "Dr Ada Byron", email=CONTACT.email), updated_at="2025-01-01T00:00:00Z")
    delivery_log.create_alert(alert)
    # When the router handles it
    route(clarion, alert)
    # Then SMS is a permanent "no destination" failure and email delivers it
    assert outcomes(alert) == [("sms", 1, "permanent_failure"), ("email", 2, "sent")]
    assert log_of(alert).attempts[0].error is not None
    assert log_of(alert).attempts[0].error.startswith("NoDestination")


# --- crash recovery and idempotency --------------------------------------------------------------


def test_call_pending_after_a_crash_is_resent_under_the_same_attempt_and_client_token(clarion, waits, output):
    # Given a previous run wrote the intent for call attempt 1 and died before recording the result
    alert = make_alert(Priority.HIGH)
    given_accepted(alert)
    delivery_log.record_attempt(alert, Attempt(Channel.CALL, 1, Outcome.PENDING, at="2025-01-01T00:00:00+00:00"))
    # When SQS redelivers the alert
    route(clarion, alert)
    # Then the call is started again as attempt 1 with the same ClientToken, so Connect can drop a duplicate
    [call] = clarion.outbox
    assert call["client_token"] == attempt_token(alert, 1)
    assert outcomes(alert) == [("call", 1, "sent")]
    assert output.metric(names.METRIC_AMBIGUOUS_RESENDS) == 1


def test_sms_pending_after_a_crash_is_resent_rather_than_left_unknown(clarion, waits, output):
    # Given SMS attempt 2 was pending when the previous run died (after a failed attempt 1)
    alert = make_alert(Priority.MEDIUM)
    given_accepted(alert)
    at = "2025-01-01T00:00:00+00:00"
    delivery_log.record_attempt(alert, Attempt(Channel.SMS, 1, Outcome.RETRYABLE, at=at, error="Throttling"))
    delivery_log.record_attempt(alert, Attempt(Channel.SMS, 2, Outcome.PENDING, at=at))
    # When SQS redelivers the alert
    route(clarion, alert)
    # Then the SMS goes out again as attempt 2, without a backoff wait
    assert [m["channel"] for m in clarion.outbox] == ["sms"]
    assert outcomes(alert) == [("sms", 1, "retryable_failure"), ("sms", 2, "sent")]
    assert waits == []
    assert output.metric(names.METRIC_AMBIGUOUS_RESENDS) == 1


def test_redelivery_of_a_delivered_alert_sends_nothing(clarion, waits, output):
    # Given an alert the router already delivered
    alert = make_alert(Priority.MEDIUM)
    given_accepted(alert)
    route(clarion, alert)
    first_events = statuses(clarion)
    # When SQS delivers the same message again
    response = route(clarion, alert)
    # Then nothing more is sent, logged as an attempt, or published
    assert response == {"batchItemFailures": []}
    assert len(clarion.outbox) == 1
    assert outcomes(alert) == [("sms", 1, "sent")]
    assert statuses(clarion) == first_events == ["delivered"]


def test_redelivery_of_a_failed_alert_sends_nothing(clarion, waits, output):
    # Given an alert that already failed on every channel
    alert = make_alert(Priority.LOW)
    given_accepted(alert)
    clarion.bridge.add_fault("email", "reject", count=1)
    route(clarion, alert)
    # When SQS delivers it again, with email working now
    route(clarion, alert)
    # Then no email goes out and no second unroutable event is published
    assert clarion.outbox == []
    assert statuses(clarion) == ["failed", "unroutable"]
    assert output.metric(names.METRIC_UNROUTABLE) == 1


def test_alert_ended_by_another_invocation_during_the_send_keeps_its_status(clarion, waits, output, monkeypatch):
    # Given a duplicate SQS delivery: another invocation marks the alert failed while this one is sending
    alert = make_alert(Priority.MEDIUM)
    given_accepted(alert)
    real_send = deliver_alert.channels.send

    def send_while_the_other_finishes(*args: Any, **kwargs: Any) -> str:
        provider_id = real_send(*args, **kwargs)
        delivery_log.set_final_status(alert, AlertStatus.FAILED, "2025-01-01T00:00:00+00:00")
        return provider_id

    monkeypatch.setattr(deliver_alert.channels, "send", send_while_the_other_finishes)
    # When this invocation records its sent SMS
    response = route(clarion, alert)
    # Then the attempt is logged as sent, the status the other invocation wrote stays, and nothing is published
    assert response == {"batchItemFailures": []}
    assert outcomes(alert) == [("sms", 1, "sent")]
    assert log_of(alert).status is AlertStatus.FAILED
    assert statuses(clarion) == []
    assert output.metric(names.METRIC_ACCEPT_TO_DELIVERED) == 0


def test_a_failing_final_write_is_not_mistaken_for_an_ended_alert(clarion, waits, output, monkeypatch):
    # Given the delivery log table refuses the final write for another reason than the alert having ended
    alert = make_alert(Priority.MEDIUM)
    given_accepted(alert)

    table = delivery_log.table()
    update = table.update_item

    def refuse(**request: Any) -> Any:
        if "NOT #s IN" not in request.get("ConditionExpression", ""):
            return update(**request)  # the fence before the send goes through
        raise ClientError({"Error": {"Code": "ValidationException", "Message": "refused"}}, "UpdateItem")

    monkeypatch.setattr(table, "update_item", refuse)
    # When the router sends and records
    response = route(clarion, alert)
    # Then the record is reported failed for redelivery (which finds the sent attempt and sends nothing more)
    assert response["batchItemFailures"]
    assert outcomes(alert) == [("sms", 1, "sent")]
    assert log_of(alert).status is AlertStatus.DELIVERING


def test_sent_attempt_without_final_status_completes_the_alert_without_sending(clarion, waits, output):
    # Given the previous run recorded the sent SMS and died before marking the alert delivered
    alert = make_alert(Priority.MEDIUM)
    given_accepted(alert)
    at = "2025-01-01T00:00:00+00:00"
    delivery_log.record_attempt(alert, Attempt(Channel.SMS, 1, Outcome.SENT, at=at, provider_message_id="p-1"))
    # When SQS redelivers the alert
    route(clarion, alert)
    # Then nothing is sent again and the alert is delivered
    assert clarion.outbox == []
    assert log_of(alert).status is AlertStatus.DELIVERED
    assert statuses(clarion) == ["delivered"]


def test_alert_missing_from_the_log_is_recorded_then_delivered(clarion, waits, output):
    # Given a queued alert whose log item was never written
    alert = make_alert(Priority.MEDIUM)
    contacts.put_contact(CONTACT, updated_at="2025-01-01T00:00:00Z")
    # When the router handles it
    route(clarion, alert)
    # Then the log has the alert, delivered
    assert log_of(alert).status is AlertStatus.DELIVERED
    assert outcomes(alert) == [("sms", 1, "sent")]


# --- time budget and poison messages -------------------------------------------------------------


def _visible_again(clarion: Any) -> list[dict[str, Any]]:
    return clarion.queued()


def test_exhausted_time_budget_reports_the_record_and_the_alert_resumes_on_redelivery(clarion, waits, output):
    # Given SMS fails once, and after that attempt too little time is left for a wait and another send
    alert = make_alert(Priority.MEDIUM)
    given_accepted(alert)
    clarion.bridge.add_fault("sms", "outage", count=1)
    event = queue_event(clarion, json.dumps(alert.to_message()))
    # When the router handles the alert with a budget that runs out after the first attempt
    response = router.handler(event, FakeContext(budgets_ms=[FULL_BUDGET_MS, 3_000]))
    # Then the record is reported failed, released for prompt redelivery, and the log holds one attempt
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert outcomes(alert) == [("sms", 1, "retryable_failure")]
    assert clarion.outbox == []
    assert len(_visible_again(clarion)) == 1
    assert log_of(alert).status is AlertStatus.DELIVERING
    # When SQS redelivers it with a full budget
    response = route(clarion, alert)
    # Then the alert resumes at attempt 2 on the same channel and is delivered
    assert response == {"batchItemFailures": []}
    assert outcomes(alert) == [("sms", 1, "retryable_failure"), ("sms", 2, "sent")]
    assert statuses(clarion) == ["delivered"]


def test_no_time_for_even_one_send_sends_nothing(clarion, waits, output):
    # Given the function has almost no time left
    alert = make_alert(Priority.HIGH)
    given_accepted(alert)
    event = queue_event(clarion, json.dumps(alert.to_message()))
    # When the router handles the alert
    response = router.handler(event, FakeContext(budgets_ms=[2_000]))
    # Then nothing is attempted and the record goes back to the queue
    assert response["batchItemFailures"] == [{"itemIdentifier": event["Records"][0]["messageId"]}]
    assert clarion.outbox == []
    assert outcomes(alert) == []


@pytest.mark.parametrize(
    "body",
    [
        f'{{"patient_id": "{PATIENT_ID}", not json',
        json.dumps({"message_id": "m-1", "patient_id": PATIENT_ID}),
        json.dumps(["a", "list"]),
    ],
    ids=["not-json", "missing-fields", "not-an-object"],
)
def test_poison_message_is_reported_as_a_batch_failure_without_logging_its_body(clarion, waits, output, body):
    # Given a good alert and a record whose body is not an alert in the same batch
    alert = make_alert(Priority.MEDIUM)
    given_accepted(alert)
    event = queue_event(clarion, json.dumps(alert.to_message()), body)
    poison_id = next(r["messageId"] for r in event["Records"] if r["body"] == body)
    # When the router handles the batch
    response = router.handler(event, FakeContext())
    # Then only the poison record is reported failed (SQS retries it, then dead-letters it) and its body is not logged
    assert response == {"batchItemFailures": [{"itemIdentifier": poison_id}]}
    assert [m["channel"] for m in clarion.outbox] == ["sms"]
    errors = [line for line in output.logs() if line.get("level") == "ERROR"]
    assert any("Poison message" in line["message"] and line["sqs_message_id"] == poison_id for line in errors)
    assert PATIENT_ID not in output.read()


def test_accepted_at_that_is_not_a_timestamp_is_a_poison_message(clarion, waits, output):
    # Given an alert body whose accepted_at is not a timestamp
    body = {**make_alert(Priority.LOW).to_message(), "accepted_at": "yesterday"}
    event = queue_event(clarion, json.dumps(body))
    # When the router handles it
    response = router.handler(event, FakeContext())
    # Then it is reported failed and nothing is sent
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert clarion.outbox == []


def test_unexpected_error_reports_the_record_and_logs_only_its_type(clarion, waits, output, monkeypatch):
    # Given the contacts table cannot be read
    alert = make_alert(Priority.MEDIUM)
    given_accepted(alert)

    def broken(contact_id: str) -> None:
        raise RuntimeError(f"boom {PATIENT_ID}")

    monkeypatch.setattr(contacts, "get_contact", broken)
    event = queue_event(clarion, json.dumps(alert.to_message()))
    # When the router handles the alert
    response = router.handler(event, FakeContext())
    # Then the record is reported failed and the log names the error type but not its text
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert any(line.get("error_type") == "RuntimeError" for line in output.logs())
    assert PATIENT_ID not in output.read()


# --- no patient data anywhere --------------------------------------------------------------------


def test_patient_reference_never_reaches_messages_logs_events_or_the_delivery_log(clarion, waits, output):
    # Given a client sent patient_id PAT-99887766 with a high-priority alert, and the queue body carries it too
    alert = make_alert(Priority.HIGH, type_="critical_lab_result")
    given_accepted(alert)
    body = {**alert.to_message(), "patient_id": PATIENT_ID}
    clarion.bridge.add_fault("call", "throttle", count=3)
    clarion.bridge.add_fault("sms", "reject", count=1)
    # When the router walks the whole chain (call retried, SMS rejected, email sent)
    response = router.handler(queue_event(clarion, json.dumps(body)), FakeContext())
    # Then the patient reference appears in no message, log line, metric, event or log item
    assert response == {"batchItemFailures": []}
    assert [m["channel"] for m in clarion.outbox] == ["email"]
    items = clarion.table(names.ENV_DELIVERY_TABLE).scan()["Items"]
    captured = [json.dumps(clarion.outbox), output.read(), json.dumps(clarion.events()), json.dumps(items, default=str)]
    assert output.logs(), "the router should have logged its progress"
    for text in captured:
        assert PATIENT_ID not in text
    assert all(line.get("correlation_id") == alert.message_id for line in output.logs() if "channel" in line)
