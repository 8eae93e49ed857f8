"""The closed loop's figures for `make bench`: how late a stage starts after its window ends, how long an
acknowledgement takes through the API and through the link, and how many AWS calls one costs.

Size: BENCH_LOOP alerts per measurement (default 50). Windows are 5 s, the smallest Clarion allows.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from clarion_local.system import LocalClarion, http_call

LOOP = int(os.environ.get("BENCH_LOOP", "50"))
WINDOW_S = 5
STEADY_EVERY_S = 0.2  # five alerts a second: a busy hospital's critical results, many times over
LINK = re.compile(r"https?://[^\s/]+(/l/[A-Za-z0-9_-]{38})")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]

    return {"p50": at(50), "p99": at(99), "max": ordered[-1], "n": len(ordered)}


class Loop:
    def __init__(self, system: LocalClarion) -> None:
        self.system = system
        assert system.client_token and system.admin_token
        self.client = {"Authorization": system.client_token, "Content-Type": "application/json"}
        self.admin = {"Authorization": system.admin_token, "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        status, payload = http_call(self.system.port, method, path, data, headers)
        return status, json.loads(payload) if payload else None

    def policy(self, policy_id: str, stages: list[list[str]], window: int) -> None:
        body = {
            "name": f"bench {policy_id}",
            "addressee_ack_within_s": window,
            "stages": [{"contact_ids": ids, "ack_within_s": window} for ids in stages],
        }
        status, answer = self.call("PUT", f"/escalation-policies/{policy_id}", body, self.admin)
        assert status in (200, 201), answer

    def post(self, policy_id: str, contact: str = "C-1") -> str:
        body = {
            "message_id": f"bench-loop-{uuid.uuid4().hex}",
            "type": "critical_result",
            "patient_id": "anon-bench",
            "contact_id": contact,
            "description": "Potassium 6.9 mmol/L on ward 7",
            "priority": "H",
            "escalation_policy_id": policy_id,
        }
        status, answer = self.call("POST", "/alerts", body, self.client)
        assert status == 202, answer
        return body["message_id"]

    def view(self, message_id: str) -> dict[str, Any]:
        status, body = self.call("GET", f"/alerts/{message_id}", None, self.client)
        assert status == 200, body
        return dict(body)

    def wait(self, message_id: str, done: Any, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while not done(seen := self.view(message_id)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{message_id}: {seen}")
            time.sleep(0.2)
        return seen

    def calls(self, reset: bool = False) -> Counter[str]:
        _, payload = http_call(self.system.port, "DELETE" if reset else "GET", "/_local/calls", None, {})
        return Counter(json.loads(payload))

    def link(self, message_id: str, destination: str) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for entry in self.system.outbox():
                found = LINK.search(entry.get("text") or "")
                if entry.get("message_id") == message_id and entry.get("destination") == destination and found:
                    return found.group(1)
            time.sleep(0.2)
        raise TimeoutError(f"no link to {destination} for {message_id}")


def stage_lateness(loop: Loop, every_s: float | None) -> dict[str, float]:
    """LOOP alerts nobody answers, one every `every_s` seconds (None: all at once, from 8 callers): seconds from
    each addressee window's end to stage 1's start."""
    loop.policy("bench-lateness", [["C-4"]], WINDOW_S)
    if every_s is None:
        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(lambda _: loop.post("bench-lateness"), range(LOOP)))
    else:
        ids = []
        for _ in range(LOOP):
            ids.append(loop.post("bench-lateness"))
            time.sleep(every_s)
    late = []
    for message_id in ids:
        seen = loop.wait(message_id, lambda v: len(v["stages"]) >= 2)
        late.append(_epoch(seen["stages"][1]["started_at"]) - (_epoch(seen["accepted_at"]) + WINDOW_S))
    for message_id in ids:  # ended, so that nothing of theirs runs while acknowledgements are counted
        loop.wait(message_id, lambda v: v["status"] == "unacknowledged")
    return _percentiles(late)


def ack_latency(loop: Loop) -> dict[str, Any]:
    """Seconds from sending an acknowledgement to its answer, through the API and through the SMS link."""
    loop.policy("bench-ack", [["C-4"]], 3600)
    api: list[float] = []
    link: list[float] = []
    calls: dict[str, dict[str, int]] = {}
    for n in range(LOOP):
        message_id = loop.post("bench-ack", contact="C-2")  # C-2's chain starts with SMS: the link is in it
        path = loop.link(message_id, "+447911123402")
        use_link = n % 2 == 1
        measure_calls = n in (0, 1)
        if measure_calls:
            time.sleep(1.0)  # the router's sends are done
            loop.calls(reset=True)
        started = time.perf_counter()
        if use_link:
            status, _ = http_call(loop.system.port, "POST", path, b"action=ack", FORM)
        else:
            status, _ = loop.call("POST", f"/alerts/{message_id}/ack", {"contact_id": "C-2"}, loop.client)
        took = time.perf_counter() - started
        assert status == 200
        (link if use_link else api).append(took)
        if measure_calls:
            calls["link" if use_link else "api"] = dict(loop.calls())
        assert loop.view(message_id)["status"] == "acknowledged"
    return {"api_s": _percentiles(api), "link_s": _percentiles(link), "calls_per_ack": calls}


def measure_loop(system: LocalClarion) -> dict[str, Any]:
    loop = Loop(system)
    return {
        "alerts": LOOP,
        "stage_start_lateness_s": stage_lateness(loop, STEADY_EVERY_S),
        "stage_start_lateness_all_at_once_s": stage_lateness(loop, None),
        **ack_latency(loop),
    }


def report(results: dict[str, Any]) -> list[str]:
    late, api, link = results["stage_start_lateness_s"], results["api_s"], results["link_s"]
    burst = results["stage_start_lateness_all_at_once_s"]
    lines = [
        f"closed loop, {results['alerts']} alerts per figure (windows of {WINDOW_S} s)",
        f"  stage start after its window, one alert every {STEADY_EVERY_S} s"
        f"   p50 {late['p50']:.2f} s   p99 {late['p99']:.2f} s   (target p99 <= 2 s)",
        f"  stage start after its window, all {results['alerts']} at once"
        f"     p50 {burst['p50']:.2f} s   p99 {burst['p99']:.2f} s",
        f"  acknowledge through the API    p50 {api['p50'] * 1000:.0f} ms   p99 {api['p99'] * 1000:.0f} ms",
        f"  acknowledge through the link   p50 {link['p50'] * 1000:.0f} ms   p99 {link['p99'] * 1000:.0f} ms",
    ]
    for way, counts in results["calls_per_ack"].items():
        lines.append(
            f"  AWS calls per ack ({way:4})      {sum(counts.values()):3}  "
            + ", ".join(f"{k} x{v}" for k, v in counts.items())
        )
    return lines
