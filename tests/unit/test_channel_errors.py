"""Channel adapters without a network: SDK errors become retryable or permanent `SendError`s, requests are shaped."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from clarion import names
from clarion.adapters import channels
from clarion.adapters.channels import base
from clarion.adapters.channels.email import template_name
from clarion.domain import messages
from clarion.domain.messages import TemplateKind
from clarion.domain.models import Alert, Channel, Contact, Priority
from clarion.shared import clients, settings

ALERT = Alert(
    client_id="lab-system",
    message_id="lab:2025/001",
    type="critical_lab_result",
    contact_id="C-1",
    description="Potassium 6.9 mmol/L",
    priority=Priority.HIGH,
    accepted_at="2025-01-01T00:00:00+00:00",
    plan=(Channel.CALL, Channel.SMS, Channel.EMAIL),
)
CONTACT = Contact("C-1", "Dr Ada", phone_call="+447700900001", phone_sms="+447700900002", email="ada@example.org")


def client_error(code: str, status: int, message: str = "details") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op"
    )


class FakeTable:
    """The delivery log in memory; each write is noted in the shared `journal`."""

    def __init__(self, journal: list[str]) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.journal = journal

    def put_item(self, Item: dict[str, Any], **_: Any) -> None:
        self.journal.append(f"put {Item['pk'].split('#')[0]}")
        self.items[(Item["pk"], Item["sk"])] = Item


class FakeClient:
    """Records each request; answers with `answer` or raises `error`."""

    def __init__(self, answer: dict[str, Any] | None = None, error: Exception | None = None) -> None:
        self.answer = answer or {"MessageId": "m-1", "ContactId": "c-1"}
        self.error = error
        self.requests: list[dict[str, Any]] = []
        self.journal: list[str] = []
        self.table = FakeTable(self.journal)

    def _call(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        self.journal.append("request")
        if self.error:
            raise self.error
        return self.answer

    start_outbound_voice_contact = publish = send_templated_email = _call


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch):
    values = {
        names.ENV_SENDER_EMAIL: "alerts@example.org",
        names.ENV_EMAIL_TEMPLATES: json.dumps({"generic": "t-generic", "critical_result": "t-critical"}),
        names.ENV_SMS_TYPE: "Transactional",
        names.ENV_CONNECT_INSTANCE_ID: "instance",
        names.ENV_CONNECT_FLOW_ID: "flow",
        names.ENV_CONNECT_SOURCE_PHONE: "+442071838750",
        names.ENV_DELIVERY_TABLE: "delivery-log",
    }
    for key in (names.ENV_SMS_SENDER_ID, names.ENV_SMS_MAX_PRICE, names.ENV_SES_CONFIGURATION_SET):
        monkeypatch.delenv(key, raising=False)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    settings.settings.cache_clear()
    yield monkeypatch
    settings.settings.cache_clear()


@pytest.fixture
def provider(env, monkeypatch: pytest.MonkeyPatch) -> FakeClient:
    fake = FakeClient()
    monkeypatch.setattr(clients, "client", lambda service: fake)
    monkeypatch.setattr(clients, "send_client", lambda service: fake)
    monkeypatch.setattr(clients, "dynamodb_table", lambda name: fake.table)
    return fake


# --- classification of SDK errors -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "error", "retryable", "code"),
    [
        (Channel.CALL, client_error("ThrottlingException", 429), True, "ThrottlingException"),
        (Channel.CALL, client_error("DestinationNotAllowedException", 400), False, "DestinationNotAllowedException"),
        (Channel.SMS, client_error("InternalError", 500), True, "InternalError"),
        (Channel.SMS, client_error("InvalidParameter", 400), False, "InvalidParameter"),
        (Channel.EMAIL, client_error("MessageRejected", 400), False, "MessageRejected"),
        (Channel.EMAIL, client_error("ServiceUnavailable", 503), True, "ServiceUnavailable"),
        (Channel.EMAIL, ReadTimeoutError(endpoint_url="https://email"), True, "Timeout"),
        (Channel.SMS, ConnectTimeoutError(endpoint_url="https://sns"), True, "Timeout"),
        (Channel.CALL, EndpointConnectionError(endpoint_url="https://connect"), True, "ConnectionError"),
        (Channel.SMS, ParamValidationError(report="bad"), False, "ValidationError"),
        (Channel.SMS, NoCredentialsError(), True, "NoCredentialsError"),
    ],
)
def test_sdk_errors_become_send_errors_of_the_right_class(channel, error, retryable, code):
    # Given an SDK error from a channel's provider
    # When it is mapped
    send_error = base.to_send_error(channel, error)
    # Then throttling, 5xx and transport errors are retryable and refusals permanent, under the provider's code
    assert (send_error.retryable, send_error.code) == (retryable, code)


def test_client_error_without_a_code_is_unknown_and_retried():
    # Given a malformed error answer
    error = ClientError({"Error": {}, "ResponseMetadata": {}}, "Op")
    # When it is mapped
    send_error = base.to_send_error(Channel.SMS, error)
    # Then it is an unknown, retryable error
    assert (send_error.retryable, send_error.code, send_error.text) == (True, "Unknown", "Unknown")


def test_logged_error_text_is_the_providers_code_and_message_bounded():
    # Given a permanent error with a long provider message
    send_error = base.to_send_error(Channel.EMAIL, client_error("MessageRejected", 400, "x" * 1000))
    # When its log text is taken
    # Then it starts with the code and is bounded
    assert send_error.text.startswith("MessageRejected: xxx")
    assert len(send_error.text) == base.ERROR_TEXT_MAX


def test_provider_failure_during_send_is_raised_as_send_error(provider):
    # Given the SMS provider throttles
    provider.error = client_error("Throttling", 400)
    # When the registry sends on SMS
    with pytest.raises(channels.SendError) as raised:
        channels.send(Channel.SMS, ALERT, CONTACT, 1)
    # Then a retryable SendError carries the provider's code
    assert (raised.value.retryable, raised.value.code) == (True, "Throttling")


def test_contact_without_a_destination_is_a_permanent_no_destination_failure(provider):
    # Given a contact with no email address
    contact = Contact("C-1", "Dr Ada", phone_sms="+447700900002")
    # When the registry sends on email
    with pytest.raises(channels.SendError) as raised:
        channels.send(Channel.EMAIL, ALERT, contact, 1)
    # Then it is a permanent failure and nothing reached the provider
    assert (raised.value.retryable, raised.value.code) == (False, "NoDestination")
    assert provider.requests == []


def test_channel_without_an_adapter_is_a_permanent_failure(provider, monkeypatch):
    # Given a deployment where the call adapter is not registered
    monkeypatch.delitem(channels.ADAPTERS, Channel.CALL)
    # When the registry sends on call
    with pytest.raises(channels.SendError) as raised:
        channels.send(Channel.CALL, ALERT, CONTACT, 1)
    # Then it is permanent
    assert (raised.value.retryable, raised.value.code) == (False, "ChannelNotAvailable")


def test_every_channel_has_an_adapter():
    # Given the registry
    # When it is listed
    # Then each channel is served by the adapter that claims it
    assert {c: a.channel for c, a in channels.ADAPTERS.items()} == {c: c for c in Channel}


# --- request shapes -------------------------------------------------------------------------------


def test_call_request_carries_flow_ids_token_and_spoken_attributes(provider):
    # Given Connect is configured
    # When attempt 3 is sent on call
    contact_id = channels.send(Channel.CALL, ALERT, CONTACT, 3)
    # Then the request names the instance, flow, numbers and a stable token for (alert, attempt)
    [request] = provider.requests
    assert contact_id == "c-1"
    assert request["InstanceId"] == "instance"
    assert request["ContactFlowId"] == "flow"
    assert request["SourcePhoneNumber"] == "+442071838750"
    assert request["DestinationPhoneNumber"] == CONTACT.phone_call
    assert request["ClientToken"] == base.attempt_token(ALERT, 3) != base.attempt_token(ALERT, 4)
    assert len(request["ClientToken"]) <= 500
    # And the call's only attribute is an opaque handle: no words, no alert reference (Connect keeps it 24 months)
    assert list(request["Attributes"]) == ["call"]
    handle = request["Attributes"]["call"]
    assert len(handle) == 22 and "Potassium" not in handle and ALERT.message_id not in handle
    # And the words were kept under it in the delivery log, to expire within the hour, before the call started
    assert provider.journal == ["put call", "request"]
    [item] = provider.table.items.values()
    assert item["pk"] == f"call#{handle}" and item["ssml"] == messages.spoken_ssml(ALERT)
    assert 0 < item["expires_at"] - time.time() <= 3600
    assert set(item) == {"pk", "sk", "ssml", "expires_at"}  # nothing that names the alert, the contact or the patient


def test_each_call_gets_a_handle_of_its_own(provider):
    # Given the same alert called twice (two attempts)
    channels.send(Channel.CALL, ALERT, CONTACT, 1)
    channels.send(Channel.CALL, ALERT, CONTACT, 2)
    # Then the handles differ: one cannot be derived from the alert or guessed from another
    first, second = (r["Attributes"]["call"] for r in provider.requests)
    assert first != second and len(provider.table.items) == 2


def test_a_call_whose_words_cannot_be_kept_is_not_started(provider, monkeypatch):
    # Given the delivery log throttles the write of the words
    def throttled(**_: Any) -> None:
        raise client_error("ProvisionedThroughputExceededException", 400)

    monkeypatch.setattr(provider.table, "put_item", throttled)
    # When a call is sent
    with pytest.raises(channels.SendError) as raised:
        channels.send(Channel.CALL, ALERT, CONTACT, 1)
    # Then no call rang (it would have had nothing to say) and the attempt can be retried
    assert provider.requests == []
    assert (raised.value.retryable, raised.value.code) == (True, "ProvisionedThroughputExceededException")


def test_call_without_connect_settings_is_a_permanent_failure(provider, env):
    # Given a deployment without a Connect instance
    env.delenv(names.ENV_CONNECT_INSTANCE_ID)
    settings.settings.cache_clear()
    # When a call is sent
    with pytest.raises(channels.SendError) as raised:
        channels.send(Channel.CALL, ALERT, CONTACT, 1)
    # Then it fails permanently without a request
    assert (raised.value.retryable, raised.value.code) == (False, "CallNotConfigured")
    assert provider.requests == []


def test_sms_without_sender_id_or_price_cap_sends_only_the_type(provider):
    # Given no sender id and no price cap
    # When an SMS is sent
    channels.send(Channel.SMS, ALERT, CONTACT, 1)
    # Then only the SMS type attribute is set
    [request] = provider.requests
    assert request["PhoneNumber"] == CONTACT.phone_sms
    assert request["MessageAttributes"] == {
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
    }


def test_email_uses_the_kind_template_configuration_set_and_safe_tags(provider, env):
    # Given a configuration set
    env.setenv(names.ENV_SES_CONFIGURATION_SET, "clarion-events")
    settings.settings.cache_clear()
    # When attempt 2 is sent by email
    channels.send(Channel.EMAIL, ALERT, CONTACT, 2)
    # Then the request names the sender, the critical template, the set and SES-safe tags
    [request] = provider.requests
    assert request["Source"] == "alerts@example.org"
    assert request["Destination"] == {"ToAddresses": [CONTACT.email]}
    assert request["Template"] == "t-critical"
    assert request["ConfigurationSetName"] == "clarion-events"
    assert set(json.loads(request["TemplateData"])) == {"subject", "body"}
    assert request["Tags"] == [{"Name": "message_id", "Value": "lab_2025_001"}, {"Name": "attempt", "Value": "2"}]


def test_email_kind_without_its_own_template_uses_the_generic_one(env):
    # Given templates for generic and critical results only
    # When the appointment template is looked up
    # Then the generic one is used
    assert template_name(TemplateKind.APPOINTMENT_REMINDER) == "t-generic"


def test_email_without_any_template_is_a_permanent_failure(env):
    # Given no templates at all
    env.setenv(names.ENV_EMAIL_TEMPLATES, "{}")
    settings.settings.cache_clear()
    # When a template is looked up
    with pytest.raises(channels.SendError) as raised:
        template_name(TemplateKind.GENERIC)
    # Then it is a permanent failure
    assert (raised.value.retryable, raised.value.code) == (False, "TemplateDoesNotExist")
