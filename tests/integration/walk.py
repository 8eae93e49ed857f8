"""Driving an alert's walk in-process: intake, then the router for each queued delivery, the escalator for each
timer, at a chosen moment. The real-time behaviour (timers firing by themselves) is proven end to end in
`tests/system/test_escalation.py`; here each step is taken by hand so every branch can be reached exactly."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3

from clarion import names
from clarion.adapters import contacts, delivery_log, policies
from clarion.domain.escalation import Policy, Stage
from clarion.domain.models import Contact
from clarion.domain.timers import Timer
from clarion.handlers import contacts as contacts_api
from clarion.handlers import intake, router
from clarion.shared import clock
from clarion.usecases import advance_walk
from tests.helpers import FakeContext, sqs_record
from tests.integration.api_events import api_event, call

UPDATED = "2026-01-01T00:00:00Z"
CONTACTS = {
    "C-1": Contact("C-1", "Dr Ada", phone_call="+447700900101", phone_sms="+447700900101", email="ada@example.org"),
    "C-2": Contact("C-2", "Nurse Ben", phone_sms="+447700900102", email="ben@example.org"),
    "C-3": Contact("C-3", "Dr Cleo", email="cleo@example.org"),
    "C-4": Contact("C-4", "Pharmacy", email="pharmacy@example.org"),
}
WARD = Policy("ward-7b", "Ward 7B", (Stage(("C-2",), 300), Stage(("C-3", "C-4"), 600)), repeat=0)


def alert_body(message_id: str = "lab-1", priority: str = "H", **extra: Any) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "type": "critical_lab_result",
        "patient_id": "anon-7f3a",
        "contact_id": "C-1",
        "description": "Potassium 6.9 mmol/L, ward 7",
        "priority": priority,
        **extra,
    }


@dataclass
class Walk:
    clarion: Any
    message_id: str = "lab-1"
    client_id: str = "lab-system"
    delivered: list[dict[str, Any]] = field(default_factory=list)

    # --- set-up -----------------------------------------------------------------------------
    def given_contacts_and_policy(self, policy: Policy | None = WARD) -> None:
        for contact in CONTACTS.values():
            contacts.put_contact(contact, UPDATED)
        if policy is not None:
            policies.put_policy(policy, UPDATED)

    # --- the API ---------------------------------------------------------------------------------
    def post_alert(self, **body: Any) -> tuple[int, Any]:
        return call(intake.handler, api_event("POST", "/alerts", alert_body(self.message_id, **body)))

    def get(self) -> dict[str, Any]:
        status, body = call(intake.handler, api_event("GET", f"/alerts/{self.message_id}"))
        assert status == 200, body
        return dict(body)

    def answer(self, kind: str, contact_id: str, **extra: Any) -> tuple[int, Any]:
        path = f"/alerts/{self.message_id}/{kind}"
        return call(intake.handler, api_event("POST", path, {"contact_id": contact_id, **extra}))

    def admin(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return call(contacts_api.handler, api_event(method, path, body, client_id="ops", scopes="admin"))

    # --- the queues ------------------------------------------------------------------------------
    def _receive(self, env_name: str) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs")
        url = self.clarion.env[env_name]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        records = []
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
            messages = got.get("Messages", [])
            if not messages:
                return records
            for m in messages:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                records.append(sqs_record(m, arn))

    def deliveries(self) -> list[dict[str, Any]]:
        """Every delivery waiting on the alert queue (taken off it)."""
        return [json.loads(r["body"]) for r in self._receive(names.ENV_ALERT_QUEUE_URL)]

    def route_all(self) -> list[dict[str, Any]]:
        """Run the router on every queued delivery; the deliveries it handled."""
        records = self._receive(names.ENV_ALERT_QUEUE_URL)
        if records:
            assert router.handler({"Records": records}, FakeContext()) == {"batchItemFailures": []}
        handled = [json.loads(r["body"]) for r in records]
        self.delivered.extend(handled)
        return handled

    def timers_due_now(self) -> list[Timer]:
        """Timers that SQS would hand over now (no delay left): checks sent by a decline or a failure."""
        return [Timer.parse(r["body"]) for r in self._receive(names.ENV_TIMER_QUEUE_URL)]

    def delayed_timers(self) -> int:
        sqs = boto3.client("sqs")
        attributes = sqs.get_queue_attributes(
            QueueUrl=self.clarion.env[names.ENV_TIMER_QUEUE_URL], AttributeNames=["ApproximateNumberOfMessagesDelayed"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessagesDelayed"])

    def fire(self, stage: int, at: float, receive_count: int = 1, monkeypatch: Any = None) -> None:
        """The escalator handles the timer of `stage` as if it were `at` (epoch seconds) now."""
        assert monkeypatch is not None
        monkeypatch.setattr(clock, "time", lambda: at)
        advance_walk.advance(Timer(self.client_id, self.message_id, stage, at), receive_count)

    def record(self) -> delivery_log.AlertRecord:
        found = delivery_log.get_alert(self.client_id, self.message_id)
        assert found is not None
        return found

    def window_end(self, stage: int | None = None) -> float:
        """When the current (or given) stage's window ends, from the log."""
        from datetime import datetime

        record = self.record()
        stage = record.stage if stage is None else stage
        started = next(s["started_at"] for s in record.stages if int(s["stage"]) == stage)
        moment = datetime.fromisoformat(str(started).replace("Z", "+00:00")).timestamp()
        return moment + record.path[stage].ack_within_s
