"""The router in-process against the emulator when things go wrong around it: a crash mid-delivery, a redelivery,
an alert ended by another invocation, a time budget spent, a poison message; and the patient reference kept out of
everything it writes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from clarion import names
from clarion.adapters import contacts, delivery_log
from clarion.adapters.channels.base import attempt_token
from clarion.domain.models import AlertStatus, Attempt, Channel, Outcome, Priority
from clarion.handlers import router
from clarion.usecases import deliver_alert
from tests.helpers import FULL_BUDGET_MS, FakeContext
from tests.integration.routing import (
    CONTACT,
    PATIENT_ID,
    given_accepted,
    log_of,
    make_alert,
    outcomes,
    queue_event,
    route,
    statuses,
)

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
