"""The local providers' delivery receipts, sent the way the real ones are.

- SES: the configuration set's event (Delivery, or a permanent Bounce) published to the receipts topic;
- Amazon Connect: as the call starts, the contact flow asks the keypress function for its words by the call's handle
  (`flow_words`: what the phone hears; without them, the flow's `UNAVAILABLE` sentence, and the call ends with no
  keypress). An answered call waits for the clinician's keypress (`answer`, as `POST /_local/voice/<id>/answer`
  plays it); the contact flow's report goes to the keypress function, then the DISCONNECTED contact event goes on
  EventBridge's default bus, whose rule sends it to the receipts queue. A call nobody answers with a key within
  `call_wait_s` ends as the flow ends it: no keypress. An `unanswered` call rings out (TELECOM_UNANSWERED);
- End User Messaging SMS: the SMS event (TEXT_DELIVERED, or TEXT_UNREACHABLE) published to the receipts topic;
- SMS through SNS: SNS's delivery-status log line (SUCCESS, or FAILURE) in the log group it belongs to, handed to
  the function that group's subscription filter names, as CloudWatch Logs hands it (`awslogs_event`). Without a
  subscription (delivery status off), there is none, as on AWS.

A receipt goes out `delay_s` after the send returns, from a thread of its own, as a provider's comes after its
API call has answered. A receipt fault changes what it says, or sends none.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

RECEIPT_DELAY_S = 0.1
CALL_WAIT_S = 3.0  # how long a local phone that was called waits for a keypress before it hangs up
# What the contact flow says when it cannot fetch the words (its `say-unavailable` block), before reporting no key.
UNAVAILABLE = "This is Clarion. An alert for you could not be read out. Please check Clarion now. Goodbye."
_TAG = re.compile(r"<[^>]*>")


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ses_event(message_id: str, params: dict[str, Any], bounced: bool) -> dict[str, Any]:
    now = _iso(datetime.now(UTC))
    tags = {t["Name"]: [t["Value"]] for t in params.get("Tags", [])}
    mail = {
        "timestamp": now,
        "messageId": message_id,
        "source": params.get("Source"),
        "destination": params.get("Destination", {}).get("ToAddresses", []),
        "tags": tags,
    }
    if bounced:
        recipients = [{"emailAddress": a, "status": "5.1.1", "action": "failed"} for a in mail["destination"]]
        detail = {"bounceType": "Permanent", "bounceSubType": "General", "bouncedRecipients": recipients}
        return {"eventType": "Bounce", "mail": mail, "bounce": {**detail, "timestamp": now}}
    return {"eventType": "Delivery", "mail": mail, "delivery": {"timestamp": now, "recipients": mail["destination"]}}


def sms_event(message_id: str, params: dict[str, Any], delivered: bool) -> dict[str, Any]:
    now_ms = int(time.time() * 1000)
    return {
        "eventType": "TEXT_DELIVERED" if delivered else "TEXT_UNREACHABLE",
        "eventVersion": "1.0",
        "eventTimestamp": now_ms,
        "isFinal": True,
        "originationPhoneNumber": params.get("OriginationIdentity"),
        "destinationPhoneNumber": params.get("DestinationPhoneNumber"),
        "messageId": message_id,
        "messageStatus": "DELIVERED" if delivered else "UNREACHABLE",
        "context": params.get("Context", {}),
    }


def sns_sms_status_line(message_id: str, params: dict[str, Any], delivered: bool) -> str:
    """A line of SNS's SMS delivery-status log, as SNS writes it (destination, carrier and price included)."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    delivery = {
        "mnc": 0,
        "destination": params.get("PhoneNumber"),
        "priceInUSD": 0.00645,
        "smsType": "Transactional",
        "mcc": 0,
        "providerResponse": "Message has been accepted by phone carrier"
        if delivered
        else "Phone is currently unreachable/unavailable",
        "dwellTimeMs": 100,
    }
    if delivered:
        delivery["phoneCarrier"] = "Local carrier"
    entry = {"notification": {"messageId": message_id, "timestamp": now}, "delivery": delivery}
    return json.dumps({**entry, "status": "SUCCESS" if delivered else "FAILURE"})


