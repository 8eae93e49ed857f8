"""The local system end to end, over HTTP only: what an integrator sees."""

from __future__ import annotations

import pytest

from clarion_local.system import LocalClarion
from tests.system.conftest import UNROUTABLE, Api, Witness, new_alert


def test_health_answers_once_ready(api: Api) -> None:
    status, body = api.call("GET", "/_local/health")
    assert status == 200
    assert body["status"] == "ok"


def test_high_priority_rings_the_clinician_with_the_spoken_alert(api: Api) -> None:
    # Given the sample clinician C-1 (call, then SMS, then email for H)
    # When a high-priority alert is posted on the AWS sample's route
    body = new_alert(priority="H", type="critical_result")
    status, answer = api.call("POST", "/notification", body, api.client_token)
    # Then it is accepted with the call-first plan, and one call went out saying what happened
    assert status == 202
    assert answer == {"message_id": body["message_id"], "status": "accepted", "channels": ["call", "sms", "email"]}
    [call] = api.until(lambda: api.outbox_of(body["message_id"]))
    assert call["channel"] == "call"
    assert call["destination"] == "+447911123401"
    assert "Potassium 6.9 mmol/L on ward 7" in call["text"]
    assert call["text"].endswith("Press 3 if this is not your patient.")
    assert call["attempt"] == 1 and call["at"]
    # And when Ada answers and presses 1, the call is delivered and the alert acknowledged, by the call
    status, answer = api.call("POST", f"/_local/voice/{call['provider_id']}/answer", {"digits": "1"})
    assert (status, answer["flow_result"]) == (200, {"result": "acknowledged"})
    view = api.until(lambda: (lambda v: v if v["status"] == "acknowledged" else None)(api.view(body["message_id"])))
    assert [(a["channel"], a["attempt"], a["outcome"]) for a in view["attempts"]] == [("call", 1, "delivered")]
    assert (view["ack"]["acknowledged_by"], view["ack"]["via"]) == ("C-1", "call")


def test_medium_priority_texts_and_low_priority_emails_with_the_right_content(api: Api) -> None:
    _, _, medium = api.post_alert(priority="M")
    _, _, low = api.post_alert(priority="L", type="appointment_reminder", description="Clinic review Monday 10:00")
    assert api.wait(medium["message_id"])["status"] == "delivered"
    assert api.wait(low["message_id"])["status"] == "delivered"
    [sms] = api.outbox_of(medium["message_id"])
    assert (sms["channel"], sms["destination"], sms["attempt"]) == ("sms", "+447911123401", 1)
    assert "Potassium 6.9 mmol/L on ward 7" in sms["text"]
    [email] = api.outbox_of(low["message_id"])
    assert (email["channel"], email["destination"]) == ("email", "ada.example@clinic.example.org")
    assert email["template"].endswith("EmailTemplateAppointmentReminder46F46EC2")
    assert "Clinic review Monday 10:00" in email["template_data"]["body"]


def test_the_same_alert_twice_is_answered_the_same_and_delivered_once(api: Api) -> None:
    body = new_alert()
    first = api.call("POST", "/alerts", body, api.client_token)
    second = api.call("POST", "/alerts", body, api.client_token)
    assert first == second
    assert first[0] == 202
    api.wait(body["message_id"])
    assert len(api.outbox_of(body["message_id"])) == 1


def test_the_same_message_id_with_another_body_is_a_conflict(api: Api) -> None:
    body = new_alert()
    assert api.call("POST", "/alerts", body, api.client_token)[0] == 202
    status, answer = api.call("POST", "/alerts", {**body, "description": "changed"}, api.client_token)
    assert status == 409
    assert answer["error"]["code"] == "conflict"
    api.wait(body["message_id"])
    assert len(api.outbox_of(body["message_id"])) == 1


def test_sms_throttling_is_retried_on_the_same_channel(api: Api) -> None:
    # Given SNS throttles the next two sends (the SDK does not retry a send: each is one of the router's attempts)
    api.fault("sms", "throttle", count=2)
    _, _, body = api.post_alert(priority="M")
    view = api.wait(body["message_id"])
    # Then the router's third SMS attempt delivers
    assert [(a["channel"], a["outcome"]) for a in view["attempts"]] == [
        ("sms", "retryable_failure"),
        ("sms", "retryable_failure"),
        ("sms", "delivered"),
    ]
    assert view["attempts"][0]["error"].startswith("Throttling")
    assert view["status"] == "delivered"


def test_a_rejected_sms_falls_back_to_email_at_once(api: Api) -> None:
    api.fault("sms", "reject", count=1)
    _, _, body = api.post_alert(priority="M")
    view = api.wait(body["message_id"])
    assert [(a["channel"], a["outcome"]) for a in view["attempts"]] == [
        ("sms", "permanent_failure"),
        ("email", "delivered"),
    ]
    assert [e["channel"] for e in api.outbox_of(body["message_id"])] == ["email"]


