"""The ward: urgent alerts over several escalation policies with windows of seconds, each recipient acknowledging
a random delay into its stage or never, in real time on the local system, with a CPU hog beside it.

What the loop promises in a storm (issue 21), held here for every alert:
- it ends `acknowledged` or `unacknowledged`, an unacknowledged one within its planned time (the sum of its
  windows, windows being anchored to the plan) plus 2 s; none is lost;
- each stage starts no earlier than planned, and late by at most 1 s at p99 and 2 s at most;
- no stage started twice; nothing committed after the acknowledgement: no stage and no send's fence has a
  sequence number above the acknowledgement's.
Each phone answers a delay into its stage as the system recorded the stage's start (its `escalated` event), not as
this process guesses it.

`make bench` runs 1,000 alerts (`CLARION_WARD_ALERTS`; at least 40 so that every policy and stage is planned);
`CLARION_WARD_ALERTS=40 pytest tests/system/test_ward.py` the size meant for `make test`, where it is not yet: on
this shared 2-core machine it held its bounds once in a full run (stage lateness within 1 s) and missed them in
another under heavy load (p99 2.1 s), so it stays out of `make test` until it holds them every time (issue 21).
`CLARION_WARD_HOG=0` leaves the CPU hog out."""

from __future__ import annotations

import heapq
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from clarion_local.system import LocalClarion
from tests.helpers import wait_until
from tests.system.conftest import Api

ALERTS = int(os.environ.get("CLARION_WARD_ALERTS", "0"))
HOG = os.environ.get("CLARION_WARD_HOG", "1") != "0"
W = 5  # every window, seconds
POLICIES = {  # policy id -> stages after the addressee C-1
    "ward-a": [["C-2"]],
    "ward-b": [["C-3", "C-4"], ["C-2"]],
    "ward-c": [["C-4"]],  # walked twice (repeat 1)
}
REPEAT = {"ward-a": 0, "ward-b": 0, "ward-c": 1}
END_WITHIN_S = 2.0  # an unacknowledged walk ends within its planned time plus this
LATE_P99_S, LATE_MAX_S = 1.0, 2.0  # a stage's start after its plan
STAMP_S = 0.002  # the records' times are stamped to the millisecond


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


@dataclass
class Plan:
    message_id: str
    policy: str
    stage: int | None  # the stage whose contact acknowledges; None: nobody does
    contact: str | None
    delay: float  # seconds into that stage
    windows: int  # how many windows the walk has
    answer: dict[str, Any] | None = None  # the ack as the API answered it


pytestmark = pytest.mark.skipif(ALERTS == 0, reason="the ward runs in `make bench` (CLARION_WARD_ALERTS)")


def _path(policy: str) -> list[list[str]]:
    return [["C-1"]] + POLICIES[policy] * (REPEAT[policy] + 1)


@pytest.fixture
def hog() -> Iterator[None]:
    """One core kept busy beside the ward (of this machine's two)."""
    if not HOG:
        yield
        return
    spinning = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        spinning.kill()
        spinning.wait()