def awslogs_event(group: str, lines: list[str], account: str = "123456789012") -> dict[str, Any]:
    """What a CloudWatch Logs subscription filter invokes its function with: the batch, gzipped, base64."""
    now_ms = int(time.time() * 1000)
    data = {
        "messageType": "DATA_MESSAGE",
        "owner": account,
        "logGroup": group,
        "logStream": "local",
        "subscriptionFilters": ["local"],
        "logEvents": [{"id": str(now_ms + i), "timestamp": now_ms, "message": line} for i, line in enumerate(lines)],
    }
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(data).encode())).decode()}}


def sns_sms_group(region: str, account: str, delivered: bool) -> str:
    group = f"sns/{region}/{account}/DirectPublishToPhoneNumber"
    return group if delivered else f"{group}/Failure"


def flow_answer(digits: str) -> str:
    """What the contact flow reports for the keys pressed: 1 or 3 at the first ask, or after one 2 (which repeats
    the message and asks again); anything else, or nothing, is "none"."""
    first, again = digits[:1], digits[1:2]
    if first in ("1", "3"):
        return first
    if first == "2" and again in ("1", "3"):
        return again
    return "none"


def flow_event(
    contact_id: str,
    instance_arn: str,
    digit: str,
    attributes: dict[str, str] | None = None,
    parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What the contact flow's InvokeLambdaFunction block sends the keypress function: the digit reported (or the
    block's other `parameters`), and the contact's attributes."""
    return {
        "Name": "ContactFlowEvent",
        "Details": {
            "ContactData": {
                "ContactId": contact_id,
                "InitialContactId": contact_id,
                "Channel": "VOICE",
                "InitiationMethod": "API",
                "InstanceARN": instance_arn,
                "Attributes": dict(attributes or {}),
            },
            "Parameters": dict(parameters) if parameters is not None else {"digit": digit},
        },
    }


def spoken(ssml: str) -> str:
    """What text-to-speech says for `ssml`: its text, without the markup."""
    return html.unescape(_TAG.sub("", ssml))


def flow_words(
    keypress: Callable[[dict[str, Any]], Any] | None, contact_id: str, instance_arn: str, attributes: dict[str, str]
) -> str | None:
    """The flow's first steps: ask the keypress function for the words by the call's handle (`$.Attributes.call`)
    and check its answer. What the phone hears, or None where the flow takes its error branch."""
    if keypress is None:
        return None
    words = {"action": "words", "call": str(attributes.get("call", ""))}
    try:
        answer = keypress(flow_event(contact_id, instance_arn, "", attributes, parameters=words))
    except Exception:  # any failure of the invocation takes the block's error branch, as on Connect
        return None
    if not isinstance(answer, dict) or answer.get("result") != "words" or not answer.get("ssml"):
        return None
    return spoken(str(answer["ssml"]))


def call_detail(contact_id: str, instance_arn: str, answered: bool) -> dict[str, Any]:
    now = _iso(datetime.now(UTC))
    detail: dict[str, Any] = {
        "contactId": contact_id,
        "channel": "VOICE",
        "instanceArn": instance_arn,
        "initiationMethod": "API",
        "initiationTimestamp": now,
    }
    if answered:  # the end of an answered call: the flow hung up after the keypress, or without one
        return {**detail, "eventType": "DISCONNECTED", "connectedToSystemTimestamp": now, "disconnectTimestamp": now}
    return {**detail, "eventType": "DISCONNECTED", "disconnectTimestamp": now, "disconnectReason": "TELECOM_UNANSWERED"}


@dataclass
class LocalReceipts:
    """Sends receipts through the emulator: `sns` and `events` are clients of it (not of Clarion's functions)."""

    sns: Any
    events: Any
    topic_arn: str
    instance_arn: str | None
    delay_s: float = RECEIPT_DELAY_S
    # Invokes the keypress function with a flow event (the local system's function pool); None: no flow to run.
    keypress: Callable[[dict[str, Any]], Any] | None = None
    call_wait_s: float = CALL_WAIT_S
    # Log group name -> what its subscription filter invokes (the function, with an `awslogs` event).
    log_subscribers: dict[str, Callable[[dict[str, Any]], Any]] = field(default_factory=dict)
    region: str = "eu-west-2"
    account: str = "123456789012"
    sent: list[dict[str, Any]] = field(default_factory=list)  # what went out, for the outbox and tests
    ringing: set[str] = field(default_factory=set)  # calls answered and waiting for a keypress
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def emit(
        self, channel: str, provider_id: str, params: dict[str, Any], fault: str | None, unheard: bool = False
    ) -> None:
        """The receipt for a send that succeeded; `fault` is the receipt fault armed for it, if any. `unheard`: a call
        whose flow had no words to say, which reports no key at once."""
        if fault == "no_receipt":
            self._note(channel, provider_id, "none")
            return
        if channel == "call" and fault is None:
            with self._lock:  # the phone rings as the call starts: it can be answered at once
                self.ringing.add(provider_id)
            wait = self.delay_s if unheard else self.call_wait_s
            hang_up = threading.Timer(wait, self.answer, args=(provider_id, ""))
            hang_up.daemon = True
            hang_up.start()
            return
        timer = threading.Timer(self.delay_s, self._send, args=(channel, provider_id, params, fault))
        timer.daemon = True
        timer.start()

    def _send(self, channel: str, provider_id: str, params: dict[str, Any], fault: str | None) -> None:
        try:
            if channel == "email":
                event = ses_event(provider_id, params, bounced=fault in ("bounce", "undelivered"))
                self.sns.publish(TopicArn=self.topic_arn, Message=json.dumps(event))
                self._note(channel, provider_id, event["eventType"])
            elif channel == "sms" and "PhoneNumber" in params:  # through SNS: its delivery-status log
                self._sns_sms_status(provider_id, params, delivered=fault is None)
            elif channel == "sms":
                event = sms_event(provider_id, params, delivered=fault is None)
                self.sns.publish(TopicArn=self.topic_arn, Message=json.dumps(event))
                self._note(channel, provider_id, event["eventType"])
            elif channel == "call" and self.instance_arn:  # unanswered: it rang out
                self._call_event(provider_id, answered=False)
                self._note(channel, provider_id, "TELECOM_UNANSWERED")
        except Exception as error:  # a receipt lost here is what the deadline is for; say so
            self._note(channel, provider_id, f"lost: {type(error).__name__}")

    def _sns_sms_status(self, message_id: str, params: dict[str, Any], delivered: bool) -> None:
        group = sns_sms_group(self.region, self.account, delivered)
        subscriber = self.log_subscribers.get(group)
        if subscriber is None:  # delivery status off: SNS logs nothing anyone reads
            self._note("sms", message_id, "none")
            return
        line = sns_sms_status_line(message_id, params, delivered)
        subscriber(awslogs_event(group, [line], self.account))
        self._note("sms", message_id, json.loads(line)["status"])

    def answer(self, contact_id: str, digits: str) -> Any:
        """The called phone answers the flow with `digits` ("" for none): the flow reports it to the keypress
        function, then hangs up. None when the call is not waiting for a keypress (never made, or ended)."""
        with self._lock:
            if contact_id not in self.ringing:
                return None
            self.ringing.discard(contact_id)
        digit = flow_answer(digits)
        assert self.instance_arn
        result = self.keypress(flow_event(contact_id, self.instance_arn, digit)) if self.keypress else None
        self._call_event(contact_id, answered=True)
        self._note("call", contact_id, f"KEYPRESS_{digit}" if digit != "none" else "NO_KEYPRESS")
        return result

    def _call_event(self, contact_id: str, answered: bool) -> None:
        assert self.instance_arn
        detail = call_detail(contact_id, self.instance_arn, answered)
        entry = {"Source": "aws.connect", "DetailType": "Amazon Connect Contact Event", "Detail": json.dumps(detail)}
        self.events.put_events(Entries=[entry])

    def _note(self, channel: str, provider_id: str, kind: str) -> None:
        with self._lock:
            self.sent.append(
                {"channel": channel, "provider_id": provider_id, "receipt": kind, "at": datetime.now(UTC).isoformat()}
            )

    def receipt_for(self, provider_id: str) -> str | None:
        with self._lock:
            return next((r["receipt"] for r in reversed(self.sent) if r["provider_id"] == provider_id), None)
