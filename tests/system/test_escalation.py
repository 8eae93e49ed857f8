"""The closed loop on the local system, in real time with windows of seconds: a stage starts on time when nobody
acknowledges, an acknowledgement (by API or by the link in the SMS) stops the walk, acknowledgements racing a
stage's timer have one outcome, and a link opened in a browser-like client never acknowledges by itself."""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from clarion_local.system import LocalClarion
from tests.helpers import http_call, wait_until
from tests.system.conftest import Api

LINK = re.compile(r"https?://[^\s/]+(/l/[A-Za-z0-9_-]{38})")
WINDOW = 5  # seconds: the smallest window Clarion allows
LINK_TOKENS: list[str] = []


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def put_policy(api: Api, policy_id: str, stages: list[list[str]], window: int = WINDOW, repeat: int = 0) -> None:
    body = {
        "name": f"e2e {policy_id}",
        "addressee_ack_within_s": window,
        "stages": [{"contact_ids": ids, "ack_within_s": window} for ids in stages],
        "repeat": repeat,
    }
    status, answer = api.call("PUT", f"/escalation-policies/{policy_id}", body, api.admin_token)
    assert status in (200, 201), answer


def view(api: Api, message_id: str) -> dict[str, Any]:
    status, body = api.call("GET", f"/alerts/{message_id}", token=api.client_token)
    assert status == 200, body
    return dict(body)


def wait_for(api: Api, message_id: str, done: Any, timeout: float = 30) -> dict[str, Any]:
    seen: list[dict[str, Any]] = []

    def met() -> dict[str, Any] | None:
        seen.append(view(api, message_id))
        return seen[-1] if done(seen[-1]) else None

    return wait_until(met, timeout, message=lambda: f"{message_id}: {seen[-1]}")


def wait_past(moment: float) -> None:
    """Until the epoch second `moment` has passed (time is the subject)."""
    time.sleep(max(0.0, moment - time.time()))


def timers_handled(local: LocalClarion, due: float) -> None:
    """Every timer due by the epoch second `due` handled: past it (and one second more: SQS delays by whole seconds,
    so by then none of them is still delayed), until the timer queue holds none waiting or being handled."""
    wait_past(due + 1)
    sqs, url = local.client("sqs"), local.deployment.output("TimerQueueUrl")
    counts = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]

    def idle() -> bool:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=counts)["Attributes"]
        return all(attributes[c] == "0" for c in counts)

    wait_until(idle, 60, 0.1, "the timer queue never fell idle")


def link_in(entries: list[dict[str, Any]], destination: str) -> str:
    """The link path (/l/<token>) in the message that went to `destination`."""
    for entry in entries:
        text = entry.get("text") or (entry.get("template_data") or {}).get("link") or ""
        found = LINK.search(text)
        if entry.get("destination") == destination and found:
            LINK_TOKENS.append(found.group(1).rsplit("/", 1)[1])
            return found.group(1)
    raise AssertionError(f"no link to {destination} in {entries}")


