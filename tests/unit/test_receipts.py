"""Delivery receipts: every kind for every channel, and receipts twice, late or out of order."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.domain import receipts
from clarion.domain.models import Channel, Outcome
from clarion.domain.receipts import Verdict


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


# --- reading what arrives on the receipts queue ----------------------------------------------------


def test_an_ses_delivery_and_a_bounce_are_read_with_the_message_id_and_time() -> None:
    delivery = {
        "eventType": "Delivery",
        "mail": {"messageId": "ses-1"},
        "delivery": {"timestamp": "2026-01-01T10:00:00.120Z"},
    }
    assert receipts.read(delivery) == receipts.Receipt(
        Channel.EMAIL, "ses-1", Verdict.DELIVERED, "Delivery", "2026-01-01T10:00:00.120Z"
    )
    bounce = {"eventType": "Bounce", "mail": {"messageId": "ses-2"}, "bounce": {"bounceType": "Permanent"}}
    read = receipts.read(bounce)
    assert read is not None and (read.verdict, read.kind, read.outcome) == (
        Verdict.UNDELIVERED,
        "Bounce/Permanent",
        Outcome.UNDELIVERED,
    )


def test_an_end_user_messaging_sms_event_is_read() -> None:
    event = {"eventType": "TEXT_UNREACHABLE", "messageId": "sms-1", "eventTimestamp": 1767261600000, "isFinal": True}
    assert receipts.read(event) == receipts.Receipt(
        Channel.SMS, "sms-1", Verdict.UNDELIVERED, "TEXT_UNREACHABLE", "2026-01-01T10:00:00.000Z"
    )


@pytest.mark.parametrize(
    ("detail", "verdict", "kind"),
    [
        # Answered: the keypress settles it, not the event
        ({"eventType": "CONNECTED_TO_SYSTEM"}, Verdict.IGNORED, "CONNECTED_TO_SYSTEM"),
        (
            {"eventType": "DISCONNECTED", "disconnectReason": "TELECOM_UNANSWERED"},
            Verdict.NO_ANSWER,
            "TELECOM_UNANSWERED",
        ),
        ({"eventType": "DISCONNECTED", "disconnectReason": "TELECOM_BUSY"}, Verdict.NO_ANSWER, "TELECOM_BUSY"),
        ({"eventType": "DISCONNECTED", "disconnectReason": "TELECOM_PROBLEM"}, Verdict.UNDELIVERED, "TELECOM_PROBLEM"),
        # The end of an answered call: after a keypress it changes nothing (the first verdict stands); without one,
        # the clinician hung up or voicemail took it
        (
            {"eventType": "DISCONNECTED", "connectedToSystemTimestamp": "2026-01-01T10:00:00Z"},
            Verdict.NO_ANSWER,
            "DISCONNECTED_WITHOUT_KEYPRESS",
        ),
        ({"eventType": "INITIATED"}, Verdict.IGNORED, "INITIATED"),
    ],
)
def test_connect_contact_events_are_read(detail: dict[str, str], verdict: Verdict, kind: str) -> None:
    event = {"source": "aws.connect", "time": "2026-01-01T10:00:00Z", "detail": {"contactId": "c-1", **detail}}
    read = receipts.read(event)
    assert read is not None and (read.channel, read.provider_id, read.verdict, read.kind) == (
        Channel.CALL,
        "c-1",
        verdict,
        kind,
    )


def test_a_deadline_reads_as_no_receipt_and_anything_else_as_nothing() -> None:
    body = receipts.deadline_body(Channel.SMS, "sms-9", 120)
    assert receipts.read(body) == receipts.Receipt(Channel.SMS, "sms-9", Verdict.UNDELIVERED, receipts.NO_RECEIPT)
    for junk in (
        None,
        [],
        "text",
        {},
        {"mail": {}},
        {"eventType": "TEXT_DELIVERED"},
        {"source": "aws.connect"},
        {"receipt_deadline": {"channel": "fax", "provider_id": "x"}},
        {"receipt_deadline": {"channel": "sms"}},
    ):
        assert receipts.read(junk) is None


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "eventType",
                        "mail",
                        "messageId",
                        "detail",
                        "source",
                        "contactId",
                        "receipt_deadline",
                        "channel",
                        "provider_id",
                        "bounce",
                        "bounceType",
                        "eventTimestamp",
                        "time",
                    ]
                ),
                inner,
                max_size=4,
            )
        ),
        max_leaves=12,
    )
)
def test_reading_never_raises_whatever_arrives(body: object) -> None:
    receipts.read(body)
