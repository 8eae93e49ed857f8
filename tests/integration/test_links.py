"""Acknowledgement links in-process: the link in the SMS and the email, its page, its buttons, and every way a
link can be wrong (tampered, expired, unknown, another alert's) getting one answer."""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import urlencode

import pytest

from clarion.adapters import links
from clarion.handlers import links as links_api
from clarion.shared import clock
from tests.helpers import FakeContext
from tests.integration.walk import Walk

LINK = re.compile(r"https?://\S+/l/([A-Za-z0-9_-]{38})")
INVALID = "This link is no longer valid"


@pytest.fixture
def walk(clarion: Any) -> Walk:
    w = Walk(clarion)
    w.given_contacts_and_policy()
    return w


def open_link(token: str, method: str = "GET", form: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    event = {
        "resource": "/l/{token}",
        "path": f"/l/{token}",
        "httpMethod": method,
        "headers": {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {},
        "pathParameters": {"token": token},
        "requestContext": {"resourcePath": "/l/{token}", "httpMethod": method, "stage": "v1"},
        "body": urlencode(form) if form is not None else None,
        "isBase64Encoded": False,
    }
    answer = links_api.handler(event, FakeContext())
    return answer["statusCode"], answer["body"], answer["headers"]


def sms_link(walk: Walk, clarion: Any, priority: str = "M") -> str:
    """Send a medium alert (SMS first for C-1) and return the token in the SMS that went out."""
    walk.post_alert(priority=priority, escalation_policy_id="ward-7b")
    walk.route_all()
    [sms] = [m for m in clarion.outbox if m["channel"] == "sms"]
    found = LINK.search(sms["text"])
    assert found, sms["text"]
    return found.group(1)


def test_the_sms_carries_a_link_whole_and_opening_it_shows_the_alert_without_acknowledging(walk, clarion):
    # Given the SMS sent for an alert that needs an acknowledgement
    token = sms_link(walk, clarion)
    [sms] = [m for m in clarion.outbox if m["channel"] == "sms"]
    assert len(sms["text"]) <= 306 and sms["text"].endswith(token)
    # When the clinician (or a mail scanner) opens the link
    status, page, headers = open_link(token)
    # Then the page shows the alert and the two buttons, and nothing is acknowledged
    assert status == 200
    assert "Potassium 6.9 mmol/L, ward 7" in page and "Acknowledge" in page and "Decline" in page
    assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert walk.get()["ack"]["acknowledged_by"] is None


def test_pressing_acknowledge_acknowledges_for_that_recipient_via_the_link(walk, clarion):
    token = sms_link(walk, clarion)
    status, page, _ = open_link(token, "POST", {"action": "ack"})
    assert status == 200 and "acknowledged" in page
    ack = walk.get()["ack"]
    assert (ack["acknowledged_by"], ack["via"]) == ("C-1", "link")
    # And opening it again says so, without a button
    status, page, _ = open_link(token)
    assert status == 200 and "Already acknowledged" in page and "<button" not in page


def test_pressing_decline_records_the_reason_and_passes_the_alert_on(walk, clarion):
    token = sms_link(walk, clarion)
    status, page, _ = open_link(token, "POST", {"action": "decline", "reason": "not my patient"})
    assert status == 200 and "passed on" in page
    view = walk.get()
    assert [(d["contact_id"], d["via"], d["reason"]) for d in view["declines"]] == [("C-1", "link", "not my patient")]
    assert len(walk.timers_due_now()) == 1


def test_the_email_carries_the_link_too(walk, clarion):
    walk.post_alert(priority="H", escalation_policy_id="ward-7b")
    for channel in ("call", "sms"):
        clarion.bridge.add_fault(channel, "reject", count=1)
    walk.route_all()
    [email] = [m for m in clarion.outbox if m["channel"] == "email"]
    assert LINK.search(email["template_data"]["link"])


def _flip(token: str, index: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token + "=="))
    raw[index] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda t: _flip(t, 0), id="handle-tampered"),
        pytest.param(lambda t: _flip(t, 9), id="expiry-tampered"),
        pytest.param(lambda t: _flip(t, 20), id="signature-tampered"),
        pytest.param(lambda t: t[:-1], id="truncated"),
        pytest.param(lambda t: t + "A", id="too-long"),
        pytest.param(lambda t: "%" * 38, id="not-base64"),
        pytest.param(lambda t: "", id="empty"),
        pytest.param(lambda t: "é" * 38, id="not-ascii"),
    ],
)
def test_a_tampered_or_malformed_link_gets_the_same_plain_page(walk, clarion, spoil):
    token = sms_link(walk, clarion)
    for method, form in (("GET", None), ("POST", {"action": "ack"})):
        status, page, _ = open_link(spoil(token), method, form)
        assert (status, INVALID in page) == (404, True)
    assert walk.get()["ack"]["acknowledged_by"] is None