class Phones:
    """The clinicians' phones: one watcher reads the system's `escalated` events (a stage's recorded start) and
    each planned answer goes out its delay after its stage started, from a small pool of callers."""

    def __init__(self, api: Api, local: LocalClarion) -> None:
        self.api, self.local = api, local
        self.started: dict[tuple[str, int], float] = {}  # (message id, stage) -> recorded start
        self.waiting: dict[tuple[str, int], Plan] = {}
        self.due: list[tuple[float, int, Plan]] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.pool = ThreadPoolExecutor(16)
        self.threads = [threading.Thread(target=self._watch), threading.Thread(target=self._ring)]

    def expect(self, plan: Plan, accepted_at: float) -> None:
        assert plan.stage is not None
        with self.lock:
            if plan.stage == 0:
                self.started[(plan.message_id, 0)] = accepted_at
            self.waiting[(plan.message_id, plan.stage)] = plan
            self._schedule_started()

    def _schedule_started(self) -> None:
        for key in [k for k in self.waiting if k in self.started]:
            plan = self.waiting.pop(key)
            heapq.heappush(self.due, (self.started[key] + plan.delay, id(plan), plan))

    def _watch(self) -> None:
        while not self.stop.is_set():
            for event in self.local.events():
                message = event["message"]
                if message["status"] == "escalated":
                    with self.lock:
                        self.started.setdefault((message["message_id"], int(message["stage"])), epoch(message["at"]))
            with self.lock:
                self._schedule_started()
            self.stop.wait(0.05)

    def _ring(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                ready = []
                while self.due and self.due[0][0] <= time.time():
                    ready.append(heapq.heappop(self.due)[2])
            for plan in ready:
                self.pool.submit(self._answer, plan)
            self.stop.wait(0.01)

    def _answer(self, plan: Plan) -> None:
        try:
            status, body = self.api.call(
                "POST", f"/alerts/{plan.message_id}/ack", {"contact_id": plan.contact}, self.api.client_token
            )
            assert status == 200, body
            plan.answer = body["ack"]
        except BaseException as error:  # reported by the test
            self.errors.append(error)

    def __enter__(self) -> Phones:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()
        self.pool.shutdown(wait=True)


def test_the_ward(api: Api, local: LocalClarion, hog: None) -> None:
    rng = random.Random(20261202)
    for policy_id, stages in POLICIES.items():
        body = {
            "name": f"ward {policy_id}",
            "addressee_ack_within_s": W,
            "stages": [{"contact_ids": ids, "ack_within_s": W} for ids in stages],
            "repeat": REPEAT[policy_id],
        }
        assert api.call("PUT", f"/escalation-policies/{policy_id}", body, api.admin_token)[0] in (200, 201)

    # Given urgent alerts to C-1 over three policies, each planned to be acknowledged by someone or nobody, every
    # policy and every stage among them
    plans: list[Plan] = []
    started = time.monotonic()
    with Phones(api, local) as phones:
        for n in range(ALERTS):
            policy = rng.choice(sorted(POLICIES))
            path = _path(policy)
            stage = rng.choice([None, *range(len(path))])
            contact = rng.choice(path[stage]) if stage is not None else None
            status, _, body = api.post_alert(
                priority="H", escalation_policy_id=policy, message_id=f"ward-{n:04d}-{rng.randrange(10**6)}"
            )
            assert status == 202
            plan = Plan(body["message_id"], policy, stage, contact, rng.uniform(1.0, W - 1.5), len(path))
            plans.append(plan)
            if stage is not None:
                phones.expect(plan, epoch(api.view(plan.message_id)["accepted_at"]))
        planned = {(p.policy, p.stage) for p in plans}
        assert planned == {(p, s) for p in POLICIES for s in [None, *range(len(_path(p)))]}, sorted(planned, key=str)

        # When the clinicians answer, or do not, in real time; then every alert ends acknowledged or unacknowledged
        views: dict[str, dict[str, Any]] = {}

        def every_one_ended() -> bool:
            for plan in plans:
                if plan.message_id in views:
                    continue
                status, view = api.call("GET", f"/alerts/{plan.message_id}", token=api.client_token)
                if status == 200 and view["status"] in ("acknowledged", "unacknowledged"):
                    views[plan.message_id] = view
            return len(views) == ALERTS

        def lost() -> str:
            never = [p.message_id for p in plans if p.message_id not in views]
            return f"{len(never)} alerts never ended: {never[:5]}"

        wait_until(every_one_ended, max(p.windows for p in plans) * W + END_WITHIN_S + 60, 0.5, lost)
        wait_until(lambda: all(p.answer for p in plans if p.stage is not None), 30, 0.2, "an answer never came")
    assert phones.errors == [], phones.errors[:3]

    escalated = Counter(
        (e["message"]["message_id"], e["message"]["stage"])
        for e in local.events()
        if e["message"]["status"] == "escalated"
    )
    late, early, late_ends, after_ack = [], [], [], []
    for plan in plans:
        view = views[plan.message_id]
        accepted, ended = epoch(view["accepted_at"]), epoch(view["ended_at"])
        # no stage started twice, in the log or in the events
        stage_numbers = [s["stage"] for s in view["stages"]]
        assert len(stage_numbers) == len(set(stage_numbers)), view["stages"]
        assert all(escalated[(plan.message_id, s)] == 1 for s in stage_numbers if s > 0), plan.message_id
        # each stage starts at its plan (windows anchored to it): never before, and late by little
        for entry in view["stages"]:
            if entry["stage"] == 0:
                continue
            lateness = epoch(entry["started_at"]) - (accepted + entry["stage"] * W)
            late.append(lateness)
            if lateness < -STAMP_S:
                early.append((plan.message_id, entry["stage"], round(lateness, 3)))
        if view["status"] == "unacknowledged":
            # an unacknowledged walk ends within its planned time plus 2 s, never before it
            over = ended - (accepted + plan.windows * W)
            late.append(over)
            if over > END_WITHIN_S:
                late_ends.append((plan.message_id, round(over, 2)))
            if over < -STAMP_S:
                early.append((plan.message_id, "end", round(over, 3)))
        if plan.stage is None:
            assert view["status"] == "unacknowledged", view
            continue
        # an answer the system took before the walk ended acknowledged it, for the planned contact; one after the
        # end is recorded for the audit and changes nothing
        assert plan.answer is not None and plan.answer["acknowledged_by"] == plan.contact, (plan, view["ack"])
        if plan.answer["after_end"]:
            assert view["status"] == "unacknowledged", (plan, view)
            continue
        assert view["status"] == "acknowledged" and view["ack"]["acknowledged_by"] == plan.contact, (plan, view)
        # nothing committed after the acknowledgement: no stage, no send's fence
        ack_seq = view["ack"]["seq"]
        after_ack += [("stage", plan.message_id, s["seq"]) for s in view["stages"] if s["seq"] > ack_seq]
        after_ack += [("send", plan.message_id, a["seq"]) for a in view["attempts"] if a["seq"] > ack_seq]
    acknowledged = sum(1 for v in views.values() if v["status"] == "acknowledged")
    ordered = sorted(late)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    print(
        f"ward: {ALERTS} alerts, {acknowledged} acknowledged, {ALERTS - acknowledged} unacknowledged, "
        f"{sum(escalated.values())} stages started, {time.monotonic() - started:.0f} s, hog {'on' if HOG else 'off'}; "
        f"lateness after the plan p50 {statistics.median(late):.2f} s, p99 {p99:.2f} s, max {max(late):.2f} s"
    )
    assert early == [], early
    assert after_ack == [], after_ack
    assert late_ends == [], late_ends
    assert p99 <= LATE_P99_S and max(late) <= LATE_MAX_S, (p99, max(late))