def test_an_sms_outage_exhausts_its_retries_then_falls_back_to_email(api: Api) -> None:
    api.fault("sms", "outage", seconds=60)
    _, _, body = api.post_alert(priority="M")
    view = api.wait(body["message_id"])
    outcomes = [(a["channel"], a["outcome"]) for a in view["attempts"]]
    assert outcomes == [("sms", "retryable_failure")] * 3 + [("email", "delivered")]
    assert view["status"] == "delivered"


def test_a_call_outage_falls_back_to_sms(api: Api) -> None:
    api.fault("call", "outage", seconds=60)
    _, _, body = api.post_alert(priority="H")
    view = api.wait(body["message_id"])
    assert [a["channel"] for a in view["attempts"] if a["outcome"] == "delivered"] == ["sms"]


def test_every_channel_down_ends_failed_and_counts_as_unroutable(api: Api) -> None:
    # Given every provider is down
    before = api.total(UNROUTABLE)
    for channel in ("call", "sms", "email"):
        api.fault(channel, "outage", seconds=120)
    # When a high-priority alert is posted
    _, _, body = api.post_alert(priority="H")
    view = api.wait(body["message_id"], timeout=90)
    # Then every channel was tried, the alert failed, nothing went out, and the unroutable metric counted it
    assert view["status"] == "failed"
    assert {a["channel"] for a in view["attempts"]} == {"call", "sms", "email"}
    assert all(a["outcome"] == "retryable_failure" for a in view["attempts"])
    assert api.outbox_of(body["message_id"]) == []
    assert api.metric_reaches(UNROUTABLE, before + 1) == before + 1


@pytest.mark.parametrize(
    ("token", "status", "code"),
    [
        (None, 401, "unauthorized"),
        ("clr_lab-system_" + "A" * 43, 403, "forbidden"),
        ("not-a-token", 401, "unauthorized"),
    ],
)
def test_bad_tokens_get_the_documented_errors(api: Api, token: str | None, status: int, code: str) -> None:
    answer_status, answer = api.call("POST", "/alerts", new_alert(), token)
    assert (answer_status, answer["error"]["code"]) == (status, code)


def test_client_scope_cannot_manage_contacts_and_admin_scope_can(api: Api) -> None:
    assert api.call("GET", "/contacts/C-1", token=api.client_token)[0] == 403
    status, contact = api.call("GET", "/contacts/C-1", token=api.admin_token)
    assert status == 200
    assert contact["channels"]["H"] == ["call", "sms", "email"]


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"priority": "X"}, 400, "invalid_field", "priority"),
        ({"colour": "red"}, 400, "unknown_field", "colour"),
        ({"contact_id": "C-404"}, 422, "unknown_contact", "contact_id"),
    ],
)
def test_bad_alerts_get_the_documented_errors(api: Api, change: dict[str, str], status: int, code: str, field: str):
    answer_status, answer = api.call("POST", "/alerts", new_alert(**change), api.client_token)
    assert answer_status == status
    assert answer["error"]["code"] == code
    assert answer["error"]["field"] == field


def test_a_body_that_is_not_a_json_object_is_refused_by_the_gateway(api: Api) -> None:
    status, answer = api.call("POST", "/alerts", raw=b"[1, 2]", token=api.client_token)
    assert status == 400
    assert answer["error"]["code"] == "invalid_body"


def test_unknown_alert_is_404_and_unknown_route_is_in_the_error_format(api: Api) -> None:
    assert api.call("GET", "/alerts/never-sent", token=api.client_token)[0] == 404
    status, answer = api.call("GET", "/nowhere", token=api.client_token)
    assert status == 404
    assert answer["error"]["code"] == "not_found"


def test_no_answer_or_outbox_entry_carries_the_patient_reference(api: Api) -> None:
    _, answer, body = api.post_alert(priority="H")
    view = api.wait(body["message_id"])
    _, outbox = api.call("GET", "/_local/outbox")
    assert body["patient_id"] not in str(answer) + str(view) + str(outbox)


@pytest.mark.parametrize(
    ("fault", "field"),
    [
        ({"channel": "fax", "mode": "outage", "count": 1}, "channel"),
        ({"channel": "sms", "mode": "flood", "count": 1}, "mode"),
        ({"channel": "sms", "mode": "outage", "count": "3"}, "count"),
    ],
)
def test_a_bad_fault_is_refused_naming_the_field(api: Api, fault: dict[str, object], field: str) -> None:
    status, answer = api.call("POST", "/_local/faults", fault)
    assert status == 400
    assert answer["error"]["field"] == field


def test_the_openapi_document_and_the_api_page_are_served(api: Api) -> None:
    status, document = api.call("GET", "/openapi.json")
    assert status == 200
    assert "/alerts" in document["paths"]
    status, page = api.call("GET", "/docs")
    assert status == 200
    assert '<script src="/docs/swagger-ui-bundle.js">' in page  # Swagger UI, from this server


def test_the_leak_witness_finds_a_planted_secret(local: LocalClarion) -> None:
    # The check every suite ends with (tests/system/conftest.py) would fail on a patient reference in an answer
    witness = Witness(tokens={"clr_lab-system_planted"}, patients={"anon-planted"}, answers=['{"p": "anon-planted"}'])
    assert witness.leaks(local) == ["patient anon-planted in answers"]
