"""The local-only routes the local API serves beside the gateway: `/_local/*`, `/openapi.json` and `/docs` (the
API page, `clarion_local.api_page`).

`/_local/health`, `/_local/outbox` (every provider send, with the alert and attempt it belongs to),
`/_local/metrics` (totals of the functions' EMF metrics), `/_local/events` (what the alert-events topic
published), `/_local/calls` (the AWS calls the proxy counted), `/_local/faults` (arm, list and clear provider
faults, send and receipt faults alike), `/_local/sms/reply` (a clinician's SMS reply, through the inbound
topic) and `/_local/voice/<contact id>/answer` (the called clinician's keypress). None of these exist on AWS.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from clarion_local import api_page
from clarion_local.gateway import Answer
from clarion_local.providers import CHANNELS, FAULT_MODES, ProviderBridge
from clarion_local.proxy import ProviderProxy
from clarion_local.stack import Deployment
from clarion_local.template import STAND_IN_SMS_PHONE

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
NOTICE_AFTER_S = 5  # a send no attempt has claimed after this long is no alert's (a notice, an answer)
_VOICE_ANSWER = re.compile(r"/_local/voice/([0-9a-f-]{36})/answer")

_OPENAPI = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


class System(Protocol):
    """What the routes read of the running system (`clarion_local.system.LocalClarion` is one)."""

    @property
    def url(self) -> str: ...
    @property
    def log_dir(self) -> Path | None: ...
    @property
    def bridge(self) -> ProviderBridge: ...
    @property
    def proxy(self) -> ProviderProxy: ...
    @property
    def deployment(self) -> Deployment: ...
    def client(self, service: str) -> Any: ...
    def events(self) -> list[dict[str, Any]]: ...


class LocalRoutes:
    """The local-only routes of `system`; they read its state at each request, so can be made before it starts."""

    def __init__(self, system: System) -> None:
        self.system = system
        self._no_alert: set[str] = set()  # provider ids of sends no attempt belongs to

    def answer(self, method: str, path: str, body: bytes) -> Answer | None:
        """The answer of a local-only route, or None when `path` is the gateway's."""
        system = self.system
        if path == "/_local/health" and method == "GET":
            return _json(200, {"status": "ok", "url": system.url})
        if path == "/_local/outbox" and method == "GET":
            return _json(200, self.outbox())
        if path == "/_local/metrics" and method == "GET":
            return _json(200, self.metrics())
        if path == "/_local/events" and method == "GET":
            return _json(200, system.events())
        if path == "/_local/calls":
            if method == "DELETE":
                with system.proxy._calls_lock:
                    system.proxy.calls.clear()
            with system.proxy._calls_lock:
                return _json(200, dict(sorted(system.proxy.calls.items())))
        if path == "/_local/faults":
            if method == "GET":
                with system.bridge._lock:
                    active = [
                        {"channel": f.channel, "mode": f.mode, "count": f.count}
                        for f in system.bridge.faults
                        if f.active()
                    ]
                return _json(200, active)
            if method == "DELETE":
                system.bridge.clear_faults()
                return _json(200, {"cleared": True})
            if method == "POST":
                return self._add_fault(body)
            return _json(405, _error("method_not_allowed", "use GET, POST or DELETE on /_local/faults"))
        voice = _VOICE_ANSWER.fullmatch(path)
        if voice is not None:
            if method != "POST":
                return _json(405, _error("method_not_allowed", "use POST on /_local/voice/<contact id>/answer"))
            return self._answer_call(voice.group(1), body)
        if path == "/_local/sms/reply":
            if method != "POST":
                return _json(405, _error("method_not_allowed", "use POST on /_local/sms/reply"))
            return self._sms_reply(body)
        if path == "/openapi.json" and method == "GET":
            return Answer(200, {"Content-Type": "application/json"}, _OPENAPI.read_bytes())
        return api_page.answer(method, path)

    def outbox(self) -> list[dict[str, Any]]:
        """Every provider send that went out, with the alert and attempt it belongs to (found once, then kept)."""
        bridge = self.system.bridge
        with bridge._lock:
            missing = [
                e
                for e in bridge.outbox
                if e.get("message_id") is None and e.get("provider_id") and e["provider_id"] not in self._no_alert
            ]
        if missing:
            found = self._attempts_of(missing)
            settled = (datetime.now(UTC) - timedelta(seconds=NOTICE_AFTER_S)).isoformat()
            with bridge._lock:
                for entry in missing:
                    if entry["provider_id"] in found:
                        entry["message_id"], entry["attempt"] = found[entry["provider_id"]]
                    elif entry["at"] < settled:  # no attempt names it: a notice or an answer to a reply
                        self._no_alert.add(entry["provider_id"])
        with bridge._lock:
            entries = [{"message_id": None, "attempt": None, **e} for e in bridge.outbox]
        if bridge.receipts is not None:
            for entry in entries:
                entry["receipt"] = bridge.receipts.receipt_for(str(entry.get("provider_id")))
        return entries

    def _attempts_of(self, entries: list[dict[str, Any]]) -> dict[str, tuple[str, int]]:
        """provider id -> (message id, attempt): by the provider-id items the router writes for attempts whose
        receipt it awaits and for calls, else by a scan of the delivery log (SMS through SNS)."""
        table = self.system.deployment.output("DeliveryLogTable")
        ddb = self.system.client("dynamodb")
        found: dict[str, tuple[str, int]] = {}
        for entry in entries:
            key = {"pk": {"S": f"provider#{entry['channel']}#{entry['provider_id']}"}, "sk": {"S": "PROVIDER"}}
            item = ddb.get_item(TableName=table, Key=key).get("Item")
            if item:
                message_id = item["alert_pk"]["S"].split("#", 1)[1]
                found[entry["provider_id"]] = (message_id, int(item["attempt_sk"]["S"].rsplit("#", 1)[1]))
        if len(found) < len(entries):
            found = {**self._attempts_by_provider_id(), **found}
        return found

    def _attempts_by_provider_id(self) -> dict[str, tuple[str, int]]:
        table = self.system.deployment.output("DeliveryLogTable")
        found = {}
        paginator = self.system.client("dynamodb").get_paginator("scan")
        for page in paginator.paginate(TableName=table, FilterExpression="attribute_exists(provider_message_id)"):
            for item in page["Items"]:
                message_id = item["pk"]["S"].split("#", 1)[1]
                found[item["provider_message_id"]["S"]] = (message_id, int(item["attempt"]["N"]))
        return found

    def metrics(self) -> dict[str, float]:
        """Totals of every EMF metric the functions logged, keyed `service.MetricName`, with any other dimension
        appended (`router.DeliveryAttempts[channel=sms]`)."""
        log_dir = self.system.log_dir
        assert log_dir is not None
        totals: dict[str, float] = {}
        for log in sorted(log_dir.glob("*.log")):
            for line in log.read_text(errors="replace").splitlines():
                if '"_aws"' not in line:
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                service = record.get("service", log.stem)
                for directive in record["_aws"].get("CloudWatchMetrics", []):
                    dimensions = sorted({d for group in directive.get("Dimensions", []) for d in group} - {"service"})
                    suffix = ",".join(f"{d}={record.get(d)}" for d in dimensions)
                    for metric in directive.get("Metrics", []):
                        value = record.get(metric["Name"], 0)
                        values = value if isinstance(value, list) else [value]
                        key = f"{service}.{metric['Name']}" + (f"[{suffix}]" if suffix else "")
                        totals[key] = totals.get(key, 0) + sum(float(v) for v in values)
        return totals

    def _add_fault(self, body: bytes) -> Answer:
        try:
            spec = json.loads(body or b"{}")
        except ValueError:
            return _json(400, _error("invalid_body", "the body must be a JSON object"))
        if not isinstance(spec, dict):
            return _json(400, _error("invalid_body", "the body must be a JSON object"))
        unknown = set(spec) - {"channel", "mode", "count", "seconds"}
        if unknown:
            return _json(400, _error("unknown_field", f"unknown field {sorted(unknown)[0]}", sorted(unknown)[0]))
        if spec.get("channel") not in CHANNELS:
            return _json(400, _error("invalid_value", f"channel must be one of {', '.join(CHANNELS)}", "channel"))
        if spec.get("mode") not in FAULT_MODES:
            return _json(400, _error("invalid_value", f"mode must be one of {', '.join(FAULT_MODES)}", "mode"))
        count, seconds = spec.get("count"), spec.get("seconds")
        for name, value in (("count", count), ("seconds", seconds)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                return _json(400, _error("invalid_value", f"{name} must be a number", name))
        try:
            fault = self.system.bridge.add_fault(spec["channel"], spec["mode"], count=count, seconds=seconds)
        except ValueError as error:
            return _json(400, _error("invalid_value", str(error)))
        return _json(201, {"channel": fault.channel, "mode": fault.mode, "count": count, "seconds": seconds})

    def _answer_call(self, contact_id: str, body: bytes) -> Answer:
        """The called phone presses `digits` during the call (or nothing: "")."""
        try:
            spec = json.loads(body or b"{}")
        except ValueError:
            return _json(400, _error("invalid_body", "the body must be a JSON object"))
        digits = spec.get("digits", "") if isinstance(spec, dict) else None
        if not isinstance(digits, str) or not re.fullmatch(r"[0-9*#]{0,8}", digits):
            return _json(400, _error("invalid_value", "digits must be up to 8 keys of 0-9, * and #", "digits"))
        receipts = self.system.bridge.receipts
        if receipts is None or contact_id not in receipts.ringing:
            return _json(404, _error("not_ringing", "no call with that contact id is waiting for a keypress"))
        result = receipts.answer(contact_id, digits)
        return _json(200, {"contact_id": contact_id, "digits": digits, "flow_result": result})

    def _sms_reply(self, body: bytes) -> Answer:
        """A clinician's SMS reply, delivered as End User Messaging delivers it: to the inbound topic."""
        try:
            spec = json.loads(body or b"{}")
        except ValueError:
            return _json(400, _error("invalid_body", "the body must be a JSON object"))
        if not isinstance(spec, dict):
            return _json(400, _error("invalid_body", "the body must be a JSON object"))
        unknown = set(spec) - {"from", "text"}
        if unknown:
            return _json(400, _error("unknown_field", f"unknown field {sorted(unknown)[0]}", sorted(unknown)[0]))
        sender, text = spec.get("from"), spec.get("text")
        if not isinstance(sender, str) or not E164.match(sender):
            return _json(400, _error("invalid_value", "from must be a phone number in E.164 form", "from"))
        if not isinstance(text, str) or not 1 <= len(text) <= 1600:
            return _json(400, _error("invalid_value", "text must be 1 to 1600 characters", "text"))
        try:
            topic = self.system.deployment.output("InboundSmsTopicArn")
            number = self.system.deployment.output("SmsOriginationIdentity")
        except KeyError:
            return _json(409, _error("no_two_way_sms", "this deployment has no two-way SMS (sms_origination)"))
        inbound = {
            "originationNumber": sender,
            "destinationNumber": STAND_IN_SMS_PHONE,
            "messageKeyword": text.split()[0].upper() if text.split() else "",
            "messageBody": text,
            "inboundMessageId": str(uuid.uuid4()),
            "previousPublishedMessageId": None,
        }
        self.system.client("sns").publish(TopicArn=topic, Message=json.dumps(inbound))
        return _json(202, {"delivered_to": number, "inbound_message_id": inbound["inboundMessageId"]})


def _error(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return {"error": error}


def _json(status: int, payload: Any) -> Answer:
    return Answer(status, {"Content-Type": "application/json"}, json.dumps(payload, indent=1).encode())
