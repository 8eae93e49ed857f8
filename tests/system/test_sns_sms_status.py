"""SMS that stays one-way on SNS, with SNS's SMS delivery status as its receipts: the whole local system built
from the `dev-call-off` assembly (no `sms_origination`, `sns_sms_delivery_status: manage`).

What is proven through the template, not beside it: the custom resource sets the account's SMS delivery-status role
(its SDK call made against the emulator), the subscription filters of the two log groups name the SMS status
function, and SNS's log lines (played by the local SNS, as SNS writes them) settle the attempts."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clarion import names
from clarion_local.system import LocalClarion
from tests.synth import synth_config
from tests.system.conftest import Api, watched

BEN = "+447911123402"  # C-2: medium priority by SMS, then email (samples.py)


@pytest.fixture(scope="module")
def one_way(synth_dir: Path) -> Iterator[LocalClarion]:
    """A system of its own: another assembly (no calls, SMS through SNS) deployed, not the shared dev one."""
    with watched(synth_config("dev-call-off", str(synth_dir)).assembly) as system:
        yield system


@pytest.fixture
def api(one_way: LocalClarion) -> Iterator[Api]:
    assert one_way.client_token and one_way.admin_token
    client = Api(one_way.port, one_way.client_token, one_way.admin_token)
    client.call("DELETE", "/_local/faults")
    yield client
    client.call("DELETE", "/_local/faults")


def sms_attempts(view: dict) -> list[tuple[str, str, str | None]]:
    return [(a["channel"], a["outcome"], a.get("receipt")) for a in view["attempts"]]


def settled(api: Api, message_id: str) -> dict | None:
    """The alert's view once its first attempt has a receipt's outcome."""
    view = api.view(message_id)
    return view if view["attempts"] and view["attempts"][0]["outcome"] not in ("pending", "sent") else None


def test_the_stack_turns_on_the_accounts_sms_delivery_status_with_its_own_role(one_way: LocalClarion) -> None:
    attributes = one_way.client("sns").get_sms_attributes()["attributes"]
    role = attributes["DeliveryStatusIAMRole"]
    assert role.startswith("arn:aws:iam::") and "SnsSmsDeliveryStatus" in role
    assert attributes["DeliveryStatusSuccessSamplingRate"] == "100"
    assert one_way.deployment is not None
    groups = sorted(one_way.deployment.log_subscriptions)
    region, account = one_way.client("sts").meta.region_name, one_way.client("sts").get_caller_identity()["Account"]
    assert groups == [
        f"sns/{region}/{account}/DirectPublishToPhoneNumber",
        f"sns/{region}/{account}/DirectPublishToPhoneNumber/Failure",
    ]
    handlers = {one_way.deployment.functions[f].handler for f in one_way.deployment.log_subscriptions.values()}
    assert handlers == {names.SMS_STATUS_HANDLER}


def test_an_sms_is_delivered_when_sns_says_so(api: Api) -> None:
    status, _, body = api.post_alert(contact_id="C-2", priority="M")
    assert status == 202
    view = api.until(lambda: settled(api, body["message_id"]))
    assert sms_attempts(view) == [("sms", "delivered", "SUCCESS")]
    assert [e["channel"] for e in api.outbox_of(body["message_id"])] == ["sms"]


def test_an_sms_sns_could_not_deliver_moves_to_email_at_once(api: Api) -> None:
    api.fault("sms", "undelivered", count=1)
    status, _, body = api.post_alert(contact_id="C-2", priority="M")
    assert status == 202
    started = time.monotonic()
    emails = api.until(lambda: [e for e in api.outbox_of(body["message_id"]) if e["channel"] == "email"])
    # Far inside the SMS receipt timeout (120 s): the FAILURE line moved it on, not the deadline
    assert time.monotonic() - started < 20
    assert emails[0]["destination"] == "ben.sample@clinic.example.org"
    view = api.view(body["message_id"])
    assert sms_attempts(view)[0] == ("sms", "undelivered", "FAILURE")


def test_the_sms_status_function_logs_message_ids_never_the_number(one_way: LocalClarion, api: Api) -> None:
    assert one_way.log_dir is not None
    logs = [p for p in one_way.log_dir.glob("*.log") if p.name == "sms-status.log"]
    assert logs, sorted(p.name for p in one_way.log_dir.glob("*.log"))
    text = "\n".join(p.read_text() for p in logs)
    assert "SMS status queued as a receipt" in text
    assert BEN not in text and json.dumps(BEN) not in text
