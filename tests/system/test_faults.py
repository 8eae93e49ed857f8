"""Hundreds of alerts while every channel fails at random in every mode: nothing is lost, nothing is sent that the
log does not show, and the unroutable metric counts exactly the alerts that every channel failed.

`make test` posts 200 (`CLARION_FAULTS_ALERTS`): ten waves, so the first nine still arm every channel and mode and
the last adds random ones, from the same 8 concurrent callers; `make bench` posts the thousand of the original
suite (each alert also waits for its receipts, each call for its keypress: about 5 minutes here)."""

from __future__ import annotations

import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from clarion_local.system import LocalClarion
from tests.helpers import wait_until
from tests.system.conftest import UNROUTABLE, Api, new_alert

ALERTS = int(os.environ.get("CLARION_FAULTS_ALERTS", "200"))
CONTACTS = ["C-1", "C-1", "C-2", "C-3", "C-4"]  # C-1 twice: every channel, the AWS sample's clinician
PRIORITIES = ["H", "M", "L"]
WAVE = 20


def random_fault(rng: random.Random) -> dict[str, Any]:
    return {
        "channel": rng.choice(["call", "sms", "email"]),
        "mode": rng.choice(["throttle", "outage", "reject"]),
        "count": rng.randint(1, 6),
    }


def wait_all(api: Api, message_ids: list[str], timeout: float = 900) -> list[dict[str, Any]]:
    """Every alert's view once it has ended, waiting for one at a time in the order they were posted: while the
    first waits, the others end too, so most are read once (a sweep over every alert still going would ask the
    system, which shares this machine's cores, far more often)."""
    deadline = time.monotonic() + timeout
    views = []
    for message_id in message_ids:

        def ended(message_id: str = message_id) -> dict[str, Any] | None:
            status, view = api.call("GET", f"/alerts/{message_id}", token=api.client_token)
            assert status == 200, view
            # (an alert that ended otherwise, unacknowledged, is no longer waited for: the check below names it)
            return view if view["status"] in ("delivered", "failed", "acknowledged", "unacknowledged") else None

        left = max(0.0, deadline - time.monotonic())
        views.append(wait_until(ended, left, 0.5, f"{message_id} not ended; alerts still going from there on"))
    return views


def test_hundreds_of_alerts_under_random_faults_all_end_and_match_their_logs(api: Api, local: LocalClarion) -> None:
    rng = random.Random(20261121)
    before = api.total(UNROUTABLE)
    bodies = [new_alert(contact_id=rng.choice(CONTACTS), priority=rng.choice(PRIORITIES)) for _ in range(ALERTS)]
    armed: list[dict[str, Any]] = []

    # When the alerts are posted in waves of 20 by 8 callers, with 0-2 random faults armed before each wave (and,
    # before the first nine, one of each channel and mode, so every kind bites whatever the suite's size)
    every = [(c, m) for c in ("call", "sms", "email") for m in ("throttle", "outage", "reject")]
    answers = []
    with ThreadPoolExecutor(8) as pool:
        for start in range(0, ALERTS, WAVE):
            wave_number = start // WAVE
            faults = [random_fault(rng) for _ in range(rng.randint(0, 2))]
            if wave_number < len(every):
                channel, mode = every[wave_number]
                faults.append({"channel": channel, "mode": mode, "count": rng.randint(1, 6)})
            for fault in faults:
                assert api.call("POST", "/_local/faults", fault)[0] == 201
                armed.append(fault)
            wave = bodies[start : start + WAVE]
            answers += list(pool.map(lambda b: api.call("POST", "/alerts", b, api.client_token), wave))
    accepted = [b["message_id"] for b, (status, _) in zip(bodies, answers, strict=True) if status == 202]
    refused = [(b["contact_id"], b["priority"], a) for b, a in zip(bodies, answers, strict=True) if a[0] != 202]
    assert len(accepted) == ALERTS, refused[:5]
    views = wait_all(api, accepted)

    # Then every accepted alert ended, delivered or failed
    assert {v["status"] for v in views} <= {"delivered", "failed"}, [
        v for v in views if v["status"] not in ("delivered", "failed")
    ][:3]
    # And what went out is exactly what each alert's delivery log says a provider took (sent, or settled by its
    # receipt: delivered, undelivered, no answer), and one of them reached the clinician if and only if delivered
    _, outbox = api.call("GET", "/_local/outbox")
    sends: dict[str, int] = {}
    for entry in outbox:
        sends[entry["message_id"]] = sends.get(entry["message_id"], 0) + 1  # None: notices, no alert's
    for view in views:
        took = [a for a in view["attempts"] if a["outcome"] in ("sent", "delivered", "undelivered", "no_answer")]
        reached = [a for a in took if a["outcome"] in ("sent", "delivered")]
        assert sends.get(view["message_id"], 0) == len(took), view
        assert len(reached) == (1 if view["status"] == "delivered" else 0), view
    # And the unroutable metric counts exactly the alerts every channel failed
    failed = [v for v in views if v["status"] == "failed"]
    assert all(a["outcome"] not in ("sent", "delivered") for v in failed for a in v["attempts"])
    assert api.metric_reaches(UNROUTABLE, before + len(failed)) == before + len(failed)
    # And nothing waits in the dead-letter queue
    sqs = local.client("sqs")
    dlq = local.deployment.output("DeadLetterQueueUrl")
    counts = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == counts["ApproximateNumberOfMessagesNotVisible"] == "0"
    # And the faults really bit: every channel, every mode, and alerts both delivered and failed
    assert {(f["channel"], f["mode"]) for f in armed} == {
        (c, m) for c in ("call", "sms", "email") for m in ("throttle", "outage", "reject")
    }
    assert failed and len(failed) < ALERTS
    fell_back = [
        v for v in views if v["status"] == "delivered" and v["attempts"][-1]["channel"] != v["attempts"][0]["channel"]
    ]
    assert fell_back
    attempts = sum(len(v["attempts"]) for v in views)
    print(f"\n{ALERTS} alerts: {ALERTS - len(failed)} delivered, {len(fell_back)} of them after a fallback;")
    print(f"{len(failed)} failed on every channel; {len(armed)} faults armed; {attempts} provider attempts")
