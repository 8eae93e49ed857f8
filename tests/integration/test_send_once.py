"""One attempt in the delivery log is one request to the provider: the SDK never repeats a send on its own (SNS
and SES sends are not idempotent), whatever the provider answered; the router's policy does the retrying."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from clarion.domain.models import Priority
from clarion.shared import clients
from clarion.usecases import deliver_alert
from tests.integration.routing import given_accepted, log_of, make_alert, route

# (channel, service, operation, priority, the provider's 5xx answer as its query protocol writes it)
CASES = [
    ("email", "ses", "SendTemplatedEmail", Priority.LOW, "ServiceUnavailable"),
    ("sms", "sns", "Publish", Priority.MEDIUM, "InternalError"),
]


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@pytest.mark.parametrize(("channel", "service", "operation", "priority", "code"), CASES)
def test_each_attempt_is_one_provider_request(
    clarion: Any,
    monkeypatch: pytest.MonkeyPatch,
    channel: str,
    service: str,
    operation: str,
    priority: Priority,
    code: str,
) -> None:
    monkeypatch.setattr(deliver_alert, "sleep", lambda _: None)
    # Given a provider whose next request fails on the wire with a 5xx (which the SDK's standard mode retries)
    requests: list[int] = []

    def provider(request: Any, **_: Any) -> AWSResponse | None:
        requests.append(1)
        if len(requests) > 1:
            return None  # on to the emulator
        error = f"<Error><Type>Receiver</Type><Code>{code}</Code><Message>down</Message></Error>"
        body = f"<ErrorResponse>{error}</ErrorResponse>"
        return AWSResponse(request.url, 503, {}, _Raw(body.encode()))

    event = f"before-send.{service}.{operation}"
    client = clients.send_client(service)
    client.meta.events.register_first(event, provider)
    alert = make_alert(priority, message_id=f"once-{channel}")
    given_accepted(alert)
    try:
        # When the router delivers the alert
        route(clarion, alert)
    finally:
        client.meta.events.unregister(event, provider)
    # Then the provider saw exactly as many requests as the log holds attempts on that channel: 2 (failed, sent)
    attempts = [a for a in log_of(alert).attempts if a.channel.value == channel]
    assert [a.outcome.value for a in attempts] == ["retryable_failure", "sent"]
    assert len(requests) == len(attempts) == 2
