"""The phone's figures for `make bench`: how soon a failure receipt brings the next channel's send, and how long an
acknowledgement takes by SMS reply and by keypress (from the phone's answer to the alert recorded acknowledged).

Size: BENCH_PHONES alerts per measurement (default 30), one at a time (a receipt fault is armed per alert).
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import Any

from bench.loop import Loop, _epoch, _percentiles
from clarion_local.system import LocalClarion

PHONES = int(os.environ.get("BENCH_PHONES", "30"))


def _sent(system: LocalClarion, message_id: str, channel: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in system.outbox() if e.get("message_id") == message_id and e["channel"] == channel]
        if found:
            return found[0]
        time.sleep(0.02)
    raise TimeoutError(f"no {channel} for {message_id}")


def failure_to_next_send(loop: Loop) -> dict[str, float]:
    """Seconds from an SMS's failure receipt (as the carrier reports it) to the email the router sends next."""
    gaps = []
    for _ in range(PHONES):
        loop.call("POST", "/_local/faults", {"channel": "sms", "mode": "undelivered", "count": 1}, {})
        message_id = loop.post("bench-phones", contact="C-2")
        seen = loop.wait(
            message_id, lambda v: any(a["channel"] == "email" and a["outcome"] != "pending" for a in v["attempts"])
        )
        sms, email = seen["attempts"][0], seen["attempts"][1]
        assert sms["outcome"] == "undelivered", sms
        gaps.append(_epoch(email["at"]) - _epoch(sms["receipt_at"]))
    return _percentiles(gaps)


def reply_to_ack(loop: Loop) -> dict[str, Any]:
    """Seconds from the clinician's SMS reply (as End User Messaging would publish it) to the acknowledgement.

    Each alert goes to a clinician of its own: replies are throttled per number (10 in 10 minutes)."""
    took = []
    for n in range(PHONES):
        number = f"+4479110{n:05d}"
        contact = {"name": f"Bench clinician {n}", "phone_sms": number}  # SMS is its only channel
        status, answer = loop.call("PUT", f"/contacts/bench-sms-{n}", contact, loop.admin)
        assert status in (200, 201), answer
        message_id = loop.post("bench-phones", contact=f"bench-sms-{n}")
        code = _sent(loop.system, message_id, "sms")["reply_code"]
        replied = time.time()
        status, _ = loop.call("POST", "/_local/sms/reply", {"from": number, "text": f"ack {code}"}, {})
        assert status == 202
        seen = loop.wait(message_id, lambda v: v["status"] == "acknowledged")
        assert seen["ack"]["via"] == "sms"
        took.append(_epoch(seen["ack"]["acknowledged_at"]) - replied)
    return _percentiles(took)


def keypress_to_ack(loop: Loop) -> dict[str, Any]:
    """Seconds from the clinician pressing 1 to the flow's answer (the acknowledgement is recorded by then)."""
    took = []
    for _ in range(PHONES):
        message_id = loop.post("bench-phones", contact="C-1")
        contact_id = _sent(loop.system, message_id, "call")["provider_id"]
        started = time.perf_counter()
        status, answer = loop.call("POST", f"/_local/voice/{contact_id}/answer", {"digits": "1"}, {})
        took.append(time.perf_counter() - started)
        assert status == 200 and answer["flow_result"] == {"result": "acknowledged"}, answer
    return _percentiles(took)


def measure_phones(system: LocalClarion) -> dict[str, Any]:
    loop = Loop(system)
    loop.policy("bench-phones", [["C-4"]], 3600)
    return {
        "alerts": PHONES,
        "failure_receipt_to_next_send_s": failure_to_next_send(loop),
        "sms_reply_to_ack_s": reply_to_ack(loop),
        "keypress_to_ack_s": keypress_to_ack(loop),
        "measured_at": datetime.now().isoformat(timespec="seconds"),
    }


def report(results: dict[str, Any]) -> list[str]:
    lines = [f"from the phone, {results['alerts']} alerts per figure"]
    for key, label in (
        ("failure_receipt_to_next_send_s", "failure receipt -> next channel's send"),
        ("sms_reply_to_ack_s", "SMS reply -> acknowledged         "),
        ("keypress_to_ack_s", "keypress -> acknowledged          "),
    ):
        figure = results[key]
        lines.append(f"  {label}  p50 {figure['p50'] * 1000:5.0f} ms   p99 {figure['p99'] * 1000:5.0f} ms")
    return lines
