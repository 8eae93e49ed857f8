"""Delivery receipts: every kind for every channel, and receipts twice, late or out of order."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.domain import receipts
from clarion.domain.receipts import FINAL, Verdict


@pytest.mark.parametrize(
    ("event", "verdict"),
    [
        ({"eventType": "TEXT_DELIVERED", "isFinal": True}, Verdict.DELIVERED),
        ({"eventType": "TEXT_SUCCESSFUL", "isFinal": True}, Verdict.DELIVERED),
        ({"eventType": "TEXT_SUCCESSFUL", "isFinal": False}, Verdict.IN_PROGRESS),
        ({"eventType": "TEXT_PENDING"}, Verdict.IN_PROGRESS),
        ({"eventType": "TEXT_UNREACHABLE"}, Verdict.UNDELIVERED),
        ({"eventType": "TEXT_CARRIER_BLOCKED"}, Verdict.UNDELIVERED),
        ({"eventType": "TEXT_TTL_EXPIRED"}, Verdict.UNDELIVERED),
        ({"eventType": "TEXT_UNKNOWN"}, Verdict.UNDELIVERED),
        ({"eventType": "VOICE_BUSY"}, Verdict.IGNORED),
        ({}, Verdict.IGNORED),
    ],
)
def test_sms_events(event, verdict):
    assert receipts.classify_sms(event) is verdict


@pytest.mark.parametrize(
    ("event", "verdict"),
    [
        ({"eventType": "Delivery"}, Verdict.DELIVERED),
        ({"eventType": "Bounce", "bounce": {"bounceType": "Permanent"}}, Verdict.UNDELIVERED),
        ({"eventType": "Bounce", "bounce": {"bounceType": "Transient"}}, Verdict.IN_PROGRESS),
        ({"notificationType": "Bounce", "bounce": {"bounceType": "Undetermined"}}, Verdict.UNDELIVERED),
        ({"eventType": "Reject"}, Verdict.UNDELIVERED),
        ({"eventType": "Rendering Failure"}, Verdict.UNDELIVERED),
        ({"eventType": "Complaint"}, Verdict.IGNORED),
        ({"eventType": "Open"}, Verdict.IGNORED),
        ({"eventType": "Send"}, Verdict.IN_PROGRESS),
        ({"eventType": "Something new"}, Verdict.IGNORED),
    ],
)
def test_email_events(event, verdict):
    assert receipts.classify_email(event) is verdict


@pytest.mark.parametrize(
    ("reason", "connected", "verdict"),
    [
        ("CUSTOMER_DISCONNECT", True, Verdict.DELIVERED),
        ("TELECOM_BUSY", False, Verdict.NO_ANSWER),
        ("TELECOM_UNANSWERED", False, Verdict.NO_ANSWER),
        ("TELECOM_TIMEOUT", False, Verdict.NO_ANSWER),
        ("TELECOM_NUMBER_INVALID", False, Verdict.UNDELIVERED),
        ("TELECOM_PROBLEM", False, Verdict.UNDELIVERED),
        (None, False, Verdict.IN_PROGRESS),
    ],
)
def test_call_outcomes(reason, connected, verdict):
    assert receipts.classify_call(reason, connected) is verdict


def test_a_failure_moves_on_once_and_a_late_or_repeated_receipt_changes_nothing():
    state = receipts.settle(None, Verdict.IN_PROGRESS)
    failed = receipts.settle(state, Verdict.UNDELIVERED)
    assert failed is Verdict.UNDELIVERED and receipts.moves_on(state, failed)
    # the same bounce again, a late "delivered", a late "pending": the verdict stands and nothing moves on again
    for late in (Verdict.UNDELIVERED, Verdict.DELIVERED, Verdict.IN_PROGRESS, Verdict.IGNORED):
        after = receipts.settle(failed, late)
        assert after is Verdict.UNDELIVERED and not receipts.moves_on(failed, after)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list(Verdict)), max_size=12))
def test_whatever_order_receipts_come_in_the_first_final_one_stands(arrivals):
    state = None
    moved = 0
    for verdict in arrivals:
        after = receipts.settle(state, verdict)
        moved += receipts.moves_on(state, after)
        state = after
    finals = [v for v in arrivals if v in FINAL]
    assert state == (finals[0] if finals else next((v for v in reversed(arrivals) if v is Verdict.IN_PROGRESS), None))
    assert moved == (1 if finals and finals[0] in receipts.FAILURES else 0)
