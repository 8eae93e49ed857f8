"""`make demo`: a scenario played over HTTP against the local system, then tables of what happened.

First delivery (each priority's channel, a duplicate, an SMS outage), then the closed loop with windows of a few
seconds: an urgent alert its addressee does not answer, escalated to the next clinician, who acknowledges with the
link in the SMS; and one nobody acknowledges, which ends `unacknowledged` and counts towards its alarm. Last, the
phone (`clarion_local.demo_phones`): an SMS reply, a keypress, and an SMS the carrier cannot deliver.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clarion_local.demo_phones import phones_table, play_phones
from clarion_local.system import LocalClarion, http_call

WINDOW_S = 5  # each window of the demo's policies: the smallest Clarion allows
LINK = re.compile(r"https?://[^\s/]+(/l/[A-Za-z0-9_-]{38})")
UNACKNOWLEDGED_METRIC = "acks.AlertsUnacknowledged[priority=H]"  # what the UnacknowledgedH alarm watches

TERMINAL = {"delivered", "failed"}
REACHED = ("sent", "delivered")  # accepted by a channel without receipts, or confirmed by the receipt


@dataclass
class Played:
    label: str
    message_id: str
    priority: str
    answers: list[int]  # HTTP status of each POST
    view: dict[str, Any]


def alert(message_id: str, priority: str, type_: str, description: str, **extra: str) -> dict[str, str]:
    return {
        **extra,
        "message_id": message_id,
        "type": type_,
        "patient_id": "anon-7f3a",
        "contact_id": "C-1",
        "description": description,
        "priority": priority,
    }


def play(system: LocalClarion, say: Any = print) -> list[Played]:
    run = datetime.now().strftime("%H%M%S")
    token = system.client_token
    scenario = [
        ("high: critical result", alert(f"demo-{run}-h", "H", "critical_result", "Potassium 6.9 mmol/L, ward 7")),
        ("medium: deteriorating", alert(f"demo-{run}-m", "M", "blood_test_alert", "NEWS2 score 6, bay 3")),
        ("low: reminder", alert(f"demo-{run}-l", "L", "appointment_reminder", "Clinic review on Monday 10:00")),
    ]
    played = []
    for label, body in scenario:
        say(f"  POST /notification  {label}")
        status, _ = system.request("POST", "/notification", body, token)
        played.append(Played(label, body["message_id"], body["priority"], [status], {}))

    say("  POST the same alert twice (a client retry)")
    twice = alert(f"demo-{run}-dup", "M", "blood_test_alert", "Haemoglobin 62 g/L, ward 2")
    answers = [system.request("POST", "/alerts", twice, token)[0] for _ in range(2)]
    played.append(Played("same alert sent twice", twice["message_id"], "M", answers, {}))

    for item in played:
        item.view = system.wait_for_status(item.message_id, TERMINAL)

    say("  POST /_local/faults  SMS outage (the provider answers 5xx)")
    system.request("POST", "/_local/faults", {"channel": "sms", "mode": "outage", "seconds": 120})
    outage = alert(f"demo-{run}-out", "M", "blood_test_alert", "Sodium 118 mmol/L, ward 4")
    status, _ = system.request("POST", "/alerts", outage, token)
    item = Played("SMS outage: falls back to email", outage["message_id"], "M", [status], {})
    item.view = system.wait_for_status(outage["message_id"], TERMINAL, timeout=120)
    system.request("DELETE", "/_local/faults")
    played.append(item)
    return played


def _seconds_to_deliver(view: dict[str, Any]) -> str:
    sent = [a.get("receipt_at") or a["at"] for a in view.get("attempts", []) if a["outcome"] in REACHED]
    if view.get("status") != "delivered" or not sent:
        return "-"
    accepted = datetime.fromisoformat(view["accepted_at"].replace("Z", "+00:00"))
    return f"{(datetime.fromisoformat(sent[-1]) - accepted).total_seconds():.1f} s"


def _attempts(attempts: list[dict[str, Any]]) -> str:
    """`sms#1-3 retryable_failure (InternalError), email#4 sent`: runs of the same outcome folded together."""
    runs: list[list[dict[str, Any]]] = []
    for attempt in attempts:
        last = runs[-1][-1] if runs else None
        same = last and (last["channel"], last["outcome"], last.get("error")) == (
            attempt["channel"],
            attempt["outcome"],
            attempt.get("error"),
        )
        if same:
            runs[-1].append(attempt)
        else:
            runs.append([attempt])
    parts = []
    for run in runs:
        numbers = f"{run[0]['attempt']}" if len(run) == 1 else f"{run[0]['attempt']}-{run[-1]['attempt']}"
        error = f" ({run[0]['error']})" if run[0].get("error") else ""
        parts.append(f"{run[0]['channel']}#{numbers} {run[0]['outcome']}{error}")
    return ", ".join(parts)


def table(played: list[Played], outbox: list[dict[str, Any]]) -> str:
    rows = [("alert", "priority", "POST", "attempts (channel#n outcome)", "sent", "status", "to deliver")]
    for item in played:
        attempts = _attempts(item.view.get("attempts", []))
        sends = sum(1 for entry in outbox if entry.get("message_id") == item.message_id)
        rows.append(
            (
                item.label,
                item.priority,
                " ".join(str(a) for a in item.answers),
                attempts,
                str(sends),
                item.view.get("status", "?"),
                _seconds_to_deliver(item.view),
            )
        )
    return _grid(rows)


def _policy(system: LocalClarion, policy_id: str, name: str, stages: list[list[str]]) -> None:
    body = {
        "name": name,
        "addressee_ack_within_s": WINDOW_S,
        "stages": [{"contact_ids": ids, "ack_within_s": WINDOW_S} for ids in stages],
    }
    status, answer = system.request("PUT", f"/escalation-policies/{policy_id}", body, system.admin_token)
    if status not in (200, 201):
        raise RuntimeError(f"could not store the demo policy {policy_id}: {status} {answer}")


def _wait(system: LocalClarion, message_id: str, done: Any, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status, view = system.request("GET", f"/alerts/{message_id}", token=system.client_token)
        if status == 200 and done(view):
            return dict(view)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{message_id} is still {view} after {timeout} s")
        time.sleep(0.1)


def _link_to(system: LocalClarion, message_id: str, destination: str) -> str:
    for entry in system.outbox():
        found = LINK.search(entry.get("text") or "")
        if entry.get("message_id") == message_id and entry.get("destination") == destination and found:
            return found.group(1)
    raise RuntimeError(f"no link went to {destination} for {message_id}")


def play_loop(system: LocalClarion, say: Any = print) -> list[Played]:
    """The closed loop: escalation, acknowledgement by link, and an alert nobody acknowledges."""
    run = datetime.now().strftime("%H%M%S")
    token = system.client_token
    say(f"  PUT /escalation-policies/demo-ward    C-1 has {WINDOW_S} s, then C-2, then C-3 and C-4 ({WINDOW_S} s each)")
    _policy(system, "demo-ward", "Demo ward", [["C-2"], ["C-3", "C-4"]])
    _policy(system, "demo-night", "Demo night cover", [["C-4"]])
    say("  POST /alerts  urgent result for C-1, who does not answer")
    escalated = alert(
        f"demo-{run}-esc", "H", "critical_result", "Troponin 2300 ng/L, bed 4", escalation_policy_id="demo-ward"
    )
    answers = [system.request("POST", "/alerts", escalated, token)[0]]
    say("  POST /alerts  urgent result nobody acknowledges (night cover: C-4)")
    nobody = alert(
        f"demo-{run}-nobody", "H", "critical_result", "Lactate 6.1 mmol/L, bay 2", escalation_policy_id="demo-night"
    )
    unacknowledged_before = system.metrics().get(UNACKNOWLEDGED_METRIC, 0)
    answers.append(system.request("POST", "/alerts", nobody, token)[0])
    _wait(
        system,
        escalated["message_id"],
        lambda v: any(a["contact_id"] == "C-2" and a["outcome"] in REACHED for a in v["attempts"]),
    )
    link = _link_to(system, escalated["message_id"], "+447911123402")
    say(f"  C-1's window ended; C-2's phone got an SMS with a link ({link[:8]}...); C-2 presses Acknowledge")
    http_call(system.port, "GET", link, None, {})
    http_call(system.port, "POST", link, b"action=ack", {"Content-Type": "application/x-www-form-urlencoded"})
    played = [
        Played("escalated, acknowledged by link", escalated["message_id"], "H", answers[:1], {}),
        Played("nobody acknowledges", nobody["message_id"], "H", answers[1:], {}),
    ]
    played[0].view = _wait(system, escalated["message_id"], lambda v: v["status"] == "acknowledged")
    played[1].view = _wait(
        system, nobody["message_id"], lambda v: v["status"] == "unacknowledged", timeout=3 * WINDOW_S + 10
    )
    deadline = time.monotonic() + 10
    while system.metrics().get(UNACKNOWLEDGED_METRIC, 0) <= unacknowledged_before and time.monotonic() < deadline:
        time.sleep(0.2)
    return played


def _stages(view: dict[str, Any]) -> str:
    start = _epoch(view["accepted_at"])
    return " -> ".join(
        f"{s['stage']}:{'+'.join(s['contact_ids'])} @+{_epoch(s['started_at']) - start:.1f}s" for s in view["stages"]
    )


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def loop_table(played: list[Played]) -> str:
    rows = [
        ("alert", "stages (stage:who @ since accepted)", "acknowledged by", "via", "to ack", "target", "met", "status")
    ]
    for item in played:
        ack = item.view.get("ack") or {}
        took = ack.get("time_to_ack_s")
        rows.append(
            (
                item.label,
                _stages(item.view),
                ack.get("acknowledged_by") or "-",
                ack.get("via") or "-",
                f"{took:.1f} s" if took is not None else "-",
                f"{ack.get('target_s')} s",
                {True: "yes", False: "no", None: "-"}[ack.get("within_target")],
                item.view.get("status", "?"),
            )
        )
    return _grid(rows)


def _grid(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main(system: LocalClarion) -> int:
    started = time.monotonic()
    print("==> Playing the scenario against the local API")
    played = play(system)
    print()
    print(table(played, system.outbox()))
    print()
    print("==> The closed loop: escalation and acknowledgement (windows of a few seconds)")
    before = system.metrics().get(UNACKNOWLEDGED_METRIC, 0)
    loop = play_loop(system)
    print()
    print(loop_table(loop))
    print()
    esc, nobody = loop[0].view, loop[1].view
    escalated_ok = [s["contact_ids"] for s in esc["stages"][:2]] == [["C-1"], ["C-2"]] and (
        esc["ack"]["acknowledged_by"],
        esc["ack"]["via"],
    ) == ("C-2", "link")
    counted = system.metrics().get(UNACKNOWLEDGED_METRIC, 0) - before
    print(f"C-1 did not answer; C-2 was notified and acknowledged with its SMS link: {'yes' if escalated_ok else 'NO'}")
    print(
        f"The alert nobody acknowledged ended unacknowledged: {'yes' if nobody['status'] == 'unacknowledged' else 'NO'}"
        f" (its alarm's metric {UNACKNOWLEDGED_METRIC} rose by {counted:g})"
    )
    outage = played[-1]
    fell_back = [a["channel"] for a in outage.view["attempts"] if a["outcome"] in REACHED] == ["email"]
    duplicate = played[3]
    once = sum(1 for entry in system.outbox() if entry.get("message_id") == duplicate.message_id) == 1
    print(f"Fallback to email during the SMS outage: {'yes' if fell_back else 'NO'}")
    print(f"The alert sent twice was delivered once: {'yes' if once else 'NO'}")
    print()
    print("==> From the phone: an SMS reply, a keypress, and an SMS the carrier cannot deliver")
    phones = play_phones(system)
    print()
    print(_grid(phones_table(phones)))
    print()
    for phone in phones:
        print(f"{phone.label}: {'yes' if phone.done else 'NO'}")
    print("Try it yourself: `make local` serves this API; /_local/outbox lists every message that went out.")
    print(f"Scenario played in {time.monotonic() - started:.1f} s")
    ok = fell_back and once and all(p.view.get("status") == "delivered" for p in played)
    ok = ok and escalated_ok and nobody["status"] == "unacknowledged" and counted >= 1
    ok = ok and all(phone.done for phone in phones)
    return 0 if ok else 1
