"""Provider bridge: records every message a provider would send and injects provider faults.

It hooks the botocore event system of the handlers' own clients:
- Amazon Connect `StartOutboundVoiceContact` is not emulated, so the bridge answers it and records the call with
  what its flow says: the words the keypress function returns for the call's handle (`receipts.flow_words`);
- SNS `Publish` to a phone number and SES `SendTemplatedEmail` go to the emulator and are recorded after success;
- a fault armed for a channel makes its next calls fail the way the real provider fails
  (`throttle`: a throttling error, `outage`: a 5xx, `reject`: a permanent 4xx);
- after a send succeeds, `receipts` (`clarion_local.receipts`) sends its delivery receipt as the provider would,
  unless a receipt fault says otherwise (`bounce` and `undelivered`: a failure receipt, `unanswered`: the call
  rang out, `no_receipt`: none at all).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from clarion_local.receipts import UNAVAILABLE, flow_words

if TYPE_CHECKING:
    from clarion_local.receipts import LocalReceipts

SEND_FAULTS = ("throttle", "outage", "reject")
CHANNELS = ("call", "sms", "email")
# Receipt faults, and the channels whose provider reports them.
RECEIPT_FAULTS: dict[str, tuple[str, ...]] = {
    "bounce": ("email",),
    "undelivered": ("sms", "email"),
    "unanswered": ("call",),
    "no_receipt": CHANNELS,
}
FAULT_MODES = SEND_FAULTS + tuple(RECEIPT_FAULTS)
EUM_SERVICE = "pinpoint-sms-voice-v2"
_REPLY_CODE = re.compile(r"\bReply (\d+) to acknowledge")

_OPERATIONS = {
    "call": ("connect", "StartOutboundVoiceContact"),
    "sms": ("sns", "Publish"),
    "email": ("ses", "SendTemplatedEmail"),
}

# (HTTP status, error code, message) per channel and fault mode, as the real services answer.
_ERRORS: dict[str, dict[str, tuple[int, str, str]]] = {
    "call": {
        "throttle": (429, "ThrottlingException", "Rate exceeded"),
        "outage": (500, "InternalServiceException", "Request processing failed due to an internal error"),
        "reject": (400, "DestinationNotAllowedException", "Outbound calls to this destination are not allowed"),
    },
    "sms": {
        "throttle": (400, "Throttling", "Rate exceeded"),
        "outage": (500, "InternalError", "Internal service error"),
        "reject": (400, "InvalidParameter", "Invalid parameter: PhoneNumber is opted out"),
    },
    "email": {
        "throttle": (400, "Throttling", "Maximum sending rate exceeded."),
        "outage": (503, "ServiceUnavailable", "Service is unavailable"),
        # As SES in its sandbox answers: the refused address is in the message.
        "reject": (
            400,
            "MessageRejected",
            "Email address is not verified. The following identities failed the check in region US-EAST-1: {to}",
        ),
    },
}


# End User Messaging SMS's own errors (its JSON protocol) for the sms channel's faults.
EUM_ERRORS = {
    "throttle": (400, "ThrottlingException", "Rate exceeded"),
    "outage": (500, "InternalServerException", "Internal server error"),
    "reject": (400, "ValidationException", "The destination phone number is opted out"),
}


def text_params(params: dict[str, Any]) -> dict[str, Any]:
    """A SendTextMessage's parameters in the shape the outbox records an SMS in."""
    return {
        "PhoneNumber": params.get("DestinationPhoneNumber"),
        "Message": params.get("MessageBody"),
        "MessageAttributes": {},
        "OriginationIdentity": params.get("OriginationIdentity"),
    }


class _Http:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}
        self.content = b""
        self.text = ""


@dataclass
class Fault:
    channel: str
    mode: str
    count: int | None = None  # None: until `until`
    until: float | None = None  # monotonic deadline

    def active(self) -> bool:
        if self.count is not None:
            return self.count > 0
        return self.until is not None and time.monotonic() < self.until


