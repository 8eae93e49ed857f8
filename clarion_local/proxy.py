"""The providers' front door: an HTTP proxy between the functions and the AWS emulator.

The functions run in their own processes with `AWS_ENDPOINT_URL` pointing here. Every request is passed to the
emulator unchanged, except the three that reach a person:
- Amazon Connect `StartOutboundVoiceContact` (not emulated) is answered here and recorded;
- SNS `Publish` to a phone number and SES `SendTemplatedEmail` go to the emulator and are recorded when it accepts,
  and the provider's delivery receipt follows (`ProviderBridge.send_receipt`: SES's event, SNS's delivery status);
- while a fault is armed for a channel, its sends fail here with the provider's own error, in the provider's wire
  format (XML for SNS and SES, JSON with `x-amzn-ErrorType` for Connect), so the SDK raises what AWS would.
Records and faults live in a `ProviderBridge`, shared with the in-process hooks the integration tests use.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from clarion_local.providers import EUM_ERRORS, ProviderBridge, error_for, text_params
from clarion_local.serving import serve

_SERVICE_RE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/(?P<service>[a-z0-9-]+)/aws4_request")
_XMLNS = {"sms": "http://sns.amazonaws.com/doc/2010-03-31/", "email": "http://ses.amazonaws.com/doc/2010-12-01/"}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


def query_params(form: dict[str, list[str]]) -> dict[str, Any]:
    """The SDK's parameters of an SNS Publish or SES SendTemplatedEmail, from its form-encoded body."""
    flat = {k: v[0] for k, v in form.items()}
    params: dict[str, Any] = {k: v for k, v in flat.items() if "." not in k}
    attributes: dict[str, dict[str, str]] = {}
    for key, value in flat.items():
        match = re.fullmatch(r"MessageAttributes\.entry\.(\d+)\.Name", key)
        if match:
            n = match.group(1)
            attributes[value] = {
                "DataType": flat.get(f"MessageAttributes.entry.{n}.Value.DataType", "String"),
                "StringValue": flat.get(f"MessageAttributes.entry.{n}.Value.StringValue", ""),
            }
    params["MessageAttributes"] = attributes
    to = [v for k, v in sorted(flat.items(), key=lambda kv: _member_index(kv[0])) if _is_member(k, "ToAddresses")]
    params["Destination"] = {"ToAddresses": to}
    tags = []
    for key, value in flat.items():
        match = re.fullmatch(r"Tags\.member\.(\d+)\.Name", key)
        if match:
            tags.append({"Name": value, "Value": flat.get(f"Tags.member.{match.group(1)}.Value", "")})
    params["Tags"] = tags
    return params


def _is_member(key: str, name: str) -> bool:
    return re.fullmatch(rf"Destination\.{name}\.member\.\d+", key) is not None


def _member_index(key: str) -> int:
    tail = key.rsplit(".", 1)[-1]
    return int(tail) if tail.isdigit() else 0


