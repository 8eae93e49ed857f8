"""1,000 timers due in the same second, for `make bench`: how late the escalator starts the next stage when every
alert's addressee window ends at once.

Size: BENCH_TIMERS alerts (default 1000) that need an acknowledgement, posted one after another by one caller (about
20 a second here, more slowly under load). Windows are whole seconds of at least 5, so the alerts cannot share one
policy: a policy per addressee window is created as posting reaches it, and each alert takes the one whose window
ends in the target second T: window = floor(T - the moment its POST is sent), so it ends in (T - 1, T] plus the
POST's own time. T is planned from the median time of CALIBRATION posts just before, with room for posting to slow
by SLOWDOWN; if it slows more, posting stops where the smallest window would no longer reach T and the figure counts
the alerts posted. Nobody answers; how many addressees' emails had gone out by T is counted (routing them shares the
emulator with the escalator). Stage 1 (C-4, a 600 s window: no second wave of timers falls due while this is
measured) starts when the escalator handles the addressee's timer. Progress is watched on the alert-events topic
(no API load while the timers are handled); then each alert is read once (`GET /alerts/{id}`):
lateness = stages[1].started_at - (accepted_at + its window). Finally every alert is acknowledged through the API,
so none of their walks runs on.

Run alone against a synthesized assembly: `python -m bench.timers cdk.out` (prints the figure and its JSON).
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.loop import Loop, _epoch, _percentiles
from clarion_local.system import LocalClarion

TIMERS = int(os.environ.get("BENCH_TIMERS", "1000"))
MIN_WINDOW_S = 5  # Clarion's smallest window
CALIBRATION = 20  # alerts posted first to learn how fast intake is right now
SLOWDOWN = 3  # T is planned for posting this much slower than the calibration: routing the alerts slows intake
STAGE_WINDOW_S = 600  # stage 1's window: longer than the measurement, within one SQS delay (900 s)
STALL_S = 120  # the wait gives up once no stage has started for this long
READERS = 4  # concurrent callers reading and acknowledging after the measurement
ADDRESSEE = "C-4"  # email only: the cheapest delivery, so routing stage 0 loads the emulator least


def _policy_id(window: int) -> str:
    return f"bench-timers-{window}s"


def _call(loop: Loop, method: str, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
    """A call to the local API that waits out the usage plan's throttling (429) rather than failing on it."""
    for _ in range(100):
        status, answer = loop.call(method, path, body, headers)
        if status != 429:
            return status, answer
        time.sleep(0.2)
    return status, answer


def _alert(priority: str, policy_id: str | None = None) -> dict[str, str]:
    body = {
        "message_id": f"bench-timers-{uuid.uuid4().hex}",
        "type": "critical_result",
        "patient_id": "anon-bench",
        "contact_id": ADDRESSEE,
        "description": "Potassium 6.9 mmol/L on ward 7",
        "priority": priority,
    }
    return body | ({"escalation_policy_id": policy_id} if policy_id else {})


def intake_rate(loop: Loop) -> float:
    """Alerts a second one caller gets accepted now: from the median of CALIBRATION posts (low priority: no walk,
    an email each), so that one slow answer does not stretch the plan."""
    took = []
    for _ in range(CALIBRATION):
        started = time.perf_counter()
        status, answer = _call(loop, "POST", "/alerts", _alert("L"), loop.client)
        took.append(time.perf_counter() - started)
        assert status == 202, answer
    return 1 / statistics.median(took)


def target_second(now: float, alerts: int, rate: float) -> int:
    """The epoch second every window ends in: far enough ahead that the last post, at `rate`, still gets the
    smallest window."""
    return math.ceil(now + alerts / rate + MIN_WINDOW_S + 1)


def window_for(target: int, sent: float) -> int:
    """The addressee window that ends an alert sent at epoch `sent` (accepted a moment later) in (T - 1, T]."""
    return math.floor(target - sent)


class Policies:
    """One policy per addressee window, created as posting reaches it (one more each second)."""

    def __init__(self, loop: Loop) -> None:
        self.loop = loop
        self.made: set[int] = set()

    def current(self, target: int) -> int | None:
        """The window for an alert sent now, its policy in place; None once it would be below the smallest."""
        while (window := window_for(target, time.time())) not in self.made:
            if window < MIN_WINDOW_S:
                return None
            body = {
                "name": f"bench timers {window} s",
                "addressee_ack_within_s": window,
                "stages": [{"contact_ids": [ADDRESSEE], "ack_within_s": STAGE_WINDOW_S}],
            }
            path = f"/escalation-policies/{_policy_id(window)}"
            status, answer = _call(self.loop, "PUT", path, body, self.loop.admin)
            assert status in (200, 201), answer
            self.made.add(window)
        return window


def post_all(loop: Loop, alerts: int, target: int) -> dict[str, int]:
    """Post `alerts` alerts, each with the policy whose window ends in the target second: message id -> window."""
    policies = Policies(loop)
    windows: dict[str, int] = {}
    for _ in range(alerts):
        window = policies.current(target)
        if window is None:
            break
        body = _alert("H", _policy_id(window))
        status, answer = _call(loop, "POST", "/alerts", body, loop.client)
        assert status == 202, answer
        windows[body["message_id"]] = window
    return windows


