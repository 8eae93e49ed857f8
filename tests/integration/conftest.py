"""Integration fixtures: the handlers run in-process against moto.

`clarion` builds the tables, queues, topic and SES templates in moto, sets the environment the
stack would set, and hooks the handlers' clients to the provider bridge (Connect answered and
recorded, provider faults injectable).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws

from clarion import names
from clarion.shared import clients, settings
from clarion_local.providers import ProviderBridge
from tests.integration import resources

SENDER = "alerts@clarion.example.org"


@dataclass
class Clarion:
    bridge: ProviderBridge
    env: dict[str, str]
    events_queue_url: str
    dlq_url: str
    _seen_events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def outbox(self) -> list[dict[str, Any]]:
        return self.bridge.outbox

    def table(self, env_name: str) -> Any:
        return boto3.resource("dynamodb").Table(self.env[env_name])

    def queued(self) -> list[dict[str, Any]]:
        """Receive (and delete) every message waiting on the alert queue, as raw SQS records."""
        sqs = boto3.client("sqs")
        out: list[dict[str, Any]] = []
        while True:
            resp = sqs.receive_message(
                QueueUrl=self.env[names.ENV_ALERT_QUEUE_URL], MaxNumberOfMessages=10, AttributeNames=["All"]
            )
            msgs = resp.get("Messages", [])
            if not msgs:
                return out
            for m in msgs:
                out.append(m)
                sqs.delete_message(QueueUrl=self.env[names.ENV_ALERT_QUEUE_URL], ReceiptHandle=m["ReceiptHandle"])

    def events(self) -> list[dict[str, Any]]:
        """Every event published to the alert-events topic so far (JSON-decoded)."""
        sqs = boto3.client("sqs")
        while True:
            msgs = sqs.receive_message(QueueUrl=self.events_queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not msgs:
                return self._seen_events
            for m in msgs:
                envelope = json.loads(m["Body"])
                self._seen_events.append(
                    {"message": json.loads(envelope["Message"]), "attributes": envelope.get("MessageAttributes", {})}
                )
                sqs.delete_message(QueueUrl=self.events_queue_url, ReceiptHandle=m["ReceiptHandle"])


@pytest.fixture
def clarion(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clarion]:
    with mock_aws():
        env, events_queue_url, dlq_url = resources.create_all(sender=SENDER)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings.settings.cache_clear()
        clients.reset()
        bridge = ProviderBridge()
        for service in ("connect", "sns", "ses"):
            bridge.attach(clients.client(service))
        yield Clarion(bridge=bridge, env=env, events_queue_url=events_queue_url, dlq_url=dlq_url)
        settings.settings.cache_clear()
        clients.reset()
