"""A new user's first alert through the Python client generated from docs/openapi.json (docs/api.md), against the
local system: the generated names and typed models are what an integrator codes against."""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from http import HTTPStatus
from types import ModuleType
from typing import Any

import pytest

from clarion_local.system import LocalClarion
from tests import generated_client
from tests.system.conftest import Api, new_alert


@pytest.fixture(scope="module")
def client_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    with generated_client.imported(tmp_path_factory.mktemp("client")) as package:
        yield package


def _module(package: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{name}")


def _client(package: ModuleType, local: LocalClarion, **options: Any) -> Any:
    """The generated client as a new user makes it: the API's URL and the client token."""
    return package.AuthenticatedClient(
        base_url=f"http://127.0.0.1:{local.port}", token=str(local.client_token), **options
    )


def test_an_alert_sent_read_and_acknowledged_through_the_generated_client(
    client_package: ModuleType, local: LocalClarion, api: Api
) -> None:
    models = _module(client_package, "models")
    create_alert = _module(client_package, "api.alerts.create_alert")
    get_alert = _module(client_package, "api.alerts.get_alert")
    acknowledge_alert = _module(client_package, "api.alerts.acknowledge_alert")
    # Given a client made with the client token, and a medium-priority alert for the sample contact C-1
    client = _client(client_package, local, raise_on_unexpected_status=True)
    alert = models.AlertRequest.from_dict(new_alert(priority="M"))
    assert alert.priority is models.Priority.M
    with client:
        # When it is sent with createAlert
        sent = create_alert.sync_detailed(client=client, body=alert)
        # Then it is accepted, answered as the typed AlertAccepted, with C-1's medium chain
        assert sent.status_code == HTTPStatus.ACCEPTED
        assert isinstance(sent.parsed, models.AlertAccepted)
        assert (sent.parsed.message_id, sent.parsed.status) == (alert.message_id, "accepted")
        assert sent.parsed.channels == [models.Channel.SMS, models.Channel.EMAIL]

        # And getAlert reads it back, a typed AlertView, until its status shows the SMS delivered
        deadline = time.monotonic() + 60
        while True:
            view = get_alert.sync(alert.message_id, client=client)
            assert isinstance(view, models.AlertView)
            if view.status not in (models.AlertStatus.ACCEPTED, models.AlertStatus.DELIVERING):
                break
            assert time.monotonic() < deadline, f"{alert.message_id} still {view.status}"
            time.sleep(0.1)
        assert view.status is models.AlertStatus.DELIVERED
        assert [(a.channel, a.outcome, a.contact_id) for a in view.attempts] == [
            (models.Channel.SMS, models.Outcome.DELIVERED, "C-1")
        ]
        assert isinstance(view.ack, models.AckView)
        assert view.ack.required is True  # M needs an acknowledgement

        # When C-1 acknowledges it with acknowledgeAlert
        answered = acknowledge_alert.sync(alert.message_id, client=client, body=models.AnswerBody(contact_id="C-1"))
    # Then the answer is the typed AlertView, acknowledged by C-1 through the API
    assert isinstance(answered, models.AlertView)
    assert answered.status is models.AlertStatus.ACKNOWLEDGED
    assert (answered.ack.acknowledged_by, answered.ack.via) == ("C-1", "api")
    assert api.view(alert.message_id)["status"] == "acknowledged"  # and the API says so to anyone who asks


def test_an_unknown_alert_is_the_typed_error_body(client_package: ModuleType, local: LocalClarion, api: Api) -> None:
    models = _module(client_package, "models")
    get_alert = _module(client_package, "api.alerts.get_alert")
    # Given a client made with the client token
    client = _client(client_package, local)
    # When an alert nobody sent is read
    with client:
        answer = get_alert.sync_detailed("never-sent", client=client)
    # Then it is 404 with the typed ErrorBody naming the field
    assert answer.status_code == HTTPStatus.NOT_FOUND
    assert isinstance(answer.parsed, models.ErrorBody)
    assert (answer.parsed.error.code, answer.parsed.error.field) == ("not_found", "message_id")