def press(port: int, link: str, action: str, **extra: str) -> tuple[int, str]:
    from urllib.parse import urlencode

    status, body = http_call(
        port,
        "POST",
        link,
        urlencode({"action": action, **extra}).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    return status, body.decode()


@pytest.fixture
def ward(api: Api) -> Api:
    put_policy(api, "e2e-ward", [["C-2"], ["C-3", "C-4"]])
    return api


def test_nobody_answers_so_the_next_stage_starts_on_time_and_acknowledges_by_the_link(ward: Api, local: LocalClarion):
    # Given a high-priority alert to C-1, whose policy gives C-1 five seconds, then C-2
    status, _, body = ward.post_alert(priority="H", escalation_policy_id="e2e-ward")
    assert status == 202
    message_id = body["message_id"]
    # When C-1 does not answer
    escalated = wait_for(ward, message_id, lambda v: len(v["stages"]) >= 2, timeout=WINDOW + 10)
    # Then C-2's stage starts within two seconds of C-1's window's end
    lateness = epoch(escalated["stages"][1]["started_at"]) - (epoch(escalated["accepted_at"]) + WINDOW)
    assert 0 <= lateness < 2, lateness
    assert escalated["stages"][1]["contact_ids"] == ["C-2"]
    # And C-2's SMS carries a link that opens on this server; opening it does not acknowledge
    # (sent, or already delivered: the SMS receipt can come within the 0.1 s between two looks)
    wait_for(
        ward,
        message_id,
        lambda v: any(a["contact_id"] == "C-2" and a["outcome"] in ("sent", "delivered") for a in v["attempts"]),
    )
    link = link_in(ward.outbox_of(message_id), "+447911123402")
    status, page = http_call(local.port, "GET", link, None, {})
    assert status == 200 and b"Acknowledge" in page
    assert view(ward, message_id)["ack"]["acknowledged_by"] is None
    # When C-2 presses Acknowledge
    status, page_text = press(local.port, link, "ack")
    assert status == 200 and "acknowledged" in page_text
    # Then the alert is acknowledged by C-2 via the link, and the walk stops: stage 2 never starts
    acked = view(ward, message_id)
    assert (acked["status"], acked["ack"]["acknowledged_by"], acked["ack"]["via"]) == ("acknowledged", "C-2", "link")
    assert acked["ack"]["within_target"] is True
    timers_handled(local, epoch(escalated["stages"][1]["started_at"]) + WINDOW)  # C-2's window's timer
    after = view(ward, message_id)
    assert len(after["stages"]) == 2
    assert not [e for e in ward.outbox_of(message_id) if e["destination"].startswith(("cleo", "pharmacy"))]


def test_an_acknowledgement_by_api_stops_all_further_messages(ward: Api, local: LocalClarion) -> None:
    status, _, body = ward.post_alert(priority="H", escalation_policy_id="e2e-ward")
    message_id = body["message_id"]
    delivered = wait_for(ward, message_id, lambda v: v["status"] == "delivered")
    status, answer = ward.call("POST", f"/alerts/{message_id}/ack", {"contact_id": "C-1"}, ward.client_token)
    assert status == 200 and answer["status"] == "acknowledged"
    sent_before = len(ward.outbox_of(message_id))
    timers_handled(local, epoch(delivered["accepted_at"]) + WINDOW)  # C-1's window's timer
    assert len(ward.outbox_of(message_id)) == sent_before
    assert [s["stage"] for s in view(ward, message_id)["stages"]] == [0]


def test_an_alert_nobody_acknowledges_ends_unacknowledged_after_its_last_window(api: Api) -> None:
    put_policy(api, "e2e-short", [["C-4"]])
    before = api.metrics().get("acks.AlertsUnacknowledged[priority=H]", 0)
    _, _, body = api.post_alert(priority="H", escalation_policy_id="e2e-short")
    ended = wait_for(api, body["message_id"], lambda v: v["status"] == "unacknowledged", timeout=2 * WINDOW + 10)
    took = time.time() - epoch(ended["accepted_at"])
    assert took < 2 * WINDOW + 5
    assert api.metric_reaches("acks.AlertsUnacknowledged[priority=H]", before + 1) == before + 1


def test_fifty_acknowledgements_racing_the_timer_have_one_outcome_each(ward: Api, local: LocalClarion) -> None:
    # Given fifty alerts, and for each C-1 acknowledging right as its window ends (give or take a tenth of a second)
    def ack_at(message_id: str, due: float) -> int:
        wait_past(due)  # time is the subject: the acknowledgement races the window's end
        return ward.call("POST", f"/alerts/{message_id}/ack", {"contact_id": "C-1"}, ward.client_token)[0]

    ids, answers, window_ends = [], [], []
    with ThreadPoolExecutor(max_workers=50) as pool:
        for n in range(50):
            status, _, body = ward.post_alert(priority="H", escalation_policy_id="e2e-ward")
            assert status == 202
            ids.append(body["message_id"])
            window_ends.append(time.time() + WINDOW)  # (the alert was accepted before this)
            answers.append(pool.submit(ack_at, body["message_id"], window_ends[-1] + (n % 3 - 1) / 10))
        assert {a.result() for a in answers} == {200}

    # Once every window's timer is handled, each C-2 stage that won its race has started; once the timers of those
    # stages' windows are handled too, no later stage can start
    def views() -> list[dict[str, Any]]:
        with ThreadPoolExecutor(max_workers=8) as readers:
            return list(readers.map(lambda message_id: view(ward, message_id), ids))

    timers_handled(local, max(window_ends))
    won = [epoch(s["started_at"]) for v in views() for s in v["stages"] if s["stage"] == 1]
    if won:
        timers_handled(local, max(won) + WINDOW)
    # Then every alert is acknowledged by C-1; none started a stage twice or a stage after its acknowledgement: in
    # the alert's commit order every stage comes before the acknowledgement, and so do their times (an
    # acknowledgement slowed by the machine's load may come after more than one stage: that is no second outcome)
    raced = late = 0
    for final in views():
        said = json.dumps(final)
        assert final["ack"] and final["ack"]["acknowledged_by"] == "C-1", said
        if final["status"] != "acknowledged":  # an acknowledgement the load held past the last window: recorded
            assert final["status"] == "unacknowledged" and final["ack"]["after_end"], said  # after the end, no outcome
            assert epoch(final["ack"]["acknowledged_at"]) >= epoch(final["ended_at"]), said  # but the end's
            late += 1
        stages = [s["stage"] for s in final["stages"]]
        assert stages == list(range(len(stages))), said
        for stage in final["stages"]:
            assert stage["seq"] < final["ack"]["seq"], said
            assert epoch(stage["started_at"]) <= epoch(final["ack"]["acknowledged_at"]), said
        raced += len(stages) > 1
    print(f"{raced} of 50 acknowledgements came after a stage had started, {late} after the walk's end")


def test_no_link_token_reaches_a_function_log(local: LocalClarion) -> None:
    assert local.log_dir is not None
    logs = "\n".join(p.read_text(errors="replace") for p in local.log_dir.glob("*.log"))
    assert LINK_TOKENS, "the suites above opened links"
    assert [t for t in LINK_TOKENS if t in logs] == []
    assert urlsplit(local.url).hostname == "127.0.0.1"
