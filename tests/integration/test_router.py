"""The router in-process against the emulator: each priority's channel, retries and fallback — what goes out, what
the log says, what events and metrics show."""

from __future__ import annotations

import json

import boto3
import pytest

from clarion import names
from clarion.adapters import contacts, delivery_log
from clarion.adapters.channels.base import attempt_token
from clarion.domain.models import AlertStatus, Contact, Priority
from clarion.handlers import router
from clarion.usecases import deliver_alert
from tests.helpers import FakeContext
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
