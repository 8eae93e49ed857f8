"""With private networking the router starts calls through the dialer function (Connect has no VPC endpoint)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from clarion import names
from clarion.adapters import channels
from clarion.adapters.channels import SendError
from clarion.domain.models import Alert, Channel, Contact, Priority
from clarion.handlers import dialer as dialer_handler
from clarion.shared import clients, settings
from tests.helpers import FakeContext

CONTACT = Contact(contact_id="C-1", name="Dr Example", phone_call="+447700900123")
ALERT = Alert(
    client_id="lab",
    message_id="m-1",
    type="critical_lab_result",
    contact_id="C-1",
    description="Potassium 6.9 mmol/L",
    priority=Priority.HIGH,
    accepted_at="2026-11-21T10:00:00+00:00",
    plan=(Channel.CALL,),
)


class _Http:
    status_code = 200
    headers: ClassVar[dict[str, str]] = {}


@pytest.fixture
def through_dialer(clarion: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Route Lambda Invoke of the dialer to the real dialer handler, in-process (moto runs no Lambda code)."""
    monkeypatch.setenv(names.ENV_DIALER_FUNCTION, "clarion-dialer")
    settings.settings.cache_clear()
    invocations: list[dict[str, Any]] = []

    def stash(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["invoke_params"] = params

    def invoke(context: dict[str, Any], **_: Any) -> Any:
        params = context["invoke_params"]
        event = json.loads(params["Payload"])
        invocations.append({"function": params["FunctionName"], "event": event})
        answer = dialer_handler.handler(event, FakeContext())
        return _Http(), {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(answer).encode())}

    events = clients.send_client("lambda").meta.events
    events.register("before-parameter-build.lambda.Invoke", stash)
    events.register("before-call.lambda.Invoke", invoke)
    yield invocations
    events.unregister("before-parameter-build.lambda.Invoke", stash)
    events.unregister("before-call.lambda.Invoke", invoke)


def test_call_goes_through_the_dialer_and_reaches_connect(clarion, through_dialer):
    # Given a router configured with a dialer function
    # When a call is sent
    contact_id = channels.send(Channel.CALL, ALERT, CONTACT, 1)

    # Then the dialer was invoked once and Connect started the call, whose only attribute is the handle
    assert contact_id
    assert [i["function"] for i in through_dialer] == ["clarion-dialer"]
    (call,) = clarion.outbox
    assert call["destination"] == "+447700900123"
    assert list(call["attributes"]) == ["call"] and "Potassium" not in json.dumps(call["attributes"])
    assert through_dialer[0]["event"]["request"]["Attributes"] == call["attributes"]
    # And the flow spoke the alert's words, fetched from the keypress function by that handle
    assert "Potassium 6.9 mmol/L" in call["text"]


def test_connect_rejection_through_the_dialer_is_a_permanent_failure(clarion, through_dialer):
    # Given Connect refuses the destination
    clarion.bridge.add_fault("call", "reject", count=1)

    # When a call is sent through the dialer
    with pytest.raises(SendError) as error:
        channels.send(Channel.CALL, ALERT, CONTACT, 1)

    # Then it fails permanently with Connect's own error code, so the router falls back at once
    assert error.value.retryable is False
    assert error.value.code == "DestinationNotAllowedException"
    assert clarion.outbox == []


def test_connect_throttling_through_the_dialer_is_retryable(clarion, through_dialer):
    clarion.bridge.add_fault("call", "throttle", count=1)
    with pytest.raises(SendError) as error:
        channels.send(Channel.CALL, ALERT, CONTACT, 1)
    assert error.value.retryable is True


def test_dialer_refuses_an_incomplete_request_without_calling(clarion):
    # Given a request missing the destination
    # When the dialer handles it
    answer = dialer_handler.handler({"request": {"InstanceId": "i"}}, FakeContext())

    # Then nothing is called and the answer says why
    assert answer["error"]["code"] == "InvalidParameterException"
    assert clarion.outbox == []


def test_a_crashed_dialer_is_a_retryable_failure(clarion, monkeypatch):
    # Given a dialer whose invocation reports a function error
    monkeypatch.setenv(names.ENV_DIALER_FUNCTION, "clarion-dialer")
    settings.settings.cache_clear()

    def crashed(**_: Any) -> Any:
        return _Http(), {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": io.BytesIO(b"{}")}

    events = clients.send_client("lambda").meta.events
    events.register("before-call.lambda.Invoke", crashed)

    # When a call is sent
    with pytest.raises(SendError) as error:
        channels.send(Channel.CALL, ALERT, CONTACT, 1)
    events.unregister("before-call.lambda.Invoke", crashed)

    # Then the router will retry it
    assert error.value.retryable is True
    assert error.value.code == "DialerFailed"
