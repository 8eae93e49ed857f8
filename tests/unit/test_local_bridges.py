"""The local runtime's own pieces, without the emulator: policy evaluation, wire parsing, the demo table."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from clarion_local import demo, gateway, proxy

ARN = "arn:aws:execute-api:us-east-1:123456789012:local/v1"


def policy(*statements: tuple[str, str]) -> dict[str, object]:
    return {"Statement": [{"Effect": e, "Action": "execute-api:Invoke", "Resource": [r]} for e, r in statements]}


def test_an_allow_for_the_route_pattern_admits_the_request() -> None:
    allowed = policy(("Allow", f"{ARN}/GET/alerts/*"))
    assert gateway._allows(allowed, f"{ARN}/GET/alerts/lab-1")
    assert not gateway._allows(allowed, f"{ARN}/POST/alerts")


def test_a_deny_wins_over_an_allow() -> None:
    both = policy(("Allow", f"{ARN}/*"), ("Deny", f"{ARN}/*"))
    assert not gateway._allows(both, f"{ARN}/POST/alerts")


def test_path_templates_capture_their_parameters() -> None:
    regex = gateway._path_regex("/alerts/{message_id}")
    found = regex.fullmatch("/alerts/lab-2026.1")
    assert found is not None and found.groupdict() == {"message_id": "lab-2026.1"}
    assert regex.fullmatch("/alerts/a/b") is None


def test_only_a_json_object_passes_the_model_and_other_media_types_reach_the_handler() -> None:
    assert gateway._is_json_object(b'{"a": 1}', {"Content-Type": "application/json"})
    assert not gateway._is_json_object(b"[1]", {"content-type": "application/json; charset=utf-8"})
    assert not gateway._is_json_object(b"\xff", {})
    assert gateway._is_json_object(b"a=b", {"Content-Type": "application/x-www-form-urlencoded"})


def test_a_malformed_integration_answer_is_refused() -> None:
    assert gateway._integration_answer({"body": "x"}, "r") is None
    answer = gateway._integration_answer({"statusCode": 202, "body": "{}", "headers": {"A": "1"}}, "r")
    assert answer is not None and (answer.status, answer.body, answer.headers["A"]) == (202, b"{}", "1")


def test_sns_and_ses_form_bodies_become_the_sdk_parameters() -> None:
    sms = {
        "Action": "Publish",
        "PhoneNumber": "+447911123401",
        "Message": "Clarion: urgent",
        "MessageAttributes.entry.1.Name": "AWS.SNS.SMS.SMSType",
        "MessageAttributes.entry.1.Value.DataType": "String",
        "MessageAttributes.entry.1.Value.StringValue": "Transactional",
    }
    params = proxy.query_params(parse_qs(urlencode(sms)))
    assert params["PhoneNumber"] == "+447911123401"
    assert params["MessageAttributes"]["AWS.SNS.SMS.SMSType"]["StringValue"] == "Transactional"
    email = {
        "Action": "SendTemplatedEmail",
        "Template": "t",
        "TemplateData": "{}",
        "Destination.ToAddresses.member.2": "b@example.org",
        "Destination.ToAddresses.member.1": "a@example.org",
        "Tags.member.1.Name": "message_id",
        "Tags.member.1.Value": "m-1",
    }
    params = proxy.query_params(parse_qs(urlencode(email)))
    assert params["Destination"]["ToAddresses"] == ["a@example.org", "b@example.org"]
    assert params["Tags"] == [{"Name": "message_id", "Value": "m-1"}]


def test_the_demo_table_folds_runs_of_the_same_outcome() -> None:
    attempts = [
        {"channel": "sms", "attempt": n, "outcome": "retryable_failure", "error": "InternalError"} for n in (1, 2, 3)
    ] + [{"channel": "email", "attempt": 4, "outcome": "sent", "error": None}]
    assert demo._attempts(attempts) == "sms#1-3 retryable_failure (InternalError), email#4 sent"


def test_the_local_call_flow_answers_as_the_contact_flow_does() -> None:
    from clarion_local.receipts import flow_answer

    # 1 and 3 at the first ask; 2 repeats the message once and asks again; then no more repeats
    assert [flow_answer(d) for d in ("1", "3", "21", "23", "2", "22", "221", "", "9", "4")] == [
        "1",
        "3",
        "1",
        "3",
        "none",
        "none",
        "none",
        "none",
        "none",
        "none",
    ]