@dataclass
class ProviderBridge:
    outbox: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _attached: list[Any] = field(default_factory=list)
    _calls_started: set[str] = field(default_factory=set)  # ClientTokens Connect has seen
    receipts: LocalReceipts | None = None  # set once the receipts topic exists; None: providers send no receipts
    # The keypress function as the contact flow invokes it, where there are no local receipts (in-process tests);
    # with them, theirs.
    keypress: Callable[[dict[str, Any]], Any] | None = None

    # --- faults -----------------------------------------------------------------------
    def add_fault(self, channel: str, mode: str, count: int | None = None, seconds: float | None = None) -> Fault:
        if channel not in CHANNELS:
            raise ValueError(f"channel must be one of {', '.join(CHANNELS)}")
        if mode not in FAULT_MODES:
            raise ValueError(f"mode must be one of {', '.join(FAULT_MODES)}")
        if channel not in RECEIPT_FAULTS.get(mode, CHANNELS):
            raise ValueError(f"mode {mode} is for {' and '.join(RECEIPT_FAULTS[mode])} only")
        if (count is None) == (seconds is None):
            raise ValueError("give exactly one of count or seconds")
        if count is not None and count < 1:
            raise ValueError("count must be at least 1")
        if seconds is not None and seconds <= 0:
            raise ValueError("seconds must be positive")
        fault = Fault(channel, mode, count=count, until=None if seconds is None else time.monotonic() + seconds)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def note_failure(self, channel: str, mode: str, code: str) -> None:
        with self._lock:
            self.failures.append({"channel": channel, "mode": mode, "code": code, "at": datetime.now(UTC).isoformat()})

    def reset(self) -> None:
        """Forget every recorded message, failure and fault."""
        with self._lock:
            self.outbox.clear()
            self.failures.clear()
            self.faults.clear()
            self._calls_started.clear()

    def take_fault(self, channel: str, modes: tuple[str, ...] = SEND_FAULTS) -> Fault | None:
        """The first active fault for `channel` among `modes` (one use of it is taken)."""
        with self._lock:
            self.faults = [f for f in self.faults if f.active()]
            for fault in self.faults:
                if fault.channel == channel and fault.mode in modes:
                    if fault.count is not None:
                        fault.count -= 1
                    return fault
        return None

    # --- wiring -----------------------------------------------------------------------
    def attach(self, client: Any) -> None:
        """Hook one boto3 client (connect, sns or ses); hooking the same client again does nothing."""
        if any(c is client for c in self._attached):
            return
        self._attached.append(client)
        service = client.meta.service_model.service_name
        if service == EUM_SERVICE:  # End User Messaging SMS is not emulated: answered here, as Connect is
            events = client.meta.events
            events.register(f"before-parameter-build.{service}.SendTextMessage", self._stash_params)
            events.register(f"before-call.{service}.SendTextMessage", self._send_text)
            return
        for channel, (svc, operation) in _OPERATIONS.items():
            if svc != service:
                continue
            events = client.meta.events
            events.register(f"before-parameter-build.{svc}.{operation}", self._stash_params)
            events.register(f"before-call.{svc}.{operation}", self._before_call(channel))
            events.register(f"after-call.{svc}.{operation}", self._after_call(channel))

    @staticmethod
    def _stash_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["clarion_params"] = dict(params)

    def _before_call(self, channel: str) -> Any:
        def handler(context: dict[str, Any], **_: Any) -> Any:
            params = context.get("clarion_params", {})
            if channel == "sms" and "PhoneNumber" not in params:
                return None  # a topic publish, not an SMS
            fault = self.take_fault(channel)
            if fault is not None:
                status, code, message = error_for(channel, fault.mode, _to(params))
                self.note_failure(channel, fault.mode, code)
                body = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
                return _Http(status), body
            if channel == "call":
                contact_id = self.start_call(params)
                return _Http(200), {"ContactId": contact_id, "ResponseMetadata": {"HTTPStatusCode": 200}}
            return None

        return handler

    def _after_call(self, channel: str) -> Any:
        def handler(context: dict[str, Any], parsed: dict[str, Any], http_response: Any, **_: Any) -> None:
            params = context.get("clarion_params", {})
            if channel == "call" or (channel == "sms" and "PhoneNumber" not in params):
                return  # calls are answered and recorded in before-call; topic publishes are not SMS
            if getattr(http_response, "status_code", 500) >= 300:
                return
            self.record(channel, params, parsed.get("MessageId"))
            # Email's receipt and SNS's SMS delivery status; through End User Messaging, see _send_text.
            self.send_receipt(channel, str(parsed.get("MessageId")), params)

        return handler

    def _send_text(self, context: dict[str, Any], **_: Any) -> Any:
        params = context.get("clarion_params", {})
        fault = self.take_fault("sms")
        if fault is not None:
            status, code, message = EUM_ERRORS[fault.mode]
            self.note_failure("sms", fault.mode, code)
            body = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
            return _Http(status), body
        message_id = str(uuid.uuid4())
        self.record("sms", text_params(params), message_id)
        if params.get("ConfigurationSetName"):
            self.send_receipt("sms", message_id, params)
        return _Http(200), {"MessageId": message_id, "ResponseMetadata": {"HTTPStatusCode": 200}}

    def start_call(self, params: dict[str, Any]) -> str:
        """Answer StartOutboundVoiceContact as Connect does: a repeated ClientToken returns the first call's
        ContactId and rings nobody again."""
        token = params.get("ClientToken") or str(uuid.uuid4())
        contact_id = str(uuid.uuid5(uuid.NAMESPACE_URL, token))
        with self._lock:
            repeated = token in self._calls_started
            self._calls_started.add(token)
        if not repeated:
            # The flow asks for its words before this answers: nothing but the handle can find them yet.
            words = self.flow_words(contact_id, params)
            self.record("call", params, contact_id, heard=words or UNAVAILABLE)
            self.send_receipt("call", contact_id, params, unheard=words is None)
        return contact_id

    def flow_words(self, contact_id: str, params: dict[str, Any]) -> str | None:
        """What the call's flow says, fetched from the keypress function by the call's attributes; None: nothing."""
        keypress = self.keypress or (self.receipts.keypress if self.receipts else None)
        instance_arn = (self.receipts.instance_arn if self.receipts else None) or ""
        return flow_words(keypress, contact_id, instance_arn, dict(params.get("Attributes") or {}))

    def send_receipt(self, channel: str, provider_id: str, params: dict[str, Any], unheard: bool = False) -> None:
        if self.receipts is None:
            return
        fault = self.take_fault(channel, tuple(RECEIPT_FAULTS))
        if fault is not None:
            self.note_failure(channel, fault.mode, fault.mode)
        self.receipts.emit(channel, provider_id, params, fault.mode if fault else None, unheard=unheard)

    def record(self, channel: str, params: dict[str, Any], provider_id: str | None, heard: str | None = None) -> None:
        """One send in the outbox; a call's text is what its flow said (`heard`), never its attributes."""
        entry: dict[str, Any] = {"channel": channel, "at": datetime.now(UTC).isoformat(), "provider_id": provider_id}
        if channel == "call":
            entry.update(
                destination=params.get("DestinationPhoneNumber"),
                text=heard,
                client_token=params.get("ClientToken"),
                attributes=params.get("Attributes", {}),
            )
        elif channel == "sms":
            attributes = {k: v.get("StringValue") for k, v in params.get("MessageAttributes", {}).items()}
            text = params.get("Message")
            code = _REPLY_CODE.search(text or "")
            entry.update(destination=params.get("PhoneNumber"), text=text, attributes=attributes)
            entry.update(reply_code=code.group(1) if code else None)
        else:
            tags = {t["Name"]: t["Value"] for t in params.get("Tags", [])}
            entry.update(
                destination=", ".join(params.get("Destination", {}).get("ToAddresses", [])),
                message_id=tags.get("message_id"),
                attempt=_int(tags.get("attempt")),
                template=params.get("Template"),
                template_data=json.loads(params.get("TemplateData") or "{}"),
            )
        with self._lock:
            self.outbox.append(entry)


def error_for(channel: str, mode: str, to: str = "") -> tuple[int, str, str]:
    """(HTTP status, error code, message) the real provider answers for `mode` (to the destination `to`)."""
    status, code, message = _ERRORS[channel][mode]
    return status, code, message.replace("{to}", to)


def _to(params: dict[str, Any]) -> str:
    """The destination a provider names in its refusal: the first To address of an email."""
    addresses = (params.get("Destination") or {}).get("ToAddresses") or [""]
    return str(addresses[0])


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