def test_an_expired_link_gets_the_same_page(walk, clarion, monkeypatch):
    token = sms_link(walk, clarion)
    assert links.resolve(token) is not None
    import time

    later = time.time() + 86_400 + 1
    monkeypatch.setattr(clock, "time", lambda: later)
    status, page, _ = open_link(token, "POST", {"action": "ack"})
    assert (status, INVALID in page) == (404, True)


def test_a_validly_signed_link_whose_item_is_gone_gets_the_same_page(walk, clarion):
    token = sms_link(walk, clarion)
    raw = base64.urlsafe_b64decode(token + "==")
    walk.clarion.table("DELIVERY_TABLE").delete_item(Key={"pk": f"link#{raw[:8].hex()}", "sk": "LINK"})
    status, page, _ = open_link(token)
    assert (status, INVALID in page) == (404, True)


def test_a_link_acknowledges_its_own_alert_and_recipient_only(walk, clarion):
    # Given two alerts to C-1, each with its own link
    first = sms_link(walk, clarion)
    walk.message_id = "lab-2"
    walk.post_alert(priority="M", escalation_policy_id="ward-7b")
    walk.route_all()
    # When the first alert's link is pressed
    open_link(first, "POST", {"action": "ack"})
    # Then only the first alert is acknowledged
    assert walk.get()["ack"]["acknowledged_by"] is None
    walk.message_id = "lab-1"
    assert walk.get()["ack"]["acknowledged_by"] == "C-1"


@pytest.mark.parametrize(
    "form",
    [{"action": "delete"}, {}, {"action": "ack" * 1000}, {"reason": "x"}],
    ids=["unknown-action", "empty", "oversized", "no-action"],
)
def test_a_form_that_is_not_one_of_the_two_buttons_changes_nothing(walk, clarion, form):
    token = sms_link(walk, clarion)
    status, _, _ = open_link(token, "POST", form)
    assert status == 400
    view = walk.get()
    assert view["ack"]["acknowledged_by"] is None and view["declines"] == []


def test_hostile_text_in_the_alert_is_escaped_on_the_page(walk, clarion):
    walk.post_alert(priority="M", escalation_policy_id="ward-7b", description='<script>alert("x")</script> & co')
    walk.route_all()
    [sms] = [m for m in clarion.outbox if m["channel"] == "sms"]
    token = LINK.search(sms["text"]).group(1)  # type: ignore[union-attr]
    _, page, _ = open_link(token)
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_no_token_reaches_a_log_line(walk, clarion, capsys, monkeypatch):
    from tests.integration.api_events import log_to_captured_stdout

    token = sms_link(walk, clarion)
    log_to_captured_stdout(monkeypatch)
    open_link(token)
    open_link(token, "POST", {"action": "ack"})
    open_link(_flip(token, 20))
    assert token not in capsys.readouterr().out


def test_declining_after_the_walk_ended_says_nothing_changed(walk, clarion, monkeypatch):
    token = sms_link(walk, clarion)
    walk.fire(0, walk.window_end(0), monkeypatch=monkeypatch)
    walk.fire(1, walk.window_end(1) + 1, monkeypatch=monkeypatch)
    walk.fire(2, walk.window_end(2) + 1, monkeypatch=monkeypatch)
    assert walk.get()["status"] == "unacknowledged"
    status, page, _ = open_link(token, "POST", {"action": "decline"})
    assert status == 200 and "Nothing changed" in page
    assert walk.get()["declines"] == []


def test_when_the_link_cannot_be_signed_the_sms_still_goes_out_without_it(walk, clarion, monkeypatch):
    from botocore.exceptions import ClientError

    def kms_down(payload: bytes) -> bytes:
        raise ClientError({"Error": {"Code": "KMSInternalException", "Message": "down"}}, "GenerateMac")

    monkeypatch.setattr(links, "_mac", kms_down)
    walk.post_alert(priority="M", escalation_policy_id="ward-7b")
    walk.route_all()
    [sms] = [m for m in clarion.outbox if m["channel"] == "sms"]
    assert "/l/" not in sms["text"] and "Potassium" in sms["text"]
    assert walk.get()["status"] == "delivered"
