"""The ward: 100 urgent alerts over several escalation policies with windows of seconds, each recipient
acknowledging after a random delay or never, in real time on the local system.

Every alert must end `acknowledged` or `unacknowledged` within the sum of its windows plus 5 s; none is lost;
nobody is notified after an acknowledgement; no stage starts twice."""

from __future__ import annotations

import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clarion_local.system import LocalClarion
from tests.e2e.conftest import Api

ALERTS = 100
W = 5  # every window, seconds
POLICIES = {  # policy id -> stages after the addressee C-1
    "ward-a": [["C-2"]],
    "ward-b": [["C-3", "C-4"], ["C-2"]],
    "ward-c": [["C-4"]],  # walked twice (repeat 1)
}
REPEAT = {"ward-a": 0, "ward-b": 0, "ward-c": 1}
SETTLE_S = 5  # what the issue allows past the sum of the windows


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
    acked_at: float | None = None


def _path(policy: str) -> list[list[str]]:
    return [["C-1"]] + POLICIES[policy] * (REPEAT[policy] + 1)


def test_the_ward(api: Api, local: LocalClarion) -> None:
    rng = random.Random(20261202)
    for policy_id, stages in POLICIES.items():
        body = {
            "name": f"ward {policy_id}",
            "addressee_ack_within_s": W,
            "stages": [{"contact_ids": ids, "ack_within_s": W} for ids in stages],
            "repeat": REPEAT[policy_id],
        }
        assert api.call("PUT", f"/escalation-policies/{policy_id}", body, api.admin_token)[0] in (200, 201)

    def answer(plan: Plan, accepted: float) -> None:
        if plan.stage is None:
            return
        time.sleep(max(0.0, accepted + plan.stage * W + plan.delay - time.time()))
        status, body = api.call(
            "POST", f"/alerts/{plan.message_id}/ack", {"contact_id": plan.contact}, api.client_token
        )
        assert status == 200, body
        if body["ack"]["acknowledged_by"] == plan.contact and not body["ack"]["after_end"]:
            plan.acked_at = epoch(body["ack"]["acknowledged_at"])

    # Given 100 urgent alerts to C-1 over three policies, each planned to be acknowledged by someone or nobody
    plans: list[Plan] = []
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=ALERTS) as phones:
        for n in range(ALERTS):
            policy = rng.choice(sorted(POLICIES))
            path = _path(policy)
            stage = rng.choice([None, *range(len(path))])
            contact = rng.choice(path[stage]) if stage is not None else None
            status, _, body = api.post_alert(
                priority="H", escalation_policy_id=policy, message_id=f"ward-{n:03d}-{rng.randrange(10**6)}"
            )
            assert status == 202
            plan = Plan(body["message_id"], policy, stage, contact, rng.uniform(1.0, W - 1.5), len(path))
            plans.append(plan)
            phones.submit(answer, plan, time.time())
        # When the clinicians answer, or do not, in real time
    # Then every alert ends acknowledged or unacknowledged within its windows plus 5 s
    deadline = time.monotonic() + max(p.windows for p in plans) * W + SETTLE_S + 30
    views: dict[str, dict[str, Any]] = {}
    while len(views) < ALERTS and time.monotonic() < deadline:
        for plan in plans:
            if plan.message_id in views:
                continue
            status, view = api.call("GET", f"/alerts/{plan.message_id}", token=api.client_token)
            if status == 200 and view["status"] in ("acknowledged", "unacknowledged"):
                views[plan.message_id] = view
        time.sleep(0.5)
    lost = [p.message_id for p in plans if p.message_id not in views]
    assert lost == [], f"{len(lost)} alerts never ended: {lost[:5]}"

    outbox = api.call("GET", "/_local/outbox")[1]
    sends: dict[str, list[float]] = {}
    for entry in outbox:
        if entry.get("message_id") and entry.get("at"):
            sends.setdefault(entry["message_id"], []).append(epoch(entry["at"]))
    escalated = Counter(
        (e["message"]["message_id"], e["message"]["stage"])
        for e in local.events()
        if e["message"]["status"] == "escalated"
    )
    late_ends, after_ack = [], []
    for plan in plans:
        view = views[plan.message_id]
        accepted = epoch(view["accepted_at"])
        # no stage started twice, in the log or in the events
        stage_numbers = [s["stage"] for s in view["stages"]]
        assert len(stage_numbers) == len(set(stage_numbers)), view["stages"]
        assert all(escalated[(plan.message_id, s)] == 1 for s in stage_numbers if s > 0), plan.message_id
        # the end within the sum of the windows plus 5 s
        if epoch(view["ended_at"]) - accepted > plan.windows * W + SETTLE_S:
            late_ends.append((plan.message_id, round(epoch(view["ended_at"]) - accepted - plan.windows * W, 2)))
        # an acknowledged alert: by the planned contact, and nobody notified afterwards
        if plan.acked_at is not None:
            assert view["status"] == "acknowledged" and view["ack"]["acknowledged_by"] == plan.contact
            after_ack += [t - plan.acked_at for t in sends.get(plan.message_id, []) if t > plan.acked_at + 0.5]
        elif plan.stage is None:
            assert view["status"] == "unacknowledged", view
    acknowledged = sum(1 for v in views.values() if v["status"] == "acknowledged")
    print(
        f"ward: {ALERTS} alerts, {acknowledged} acknowledged, {ALERTS - acknowledged} unacknowledged, "
        f"{sum(escalated.values())} stages started, {len(outbox)} messages, {time.monotonic() - started:.0f} s"
    )
    assert late_ends == [], late_ends
    assert after_ack == [], after_ack