def reached(system: LocalClarion, message_ids: set[str]) -> int:
    """How many of the alerts have reached their addressee (a `delivered` event) so far."""
    events = system.events()
    return len({e["message"]["message_id"] for e in events if e["message"].get("status") == "delivered"} & message_ids)


def wait_started(system: LocalClarion, message_ids: set[str]) -> set[str]:
    """The alerts whose stage 1 has started, as `escalated` events say, once all have or none has for STALL_S."""
    started: set[str] = set()
    read = 0
    progressed = time.monotonic()
    while len(started) < len(message_ids) and time.monotonic() - progressed < STALL_S:
        time.sleep(0.5)
        events = system.events()
        for event in events[read:]:
            message = event["message"]
            ours = message.get("message_id") in message_ids and message["message_id"] not in started
            if ours and message.get("status") == "escalated" and message.get("stage") == 1:
                started.add(message["message_id"])
                progressed = time.monotonic()
        read = len(events)
    return started


def read_all(loop: Loop, message_ids: list[str]) -> list[dict[str, Any]]:
    def view(message_id: str) -> dict[str, Any]:
        status, body = _call(loop, "GET", f"/alerts/{message_id}", None, loop.client)
        assert status == 200, body
        return dict(body)

    with ThreadPoolExecutor(READERS) as pool:
        return list(pool.map(view, message_ids))


def acknowledge_all(loop: Loop, message_ids: list[str]) -> None:
    def ack(message_id: str) -> None:
        status, body = _call(loop, "POST", f"/alerts/{message_id}/ack", {"contact_id": ADDRESSEE}, loop.client)
        assert status == 200 and body["status"] == "acknowledged", body

    with ThreadPoolExecutor(READERS) as pool:
        list(pool.map(ack, message_ids))


def measure_timers(system: LocalClarion, alerts: int = TIMERS) -> dict[str, Any]:
    loop = Loop(system)
    rate = intake_rate(loop)
    posting = time.time()
    target = target_second(posting, alerts, rate / SLOWDOWN)
    windows = post_all(loop, alerts, target)
    posted = time.time()
    time.sleep(max(0.0, target - time.time()))
    reached_by_target = reached(system, set(windows))
    wait_started(system, set(windows))
    load = os.getloadavg()[0]  # the machine's, over the last minute: the timers drained while it was this busy
    views = read_all(loop, list(windows))
    due = {v["message_id"]: _epoch(v["accepted_at"]) + windows[v["message_id"]] for v in views}
    off = [d - target for d in due.values()]
    assert all(-1 <= o <= 1 for o in off), f"windows end {min(off):+.2f} to {max(off):+.2f} s from T, not within 1 s"
    begun = {v["message_id"]: _epoch(v["stages"][1]["started_at"]) for v in views if len(v["stages"]) > 1}
    late = [begun[m] - due[m] for m in begun]
    acknowledge_all(loop, list(windows))
    return {
        "alerts": len(windows),
        "asked": alerts,
        "target": datetime.fromtimestamp(target, UTC).isoformat(),
        "calibrated_per_s": rate,
        "posted_per_s": len(windows) / (posted - posting),
        "idle_before_target_s": target - posted,
        "addressees_reached_by_target": reached_by_target,
        "windows_s": {"min": min(windows.values()), "max": max(windows.values())},
        "due_spread_s": max(due.values()) - min(due.values()),
        "due_from_target_s": {"min": min(off), "max": max(off)},
        "stage_start_lateness_s": _percentiles(late) if late else None,
        "all_started_after_first_due_s": max(begun.values()) - min(due.values()) if begun else None,
        "not_started": len(windows) - len(begun),
        "started_before_due": sum(1 for x in late if x < -0.01),  # the addressee's stage settled early
        "load_average_1m": load,
        "measured_at": datetime.now().isoformat(timespec="seconds"),
    }


def report(results: dict[str, Any]) -> list[str]:
    late = results["stage_start_lateness_s"]
    lines = [
        f"{results['alerts']} timers due in the same second (windows {results['windows_s']['min']}-"
        f"{results['windows_s']['max']} s, ending within {results['due_spread_s']:.2f} s of each other;"
        f" posted at {results['posted_per_s']:.0f}/s)",
        f"  {results['addressees_reached_by_target']} of {results['alerts']} addressees reached by then,"
        f" {results['idle_before_target_s']:.0f} s after the last post",
    ]
    if results["alerts"] < results["asked"]:
        lines.append(f"  only {results['alerts']} of {results['asked']} posted: intake slowed too much to reach T")
    if late:
        lines += [
            f"  stage 1 start after its window   p50 {late['p50']:.2f} s   p99 {late['p99']:.2f} s"
            f"   max {late['max']:.2f} s",
            f"  {'all ' if not results['not_started'] else ''}{late['n']} started within"
            f" {results['all_started_after_first_due_s']:.1f} s of the first window's end",
        ]
    if results["not_started"]:
        lines.append(f"  stage 1 never started: {results['not_started']}")
    return lines


def main() -> int:
    assembly = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("cdk.out")
    with LocalClarion(port=0, assembly=assembly) as system:
        results = measure_timers(system)
    print(json.dumps(results, indent=1))
    print("\n".join(report(results)))
    return 1 if results["not_started"] else 0


if __name__ == "__main__":
    sys.exit(main())
