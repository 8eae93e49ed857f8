"""SNS's SMS delivery status: its log lines read as receipts with nothing of the destination kept, and the
CloudWatch Logs subscription event the SMS status function is invoked with."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clarion.domain import receipts
from clarion.domain.models import Channel, Outcome
from clarion.handlers import sms_status
from clarion.shared import clients
from clarion.usecases import forward_sms_status
from clarion_local.receipts import awslogs_event, sns_sms_status_line

NUMBER = "+447700900123"


def line(status: str = "SUCCESS", message_id: str = "34d9b400-c6dd-5444-820d-fbeb0f1f54cf") -> str:
    # SNS's own example of a delivery-status line (its documentation), with our fictional number
    return json.dumps(
        {
            "notification": {"messageId": message_id, "timestamp": "2016-06-28 00:40:34.558"},
            "delivery": {
                "phoneCarrier": "My Phone Carrier",
                "mnc": 270,
                "destination": NUMBER,
                "priceInUSD": 0.00645,
                "smsType": "Transactional",
                "mcc": 310,
                "providerResponse": "Message has been accepted by phone carrier",
                "dwellTimeMs": 599,
                "dwellTimeMsUntilDeviceAck": 1344,
            },
            "status": status,
        }
    )


@pytest.mark.parametrize(("status", "outcome"), [("SUCCESS", Outcome.DELIVERED), ("FAILURE", Outcome.UNDELIVERED)])
def test_a_status_line_becomes_a_receipt_with_the_message_id_and_time_only(status: str, outcome: Outcome) -> None:
    body = receipts.sns_sms_body(line(status))
    assert body is not None
    assert NUMBER not in json.dumps(body) and "Carrier" not in json.dumps(body) and "price" not in json.dumps(body)
    receipt = receipts.read(json.loads(json.dumps(body)))  # as it comes off the queue
    assert receipt is not None
    assert (receipt.channel, receipt.provider_id, receipt.outcome, receipt.kind) == (
        Channel.SMS,
        "34d9b400-c6dd-5444-820d-fbeb0f1f54cf",
        outcome,
        status,
    )
    assert receipt.at == "2016-06-28T00:40:34.558Z"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        json.dumps({"notification": {"messageId": "m"}, "status": "PENDING"}),
        json.dumps({"notification": {}, "status": "SUCCESS"}),
        json.dumps({"status": "SUCCESS"}),
    ],
)
def test_anything_else_is_no_receipt(text: str) -> None:
    assert receipts.sns_sms_body(text) is None


@given(st.text(max_size=200))
def test_reading_a_line_never_raises(text: str) -> None:
    body = receipts.sns_sms_body(text)
    assert body is None or receipts.read(body) is not None


def test_the_subscription_event_is_unpacked_and_control_messages_skipped() -> None:
    event = awslogs_event("sns/eu-west-2/123456789012/DirectPublishToPhoneNumber", [line(), line("FAILURE")])
    assert sms_status.log_lines(event) == [line(), line("FAILURE")]
    control = {"messageType": "CONTROL_MESSAGE", "logEvents": [{"message": "CWL CONTROL MESSAGE"}]}
    data = base64.b64encode(gzip.compress(json.dumps(control).encode())).decode()
    assert sms_status.log_lines({"awslogs": {"data": data}}) == []
    assert sms_status.log_lines({"awslogs": {"data": "not base64 gzip"}}) == []
    assert sms_status.log_lines({}) == []


def test_the_local_sns_writes_lines_as_sns_does() -> None:
    text = sns_sms_status_line("m-1", {"PhoneNumber": NUMBER}, delivered=False)
    assert json.loads(text)["delivery"]["destination"] == NUMBER  # the account's log keeps it; Clarion does not
    assert receipts.sns_sms_body(text) == {
        "sns_sms_status": {
            "messageId": "m-1",
            "status": "FAILURE",
            "timestamp": json.loads(text)["notification"]["timestamp"],
        }
    }


class FakeSqs:
    def __init__(self, fail_ids: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.sent: list[dict[str, Any]] = []
        self.fail_ids = fail_ids

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        assert len(Entries) <= 10
        self.sent += [json.loads(e["MessageBody"]) for e in Entries]
        failed = [
            {"Id": e["Id"]}
            for e in Entries
            if json.loads(e["MessageBody"])["sns_sms_status"]["messageId"] in self.fail_ids
        ]
        return {"Failed": failed} if failed else {"Successful": []}


def test_lines_are_queued_ten_to_a_batch_and_a_batch_that_fails_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeSqs()
    monkeypatch.setattr(clients, "client", lambda service: fake)
    lines = [line(message_id=f"m-{i}") for i in range(23)] + ["garbage"]
    assert forward_sms_status.forward(lines, "https://queue") == 23
    assert [b["sns_sms_status"]["messageId"] for b in fake.sent] == [f"m-{i}" for i in range(23)]
    failing = FakeSqs({"m-3"})
    monkeypatch.setattr(clients, "client", lambda service: failing)
    with pytest.raises(forward_sms_status.NotQueuedError):
        forward_sms_status.forward(lines, "https://queue")
