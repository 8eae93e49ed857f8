"""The intake handler in-process against the emulator: accepting each priority, idempotency, the contact check,
failures around acceptance, reading an alert back, and the patient reference kept in the request."""

from __future__ import annotations

import json
from typing import Any

import pytest

from clarion.adapters import contacts as contacts_repo
from clarion.domain.models import Alert, AlertStatus, Attempt, Channel, Contact, Outcome, Priority
from clarion.handlers.intake import handler
from clarion.shared import settings
from clarion.usecases import accept_alert
from tests.helpers import FakeContext
from tests.integration.api_events import api_event, call, log_to_captured_stdout
from tests.integration.intake_api import BODY, PATIENT, post, queued_bodies


@pytest.mark.parametrize(
    ("priority", "plan"),
    [("H", ["call", "sms", "email"]), ("M", ["sms", "email"]), ("L", ["email"])],
)
def test_each_priority_is_accepted_with_its_plan_and_queued(api: Any, priority: str, plan: list[str]) -> None:
    # Given a contact with every destination
    # When an alert of that priority is posted
    status, body = post({**BODY, "priority": priority})
    # Then 202 names the plan, the alert is queued once with it, logged as accepted and announced
    assert status == 202
    assert body == {"message_id": "lab-0001", "status": "accepted", "channels": plan}
    [message] = queued_bodies(api)
    assert message["plan"] == plan
    assert message["client_id"] == "lab-system"
    assert message["priority"] == priority
    alert = Alert.from_message(message)
    assert alert.description == BODY["description"]
    stored = api.table("DELIVERY_TABLE").get_item(Key={"pk": "lab-system#lab-0001", "sk": "ALERT"})["Item"]
    assert stored["status"] == "accepted"
    [event] = api.events()
    assert event["message"]["status"] == "accepted"
    assert event["message"]["message_id"] == "lab-0001"


def test_aws_sample_path_is_the_same_operation(api: Any) -> None:
    # Given a client of the AWS sample
    # When it posts to /notification
    status, body = post(BODY, path="/notification")
    # Then the alert is accepted and queued
    assert status == 202
    assert body["channels"] == ["call", "sms", "email"]
    assert len(queued_bodies(api)) == 1


