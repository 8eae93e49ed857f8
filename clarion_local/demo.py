"""`make demo`: a scenario played over HTTP against the local system, then a table of what happened."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clarion_local.system import LocalClarion

TERMINAL = {"delivered", "failed"}


@dataclass
class Played:
    label: str
    message_id: str
    priority: str
    answers: list[int]  # HTTP status of each POST
    view: dict[str, Any]


def alert(message_id: str, priority: str, type_: str, description: str) -> dict[str, str]:
    return {
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
    sent = [a["at"] for a in view.get("attempts", []) if a["outcome"] == "sent"]
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
    outage = played[-1]
    fell_back = [a["channel"] for a in outage.view["attempts"] if a["outcome"] == "sent"] == ["email"]
    duplicate = played[3]
    once = sum(1 for entry in system.outbox() if entry.get("message_id") == duplicate.message_id) == 1
    print(f"Fallback to email during the SMS outage: {'yes' if fell_back else 'NO'}")
    print(f"The alert sent twice was delivered once: {'yes' if once else 'NO'}")
    print("Try it yourself: `make local` serves this API; /_local/outbox lists every message that went out.")
    print(f"Scenario played in {time.monotonic() - started:.1f} s")
    ok = fell_back and once and all(p.view.get("status") == "delivered" for p in played)
    return 0 if ok else 1
