"""The dead-letter path on the whole local system: an alert whose queue message SQS moved to the dead-letter
queue ends `failed` with a reason within seconds, by the dead-letters function the template deploys on that
queue; `python -m tools.redrive`, run as an operator runs it, sends it back once and then finds nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from clarion_local.system import ACCOUNT_CREDENTIALS, REGION, LocalClarion
from tests.helpers import wait_until
from tests.system.conftest import UNROUTABLE, Api, wait_idle

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def router_paused(local: LocalClarion) -> Iterator[str]:
    """The router's event source mapping disabled (the alert queue's URL), as an operator would during a bug."""
    url = local.deployment.output("AlertQueueUrl")
    (poller,) = [p for p in local.pollers if p.queue_url.rsplit("/", 1)[-1] == url.rsplit("/", 1)[-1]]
    poller.running.clear()
    wait_until(lambda: poller.polling == 0, 10, 0.05, "a receive already under way returns first")
    try:
        yield url
    finally:
        poller.running.set()


def dead_letter(local: LocalClarion, queue_url: str, message_id: str) -> None:
    """What SQS does after the fifth receive: move the alert's message to the dead-letter queue."""
    sqs = local.client("sqs")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            if f'"message_id": "{message_id}"' in message["Body"]:
                sqs.send_message(QueueUrl=local.deployment.output("DeadLetterQueueUrl"), MessageBody=message["Body"])
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                return
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
    raise AssertionError(f"{message_id} never reached the alert queue")


def redrive(local: LocalClarion) -> str:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": str(local.endpoint_url),
        "AWS_ACCESS_KEY_ID": ACCOUNT_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": ACCOUNT_CREDENTIALS["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": REGION,
    }
    stack = next(name for name in local.deployment.stacks if name.endswith("-Data"))
    done = subprocess.run(  # noqa: S603 - our own command, no shell
        [sys.executable, "-m", "tools.redrive", "--stack", stack],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_dead_lettered_alert_ends_failed_and_one_redrive_delivers_it_once(api: Api, local: LocalClarion) -> None:
    unroutable = api.total(UNROUTABLE)
    # Given an alert accepted while the router is down, whose message SQS then moved to the dead-letter queue
    with router_paused(local) as queue_url:
        status, _, alert = api.post_alert(priority="L")
        assert status == 202
        dead_letter(local, queue_url, alert["message_id"])
        # When the dead-letters function takes it
        view = api.until(lambda: (v := api.view(alert["message_id"]))["status"] == "failed" and v, timeout=20)
    # Then it is failed with a reason a person understands, published, and counted unroutable (the on-call alarm)
    assert view["failure"]["code"] == "dead_lettered"
    assert "could not finish routing" in view["failure"]["message"]
    assert view["attempts"] == []

    def statuses() -> list[str]:
        return [e["message"]["status"] for e in local.events() if e["message"].get("message_id") == alert["message_id"]]

    assert api.until(lambda: statuses()[-2:] == ["failed", "unroutable"], timeout=10)
    assert api.metric_reaches(UNROUTABLE, unroutable + 1) == unroutable + 1
    # When the operator redrives, with the router back
    report = redrive(local)
    # Then it is queued once and delivered, with one email
    assert f"Queued 1: lab-system/{alert['message_id']}" in report, report
    assert api.wait(alert["message_id"])["status"] == "delivered"
    assert len(api.outbox_of(alert["message_id"])) == 1
    # And a second redrive finds nothing, and nothing goes out again
    assert redrive(local) == "Nothing is parked: there is nothing to redrive."
    wait_idle(local)
    assert len(api.outbox_of(alert["message_id"])) == 1