def test_call_is_left_out_when_the_deployment_has_no_call_channel(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a deployment without calls
    monkeypatch.setenv("CALL_ENABLED", "false")
    settings.settings.cache_clear()
    # When a high-priority alert is posted
    status, body = post(BODY)
    # Then the plan starts with SMS
    assert status == 202
    assert body["channels"] == ["sms", "email"]


def test_the_same_alert_again_gets_the_same_answer_and_is_queued_once(api: Any) -> None:
    # Given an accepted alert
    first = post(BODY)
    # When the client sends it again
    second = post(BODY)
    # Then the answer is identical and only one message was queued and one event published
    assert first == second
    assert first[0] == 202
    assert len(queued_bodies(api)) == 1
    assert len(api.events()) == 1


def test_same_message_id_with_another_body_is_a_conflict_and_changes_nothing(api: Any) -> None:
    # Given an accepted alert
    post(BODY)
    queued_bodies(api)
    # When the same message_id comes with another description
    status, body = post({**BODY, "description": "something else"})
    # Then 409 conflict, nothing is queued, and the stored alert is unchanged
    assert status == 409
    assert body["error"]["code"] == "conflict"
    assert body["error"]["field"] == "message_id"
    assert queued_bodies(api) == []
    stored = api.table("DELIVERY_TABLE").get_item(Key={"pk": "lab-system#lab-0001", "sk": "ALERT"})["Item"]
    assert stored["status"] == "accepted"


def test_two_clients_may_use_the_same_message_id(api: Any) -> None:
    # Given lab-system's accepted alert
    post(BODY)
    # When another client sends an alert with the same message_id and another body
    status, _ = post({**BODY, "priority": "L"}, client_id="ehr")
    # Then it is accepted as its own alert
    assert status == 202
    assert sorted(m["client_id"] for m in queued_bodies(api)) == ["ehr", "lab-system"]


def test_a_duplicate_arriving_while_the_first_is_being_accepted_is_told_to_retry(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the duplicate arrives while the first request is enqueueing
    answers: list[tuple[int, Any]] = []
    real_enqueue = accept_alert.queue.enqueue

    def enqueue_while_a_duplicate_arrives(alert: Alert) -> None:
        answers.append(post(BODY))
        real_enqueue(alert)

    monkeypatch.setattr(accept_alert.queue, "enqueue", enqueue_while_a_duplicate_arrives)
    # When the first request completes
    status, _ = post(BODY)
    # Then the duplicate got 409 in_progress, the first 202, and one message was queued
    assert answers[0][0] == 409
    assert answers[0][1]["error"]["code"] == "in_progress"
    assert status == 202
    assert len(queued_bodies(api)) == 1


def test_unknown_contact_is_refused_before_anything_is_accepted(api: Any) -> None:
    # Given no contact C-404
    # When an alert names it
    status, body = post({**BODY, "contact_id": "C-404"})
    # Then 422 unknown_contact, and nothing is stored, queued or announced
    assert status == 422
    assert body["error"]["code"] == "unknown_contact"
    assert body["error"]["field"] == "contact_id"
    assert queued_bodies(api) == []
    assert api.events() == []
    assert "Item" not in api.table("DELIVERY_TABLE").get_item(Key={"pk": "lab-system#lab-0001", "sk": "ALERT"})


def test_contact_created_after_an_unknown_contact_answer_can_then_be_alerted(api: Any) -> None:
    # Given an alert refused for an unknown contact
    post({**BODY, "contact_id": "C-2"})
    # When the contact is created and the client retries
    contacts_repo.put_contact(Contact(contact_id="C-2", name="Bob", email="bob@x.example"), "2026-01-01T00:00:00Z")
    status, body = post({**BODY, "contact_id": "C-2"})
    # Then the retry is accepted (the refusal was not remembered)
    assert status == 202
    assert body["channels"] == ["email"]


def test_contact_with_no_usable_channel_for_the_priority_is_refused(api: Any) -> None:
    # Given a contact whose low-priority chain is SMS but who has no SMS number
    contacts_repo.put_contact(
        Contact(
            contact_id="C-3",
            name="Carol",
            email="carol@x.example",
            channels={Priority.HIGH: (Channel.EMAIL,), Priority.MEDIUM: (Channel.EMAIL,), Priority.LOW: (Channel.SMS,)},
        ),
        "2026-01-01T00:00:00Z",
    )
    # When a low-priority alert names her
    status, body = post({**BODY, "contact_id": "C-3", "priority": "L"})
    # Then 422 no_usable_channel and nothing queued
    assert status == 422
    assert body["error"]["code"] == "no_usable_channel"
    assert queued_bodies(api) == []


def test_enqueue_failure_is_a_5xx_and_the_retry_is_accepted(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the alert queue is unreachable
    real_url = api.env["ALERT_QUEUE_URL"]
    monkeypatch.setenv("ALERT_QUEUE_URL", real_url + "-missing")
    settings.settings.cache_clear()
    # When an alert is posted
    status, body = post(BODY)
    # Then the client gets 503 in the error format, with no stack trace
    assert status == 503
    assert body["error"]["code"] == "unavailable"
    assert "Traceback" not in json.dumps(body)
    # When the queue is back and the client retries the same alert
    monkeypatch.setenv("ALERT_QUEUE_URL", real_url)
    settings.settings.cache_clear()
    status, body = post(BODY)
    # Then it is accepted and queued exactly once
    assert status == 202
    assert len(queued_bodies(api)) == 1


def test_unexpected_failure_is_a_500_without_details(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a bug somewhere behind the API
    def broken(alert: Alert) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(accept_alert.queue, "enqueue", broken)
    # When an alert is posted
    status, body = post(BODY)
    # Then 500 internal_error without the exception's text
    assert status == 500
    assert body["error"]["code"] == "internal_error"
    assert "secret internals" not in json.dumps(body)


def test_client_reads_its_own_alert_with_its_attempts(api: Any) -> None:
    # Given an accepted alert delivered by its first attempt
    post(BODY)
    [message] = queued_bodies(api)
    from clarion.adapters import delivery_log

    alert = Alert.from_message(message)
    delivery_log.record_attempt(
        alert,
        Attempt(
            channel=Channel.CALL,
            attempt=1,
            outcome=Outcome.SENT,
            at="2026-01-01T00:00:01Z",
            provider_message_id="c-1",
            seq=1,
        ),
    )
    delivery_log.set_final_status(alert, AlertStatus.DELIVERED, "2026-01-01T00:00:01Z")
    # When the client reads it
    status, body = call(handler, api_event("GET", "/alerts/lab-0001"))
    # Then it sees status, priority, type, acceptance time and the attempt
    assert status == 200
    assert body["message_id"] == "lab-0001"
    assert body["status"] == "delivered"
    assert (body["priority"], body["type"]) == ("H", "blood_test_alert")
    assert body["accepted_at"] == message["accepted_at"]
    assert body["attempts"] == [
        {
            "channel": "call",
            "attempt": 1,
            "outcome": "sent",
            "at": "2026-01-01T00:00:01Z",
            "provider_message_id": "c-1",
            "error": None,
            "error_message": None,
            "contact_id": "C-1",
            "stage": 0,
            "receipt": None,
            "receipt_at": None,
            "seq": 1,
        }
    ]


@pytest.mark.parametrize(("attempts", "expected"), [([], "accepted"), ([Outcome.PENDING], "delivering")])
def test_an_accepted_alert_with_an_attempt_reads_as_delivering(api: Any, attempts: list[Outcome], expected: str):
    # Given an accepted alert, with or without an attempt in progress
    post(BODY)
    [message] = queued_bodies(api)
    from clarion.adapters import delivery_log

    for n, outcome in enumerate(attempts, start=1):
        attempt = Attempt(Channel.CALL, n, outcome, "2026-01-01T00:00:01Z")
        delivery_log.record_attempt(Alert.from_message(message), attempt)
    # When the client reads it
    _, body = call(handler, api_event("GET", "/alerts/lab-0001"))
    # Then `delivering` is what an accepted alert with attempts reads as (the log never stores it)
    assert body["status"] == expected


def test_another_clients_alert_and_an_unknown_alert_are_404(api: Any) -> None:
    # Given lab-system's accepted alert
    post(BODY)
    # When another client, and then lab-system for an unknown id, read
    other_status, other = call(handler, api_event("GET", "/alerts/lab-0001", client_id="ehr"))
    unknown_status, _ = call(handler, api_event("GET", "/alerts/lab-9999"))
    # Then both are 404 not_found
    assert (other_status, other["error"]["code"]) == (404, "not_found")
    assert unknown_status == 404


def test_patient_reference_never_leaves_the_request(
    api: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the logs are captured
    log_to_captured_stdout(monkeypatch)
    # When an alert is accepted, repeated, conflicted, refused and read back
    answers = [
        post(BODY),
        post(BODY),
        post({**BODY, "description": "changed"}),
        post({**BODY, "message_id": "lab-0002", "contact_id": "nobody"}),
        post({**BODY, "message_id": "lab-0003", "patient_id": PATIENT + "\n"}),
        call(handler, api_event("GET", "/alerts/lab-0001")),
    ]
    # Then no answer, queued message, event, stored item or log line holds the patient reference
    assert [a[0] for a in answers] == [202, 202, 409, 422, 400, 200]
    assert PATIENT not in json.dumps(answers)
    assert PATIENT not in json.dumps(queued_bodies(api))
    assert PATIENT not in json.dumps(api.events())
    for env_name in ("DELIVERY_TABLE", "IDEMPOTENCY_TABLE"):
        assert PATIENT not in json.dumps(api.table(env_name).scan()["Items"], default=str)
    out = capsys.readouterr()
    assert "alert accepted" in out.out
    assert PATIENT not in out.out + out.err


def test_each_acceptance_emits_the_alerts_accepted_metric_once(api: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # Given an alert
    # When it is sent twice
    post(BODY)
    post(BODY)
    # Then AlertsAccepted was emitted once, with value 1
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    accepted = [m["AlertsAccepted"] for m in metrics if "AlertsAccepted" in m]
    assert accepted == [[1.0]]


def test_handler_needs_a_lambda_context_like_the_runtime_gives(api: Any) -> None:
    # Given the runtime's context
    # When the handler runs
    response = handler(api_event("POST", "/alerts", BODY), FakeContext())
    # Then the answer is a proxy response with a JSON content type
    assert response["statusCode"] == 202
    headers = response.get("multiValueHeaders") or {k: [v] for k, v in response["headers"].items()}
    assert headers["Content-Type"] == ["application/json"]
