"""`make demo`, third part: acknowledging from the phone, and receipts that move an alert on.

Three alerts, each played as the clinician's phone would: one acknowledged by replying to its SMS with the code the
SMS gives, one acknowledged by pressing 1 during the call, and one whose SMS the carrier cannot deliver (a failure
receipt), which moves on to email within seconds rather than after the acknowledgement window.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clarion_local.system import LocalClarion

NURSE_BEN = "+447911123402"  # C-2's phone (clarion_local.samples)


@dataclass
class PhonePlay:
    label: str
    message_id: str
    view: dict[str, Any]
    done: bool  # what the scenario set out to show happened
    detail: str  # what the phone saw and did


def _alert(message_id: str, priority: str, contact_id: str, description: str) -> dict[str, str]:
    return {
        "message_id": message_id,
        "type": "critical_result",
        "patient_id": "anon-7f3a",
        "contact_id": contact_id,
        "description": description,
        "priority": priority,
    }


def _until(what: Any, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = what()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError("the local phone waited in vain")
        time.sleep(0.05)


def _view(system: LocalClarion, message_id: str) -> dict[str, Any]:
    return dict(system.request("GET", f"/alerts/{message_id}", token=system.client_token)[1])


def _sent_to(system: LocalClarion, message_id: str, channel: str) -> list[dict[str, Any]]:
    return [e for e in system.outbox() if e.get("message_id") == message_id and e["channel"] == channel]


def _by_reply(system: LocalClarion, run: str, say: Any) -> PhonePlay:
    body = _alert(f"demo-{run}-reply", "M", "C-2", "NEWS2 score 7, bay 3")
    say("  POST /alerts  for C-2 (SMS); C-2 replies to the SMS with its code")
    system.request("POST", "/alerts", body, system.client_token)
    (sms,) = _until(lambda: _sent_to(system, body["message_id"], "sms"))
    code = sms["reply_code"]
    started = time.monotonic()
    system.request("POST", "/_local/sms/reply", {"from": NURSE_BEN, "text": f"ack {code}"})
    view = _until(lambda: (lambda v: v if v["status"] == "acknowledged" else None)(_view(system, body["message_id"])))
    took = time.monotonic() - started

    def confirmation() -> bool:
        answers = [e["text"] for e in system.outbox() if e["destination"] == NURSE_BEN and e.get("message_id") is None]
        return any(code in text and "acknowledged" in text for text in answers)

    confirmed = bool(_until(confirmation, timeout=5))
    done = view["ack"]["via"] == "sms" and view["ack"]["acknowledged_by"] == "C-2" and confirmed
    return PhonePlay("acknowledged by SMS reply", body["message_id"], view, done, f"replied 'ack {code}'; {took:.2f} s")


def _by_keypress(system: LocalClarion, run: str, say: Any) -> PhonePlay:
    body = _alert(f"demo-{run}-key", "H", "C-1", "Potassium 7.1 mmol/L, ward 7")
    say("  POST /alerts  for C-1 (call); C-1 answers and presses 1")
    system.request("POST", "/alerts", body, system.client_token)
    (call,) = _until(lambda: _sent_to(system, body["message_id"], "call"))
    started = time.monotonic()
    system.request("POST", f"/_local/voice/{call['provider_id']}/answer", {"digits": "1"})
    view = _until(lambda: (lambda v: v if v["status"] == "acknowledged" else None)(_view(system, body["message_id"])))
    took = time.monotonic() - started
    done = view["ack"]["via"] == "call" and [a["receipt"] for a in view["attempts"]] == ["KEYPRESS_1"]
    return PhonePlay("acknowledged by keypress", body["message_id"], view, done, f"pressed 1; {took:.2f} s")


def _bounce(system: LocalClarion, run: str, say: Any) -> PhonePlay:
    body = _alert(f"demo-{run}-bounce", "M", "C-2", "Sodium 119 mmol/L, ward 4")
    say("  POST /_local/faults  the carrier cannot deliver C-2's next SMS; POST /alerts for C-2")
    system.request("POST", "/_local/faults", {"channel": "sms", "mode": "undelivered", "count": 1})
    system.request("POST", "/alerts", body, system.client_token)
    view = _until(
        lambda: (
            lambda v: v if any(a["channel"] == "email" and a["outcome"] == "delivered" for a in v["attempts"]) else None
        )(_view(system, body["message_id"]))
    )
    sms, email = view["attempts"][0], view["attempts"][1]
    gap = (datetime.fromisoformat(email["at"]) - datetime.fromisoformat(sms["receipt_at"])).total_seconds()
    done = (sms["outcome"], sms["receipt"]) == ("undelivered", "TEXT_UNREACHABLE") and gap < 5
    detail = f"SMS receipt {sms['receipt']}; email sent {gap:.2f} s after it"
    return PhonePlay("SMS undelivered, moves to email", body["message_id"], view, done, detail)


def play_phones(system: LocalClarion, say: Any = print) -> list[PhonePlay]:
    run = datetime.now().strftime("%H%M%S")
    played = [_by_reply(system, run, say), _by_keypress(system, run, say), _bounce(system, run, say)]
    system.request("DELETE", "/_local/faults")
    return played


def phones_table(played: list[PhonePlay]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [
        ("alert", "attempts (channel outcome receipt)", "acknowledged", "what the phone did", "shown")
    ]
    for item in played:
        ack = item.view.get("ack") or {}
        attempts = ", ".join(f"{a['channel']} {a['outcome']} {a.get('receipt') or '-'}" for a in item.view["attempts"])
        by = f"{ack['acknowledged_by']} via {ack['via']}" if ack.get("acknowledged_by") else "-"
        rows.append((item.label, attempts, by, item.detail, "yes" if item.done else "NO"))
    return rows
