"""Two-way SMS for the integration suites: the replies function on the dev deployment, a clinician's reply handed to
it through the real inbound topic and replies queue, and what the function wrote (texts sent, metrics, warnings)."""

from __future__ import annotations

import json
import sys
from typing import Any

import boto3
import pytest

from clarion import names
from clarion.adapters import reply_codes
from clarion.handlers import replies
from clarion.shared import settings
from clarion.shared.observability import logger
from tests.helpers import FakeContext, sqs_record
from tests.integration.walk import CONTACTS, Walk

ADA, BEN = CONTACTS["C-1"].phone_sms, CONTACTS["C-2"].phone_sms
assert ADA and BEN


class _CurrentStdout:
    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def use_two_way(clarion: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """SMS through End User Messaging, as the dev deployment has it (its identity and configuration set), and
    receipts awaited as deployed (nobody sends them here: an attempt stays `sent` until its answer); log lines to
    the test's stdout (capsys reads them)."""
    router_env = clarion.deployment.function_for(names.ROUTER_HANDLER).environment
    for key in (names.ENV_SMS_ORIGINATION, names.ENV_SMS_CONFIGURATION_SET, names.ENV_RECEIPT_TIMEOUTS):
        monkeypatch.setenv(key, router_env[key])
    settings.settings.cache_clear()
    monkeypatch.setattr(logger.registered_handler, "stream", _CurrentStdout())
    return clarion


def texts_to(clarion: Any, number: str) -> list[str]:
    return [e["text"] for e in clarion.outbox if e["channel"] == "sms" and e["destination"] == number]


def reply(clarion: Any, number: str, text: str) -> None:
    """The clinician's reply, as End User Messaging publishes it to the inbound topic, handed to the function."""
    inbound = {
        "originationNumber": number,
        "destinationNumber": "+12025550142",
        "messageKeyword": text.split()[0].upper() if text.split() else "",
        "messageBody": text,
        "inboundMessageId": "in-" + str(len(clarion.outbox)),
        "previousPublishedMessageId": None,
    }
    boto3.client("sns").publish(TopicArn=clarion.deployment.output("InboundSmsTopicArn"), Message=json.dumps(inbound))
    sqs = boto3.client("sqs")
    url = clarion.deployment.output("RepliesQueueUrl")
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert len(got) == 1  # it came through the topic's subscription, raw
    event = {"Records": [sqs_record(m, arn) for m in got]}
    assert replies.handler(event, FakeContext()) == {"batchItemFailures": []}
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])


def alert_to(walk: Walk, contact_id: str, priority: str = "M", **extra: Any) -> str:
    """Post an alert to `contact_id` and route it: the code its SMS carries."""
    status, _ = walk.post_alert(priority=priority, contact_id=contact_id, **extra)
    assert status == 202
    walk.route_all()
    number = CONTACTS[contact_id].phone_sms
    assert number
    (code,) = [c for c, e in reply_codes.entries(number).items() if e.message_id == walk.message_id]
    return code


def metric(out: str, name: str) -> float:
    """The total of the EMF metric `name` in the function's output `out`."""
    total = 0.0
    for line in out.splitlines():
        if '"_aws"' in line and f'"{name}"' in line:
            value = json.loads(line)[name]
            total += sum(value) if isinstance(value, list) else value
    return total


def warnings_in(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if '"level":"WARNING"' in line.replace(" ", "")]