class ProviderProxy:
    """Serve the proxy on 127.0.0.1:`port` (0: any free port) in front of `upstream`."""

    def __init__(self, upstream: str, bridge: ProviderBridge, port: int = 0) -> None:
        self.upstream = urlsplit(upstream)
        self.bridge = bridge
        self.port = port
        self._stop: Callable[[], None] = lambda: None
        self.calls: Counter[str] = Counter()  # "service.Operation" -> AWS API calls the functions made
        self._calls_lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ProviderProxy:
        self.port, self._stop = serve("provider-proxy", self.port, self.respond, server_version="provider-proxy")
        return self

    def stop(self) -> None:
        self._stop()

    def respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list[Any], bytes]:
        status, response_headers, payload = self.intercept(method, path, headers, body) or self.forward(
            method, path, headers, body
        )
        return status, [(k, v) for k, v in response_headers if k.lower() not in _HOP_BY_HOP], payload

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list[Any], bytes]:
        conn_class = http.client.HTTPSConnection if self.upstream.scheme == "https" else http.client.HTTPConnection
        conn = conn_class(self.upstream.netloc, timeout=30)
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
            sent["Host"] = self.upstream.netloc
            sent["Content-Length"] = str(len(body))
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    # --- the three sends that reach a person ---------------------------------------------
    def count(self, service: str, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        target = headers.get("X-Amz-Target") or headers.get("x-amz-target")
        if target:
            operation = target.rsplit(".", 1)[-1]
        elif service in ("sns", "ses", "sts", "cloudformation"):
            operation = parse_qs(body.decode(errors="replace")).get("Action", ["?"])[0]
        else:
            operation = f"{method} {urlsplit(path).path.split('/')[1] if '/' in path else path}"
        with self._calls_lock:
            self.calls[f"{service}.{operation}"] += 1

    def intercept(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[Any], bytes] | None:
        match = _SERVICE_RE.search(headers.get("Authorization", ""))
        service = match.group("service") if match else ""
        self.count(service, method, path, headers, body)
        if service == "connect" and method == "PUT" and urlsplit(path).path == "/contact/outbound-voice":
            return self._call(json.loads(body or b"{}"))
        target = headers.get("X-Amz-Target") or headers.get("x-amz-target") or ""
        if service == "sms-voice" and target.endswith(".SendTextMessage"):
            return self._text(json.loads(body or b"{}"))
        if service in ("sns", "ses") and method == "POST":
            form = parse_qs(body.decode(), keep_blank_values=True)
            action = form.get("Action", [""])[0]
            if service == "sns" and action == "Publish" and form.get("PhoneNumber"):
                return self._query_send("sms", form, method, path, headers, body)
            if service == "ses" and action == "SendTemplatedEmail":
                return self._query_send("email", form, method, path, headers, body)
        return None

    def _call(self, params: dict[str, Any]) -> tuple[int, list[Any], bytes]:
        fault = self.bridge.take_fault("call")
        if fault is not None:
            status, code, message = error_for("call", fault.mode)
            self.bridge.note_failure("call", fault.mode, code)
            payload = json.dumps({"message": message}).encode()
            return status, [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)], payload
        contact_id = self.bridge.start_call(params)
        return 200, [("Content-Type", "application/json")], json.dumps({"ContactId": contact_id}).encode()

    def _text(self, params: dict[str, Any]) -> tuple[int, list[Any], bytes]:
        """End User Messaging SMS `SendTextMessage` (not emulated): answered here, recorded, and receipted."""
        json_type = [("Content-Type", "application/x-amz-json-1.0")]
        fault = self.bridge.take_fault("sms")
        if fault is not None:
            status, code, message = EUM_ERRORS[fault.mode]
            self.bridge.note_failure("sms", fault.mode, code)
            return status, json_type, json.dumps({"__type": code, "message": message}).encode()
        message_id = str(uuid.uuid4())
        self.bridge.record("sms", text_params(params), message_id)
        if params.get("ConfigurationSetName"):  # only sends with the configuration set produce events
            self.bridge.send_receipt("sms", message_id, params)
        return 200, json_type, json.dumps({"MessageId": message_id}).encode()

    def _query_send(
        self, channel: str, form: dict[str, list[str]], method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[Any], bytes]:
        fault = self.bridge.take_fault(channel)
        if fault is not None:
            to = (form.get("Destination.ToAddresses.member.1") or [""])[0]
            status, code, message = error_for(channel, fault.mode, to)
            self.bridge.note_failure(channel, fault.mode, code)
            kind = "Receiver" if status >= 500 else "Sender"
            xml = (
                f'<ErrorResponse xmlns="{_XMLNS[channel]}"><Error><Type>{kind}</Type><Code>{code}</Code>'
                f"<Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
            )
            return status, [("Content-Type", "text/xml")], xml.encode()
        status, response_headers, payload = self.forward(method, path, headers, body)
        if status < 300:
            found = re.search(rb"<MessageId>([^<]+)</MessageId>", payload)
            params = query_params(form)
            self.bridge.record(channel, params, found.group(1).decode() if found else None)
            if found:  # SES's receipt; for SMS through SNS, its delivery status
                self.bridge.send_receipt(channel, found.group(1).decode(), params)
        return status, response_headers, payload
