"""Integration fixtures: the handlers run in-process against moto.

`clarion` deploys the synthesized dev assembly into moto's CloudFormation (`clarion_local.stack`), so
the tables, queues, topics and SES templates are exactly the ones the template defines; it sets the
environment the template gives the functions, and hooks the handlers' clients to the provider bridge
(Connect answered and recorded, its flow fetching the words from the keypress function in-process, provider faults
injectable).
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
from clarion.adapters import contacts as contacts_repo
from clarion.adapters import idempotency
from clarion.handlers import keypress
from clarion.shared import clients, settings
from clarion.shared.observability import logger
from clarion.usecases import deliver_alert
from clarion_local import stack
from clarion_local.emulator import atomic_dynamodb_writes, honour_kms_key_spec
from clarion_local.providers import ProviderBridge
from tests.integration.intake_api import ALICE
from tests.integration.routing import CurrentStdout, Output
from tests.synth import Synth


@dataclass
class Clarion:
    bridge: ProviderBridge
    env: dict[str, str]
    events_queue_url: str
    dlq_url: str
    deployment: stack.Deployment
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


def function_environment(deployment: stack.Deployment) -> dict[str, str]:
    """The application variables of every deployed function (they agree wherever they overlap)."""
    env: dict[str, str] = {}
    for function in deployment.functions.values():
        for key, value in function.environment.items():
            if key.startswith("POWERTOOLS_"):
                continue
            assert env.setdefault(key, value) == value, f"functions disagree on {key}"
    return env


def capture_events(topic_arn: str) -> str:
    """A queue subscribed to the alert-events topic, so tests can read what was published."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="test-events-capture")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return str(url)


@dataclass(frozen=True)
class Deployed:
    deployment: stack.Deployment
    env: dict[str, str]
    events_queue_url: str
    bridge: ProviderBridge


@pytest.fixture(scope="package")
def deployed(dev: Synth) -> Iterator[Deployed]:
    """The dev assembly deployed into moto once for the suite (a deploy takes about a second)."""
    honour_kms_key_spec()
    atomic_dynamodb_writes()
    with mock_aws():
        deployment = stack.deploy(boto3.session.Session(), dev.assembly)
        env = function_environment(deployment)
        yield Deployed(deployment, env, capture_events(env[names.ENV_EVENTS_TOPIC_ARN]), ProviderBridge())
        clients.reset()


def wipe() -> None:
    """Empty every table and queue, so each test starts from the freshly deployed state."""
    ddb = boto3.client("dynamodb")
    for table in ddb.list_tables()["TableNames"]:
        keys = [k["AttributeName"] for k in ddb.describe_table(TableName=table)["Table"]["KeySchema"]]
        for page in ddb.get_paginator("scan").paginate(TableName=table, ProjectionExpression=", ".join(keys)):
            for item in page["Items"]:
                ddb.delete_item(TableName=table, Key=item)
    sqs = boto3.client("sqs")
    for url in sqs.list_queues().get("QueueUrls", []):
        sqs.purge_queue(QueueUrl=url)  # moto's once-a-minute purge limit is lifted for the suite


@pytest.fixture
def clarion(monkeypatch: pytest.MonkeyPatch, deployed: Deployed) -> Iterator[Clarion]:
    monkeypatch.setenv("MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR", "false")
    wipe()
    for key, value in deployed.env.items():
        monkeypatch.setenv(key, value)
    # Routing as a deployment without receipts has it (a provider's acceptance is delivery); the receipts suite
    # (test_receipts) turns them on and plays the providers' receipts.
    monkeypatch.setenv(names.ENV_RECEIPT_TIMEOUTS, "{}")
    # And SMS one-way through SNS, as a deployment without `sms_origination` sends it; the two-way suites
    # (test_replies) name the identity.
    monkeypatch.delenv(names.ENV_SMS_ORIGINATION, raising=False)
    monkeypatch.delenv(names.ENV_SMS_CONFIGURATION_SET, raising=False)
    settings.settings.cache_clear()
    bridge = deployed.bridge
    bridge.reset()
    # The flow's invocations, in-process: the handler's body, without the Powertools wrappers (which would flush the
    # router's metrics and clear its log keys mid-invocation)
    bridge.keypress = keypress.respond
    for service in ("connect", "sns", "ses", "pinpoint-sms-voice-v2"):
        bridge.attach(clients.client(service))  # the handlers' clients live as long as the deployment
        bridge.attach(clients.send_client(service))  # and the ones that make the sends
    dlq_url = deployed.deployment.output("DeadLetterQueueUrl")
    yield Clarion(bridge, deployed.env, deployed.events_queue_url, dlq_url, deployed.deployment)
    settings.settings.cache_clear()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The router's waits, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(deliver_alert, "sleep", recorded.append)
    return recorded


@pytest.fixture
def output(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Output]:
    """Everything the function writes to stdout: JSON log lines and EMF metric blobs."""
    monkeypatch.setattr(logger.registered_handler, "stream", CurrentStdout())
    yield Output(capsys)


@pytest.fixture
def api(clarion: Any) -> Any:
    """The intake API, with the contact its suites alert (Dr Alice) on file."""
    idempotency.once.cache_clear()
    contacts_repo.put_contact(ALICE, "2026-01-01T00:00:00Z")
    yield clarion
    idempotency.once.cache_clear()
