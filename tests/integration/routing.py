"""Routing one alert in-process against the emulator, as the router suites do it: a contact and an accepted alert,
the alert queue's event, and reading back the log, the events and what the function wrote to stdout."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from clarion import names
from clarion.adapters import contacts, delivery_log
from clarion.domain.models import Alert, Contact, Priority
from clarion.handlers import router
from tests.helpers import FakeContext, sqs_record

PATIENT_ID = "PAT-99887766"
CONTACT = Contact(
    contact_id="C-1",
    name="Dr Ada Byron",
    phone_call="+447700900001",
    phone_sms="+447700900002",
    email="ada@clarion.example.org",
)


class CurrentStdout:
    """Writes to whatever `sys.stdout` is at the time (pytest swaps it between set-up and call)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


class Output:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys
        self.text = ""

    def read(self) -> str:
        self.text += self._capsys.readouterr().out
        return self.text

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.read().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out

    def metric(self, name: str, channel: str | None = None) -> float:
        """Sum of `name` over every EMF blob (aggregate blobs only, or one channel's copies)."""
        total = 0.0
        for blob in self.lines():
            if "_aws" not in blob or name not in blob or blob.get("channel") != channel:
                continue
            value = blob[name]
            total += sum(value) if isinstance(value, list) else value
        return total

    def logs(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if "_aws" not in line]


def make_alert(priority: Priority, type_: str = "critical_lab_result", message_id: str = "msg-001") -> Alert:
    return Alert(
        client_id="lab-system",
        message_id=message_id,
        type=type_,
        contact_id=CONTACT.contact_id,
        description="Potassium 6.9 mmol/L on ward 7",
        priority=priority,
        accepted_at=(datetime.now(UTC) - timedelta(seconds=2)).isoformat(),
        plan=CONTACT.plan(priority, call_enabled=True),
    )


def given_accepted(alert: Alert, contact: Contact | None = CONTACT) -> None:
    if contact is not None:
        contacts.put_contact(contact, updated_at="2025-01-01T00:00:00+00:00")
    delivery_log.create_alert(alert)


def queue_event(clarion: Any, *bodies: str) -> dict[str, Any]:
    """Put `bodies` on the alert queue and receive them, shaped as the SQS event source mapping delivers them."""
    sqs = boto3.client("sqs")
    url = clarion.env[names.ENV_ALERT_QUEUE_URL]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    return {"Records": [sqs_record(m, arn) for m in received]}


def route(clarion: Any, alert: Alert, context: FakeContext | None = None) -> dict[str, Any]:
    return router.handler(queue_event(clarion, json.dumps(alert.to_message())), context or FakeContext())


def statuses(clarion: Any) -> list[str]:
    return [e["message"]["status"] for e in clarion.events()]


def log_of(alert: Alert) -> delivery_log.AlertRecord:
    record = delivery_log.get_alert(alert.client_id, alert.message_id)
    assert record is not None
    return record


def outcomes(alert: Alert) -> list[tuple[str, int, str]]:
    return [(a.channel.value, a.attempt, a.outcome.value) for a in log_of(alert).attempts]
