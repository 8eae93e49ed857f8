"""Message texts: the right template kind, the right urgency, and nothing that identifies the patient."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.domain import messages
from clarion.domain.messages import TemplateKind
from clarion.domain.models import Alert, Channel, Priority

PATIENT_ID = "PAT-99887766"


def make_alert(
    description: str = "Potassium 6.9 mmol/L on ward 7", type_: str = "critical_lab_result", priority=Priority.HIGH
) -> Alert:
    return Alert(
        client_id="lab-system",
        message_id="msg-001",
        type=type_,
        contact_id="C-1",
        description=description,
        priority=priority,
        accepted_at="2025-01-01T00:00:00+00:00",
        plan=(Channel.CALL,),
    )


def everything_sent(alert: Alert) -> str:
    content = messages.email_content(alert)
    return "\n".join(
        [
            messages.sms_text(alert),
            messages.spoken_text(alert),
            messages.spoken_ssml(alert),
            json.dumps(content.template_data()),
        ]
    )


@pytest.mark.parametrize(
    ("alert_type", "kind"),
    [
        ("critical_lab_result", TemplateKind.CRITICAL_RESULT),
        ("blood_test_alert", TemplateKind.CRITICAL_RESULT),
        ("Critical-Result", TemplateKind.CRITICAL_RESULT),
        ("appointment_reminder", TemplateKind.APPOINTMENT_REMINDER),
        ("clinic.booking", TemplateKind.APPOINTMENT_REMINDER),
        ("prescription_ready", TemplateKind.GENERIC),
        ("deteriorating_patient", TemplateKind.GENERIC),
        ("", TemplateKind.GENERIC),
    ],
)
def test_alert_type_maps_to_a_template_kind(alert_type, kind):
    # Given a client's free-form alert type
    # When it is mapped
    # Then it gets the matching template kind, or generic
    assert messages.template_kind(alert_type) is kind


def test_alert_model_has_no_patient_field_and_drops_one_from_a_message():
    # Given a queue body that (wrongly) carries a patient reference
    body = {**make_alert().to_message(), "patient_id": PATIENT_ID}
    # When it becomes an Alert
    alert = Alert.from_message(body)
    # Then the Alert has no field for it and nothing built from it mentions it
    assert "patient_id" not in {f.name for f in dataclasses.fields(Alert)}
    assert PATIENT_ID not in json.dumps(alert.to_message())
    assert PATIENT_ID not in everything_sent(alert)


@pytest.mark.parametrize(
    "description",
    [f"Patient {PATIENT_ID} potassium high", "NHS 943 476 5919 potassium high", "MRN 12345678: potassium high"],
)
def test_identifier_typed_into_the_description_is_withheld(description):
    # Given a description with an identifier-like number typed into it
    alert = make_alert(description=description)
    # When the messages are built
    sent = everything_sent(alert)
    # Then the number is withheld everywhere while the clinical words remain
    for number in ("99887766", "943 476 5919", "12345678"):
        assert number not in sent
    assert "[number withheld]" in messages.sms_text(alert)
    assert "potassium high" in messages.sms_text(alert)


def test_clinical_values_dates_and_times_are_kept():
    # Given a description with a lab value, a date and a time
    alert = make_alert(description="K+ 6.9 mmol/L, taken 2025-03-04 at 14:30, bed 12")
    # When the SMS is built
    # Then those short numbers are kept
    assert "K+ 6.9 mmol/L, taken 2025-03-04 at 14:30, bed 12" in messages.sms_text(alert)


@pytest.mark.parametrize(
    ("priority", "sms_start", "spoken"),
    [
        (Priority.HIGH, "URGENT Clarion critical result: ", "an urgent critical result"),
        (Priority.MEDIUM, "Important Clarion critical result: ", "an important critical result"),
        (Priority.LOW, "For information Clarion critical result: ", "a routine critical result"),
    ],
)
def test_urgency_is_stated_in_sms_call_and_email(priority, sms_start, spoken):
    # Given an alert of each priority
    alert = make_alert(priority=priority)
    # When the messages are built
    sms = messages.sms_text(alert)
    email = messages.email_content(alert)
    # Then each says how urgent it is, what it is about and where to look
    assert sms.startswith(sms_start)
    assert sms.endswith("See the clinical system.")
    assert spoken in messages.spoken_text(alert)
    assert "check the clinical system" in messages.spoken_text(alert)
    assert email.kind is TemplateKind.CRITICAL_RESULT
    assert email.subject.endswith("Clarion critical result")
    assert set(email.template_data()) == {"subject", "body"}


def test_long_description_is_cut_to_one_sms_segment():
    # Given a very long description
    alert = make_alert(description="word " * 200)
    # When the SMS is built
    sms = messages.sms_text(alert)
    # Then it fits one 160-character segment and shows that it was cut
    assert len(sms) <= messages.SMS_MAX_CHARS
    assert "..." in sms
    assert sms.endswith("See the clinical system.")


def test_control_characters_and_markup_are_neutralised():
    # Given a description with line breaks and markup
    alert = make_alert(description="line one\nline two\t<b>&</b>")
    # When the messages are built
    # Then the text is one line and the SSML escapes the markup
    assert "line one line two <b>&</b>" in messages.spoken_text(alert)
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in messages.spoken_ssml(alert)
    assert messages.spoken_ssml(alert).startswith('<speak><prosody rate="slow">')


@settings(max_examples=200, deadline=None)
@given(
    patient=st.from_regex(r"PAT-[0-9]{6,10}", fullmatch=True),
    words=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300),
    alert_type=st.text(max_size=40),
    priority=st.sampled_from(list(Priority)),
)
def test_no_patient_reference_ever_leaves_in_any_message(patient, words, alert_type, priority):
    # Given a patient reference the client knows, and any description that does not quote it
    description = words.replace(patient, "")
    alert = make_alert(description=description, type_=alert_type, priority=priority)
    # When every outgoing text is built
    sent = everything_sent(alert)
    # Then the reference and its number appear nowhere
    assert patient not in sent


@settings(max_examples=200, deadline=None)
@given(patient=st.from_regex(r"[0-9]{6,12}", fullmatch=True), before=st.text(max_size=50), after=st.text(max_size=50))
def test_identifier_quoted_in_the_description_is_always_withheld(patient, before, after):
    # Given a description that quotes a numeric identifier between any texts
    alert = make_alert(description=f"{before} {patient} {after}")
    # When the SMS is built
    sms = messages.sms_text(alert)
    # Then the identifier does not appear
    assert patient not in sms


LONG_LINK = "https://abcdefghij.execute-api.eu-west-2.amazonaws.com/v1/l/" + "A" * 38


@settings(max_examples=200, deadline=None)
@given(description=st.text(min_size=1, max_size=500).filter(str.strip))
def test_an_sms_with_a_link_keeps_the_link_whole_within_two_segments(description: str) -> None:
    text = messages.sms_text(make_alert(description), LONG_LINK)
    assert text.endswith(LONG_LINK)
    assert len(text) <= messages.SMS_WITH_LINK_MAX_CHARS


def test_a_minimal_sms_leaves_the_description_out_and_keeps_urgency_kind_and_link() -> None:
    text = messages.sms_text(make_alert("Potassium 6.9 mmol/L on ward 7"), LONG_LINK, detail="minimal")
    assert text == f"URGENT Clarion critical result. Acknowledge: {LONG_LINK}"
    assert "Potassium" not in text


def test_without_a_link_the_sms_is_as_before_whatever_the_detail_setting() -> None:
    alert = make_alert()
    assert messages.sms_text(alert, None, detail="minimal") == messages.sms_text(alert)
    assert len(messages.sms_text(alert)) <= messages.SMS_MAX_CHARS


def test_the_email_carries_the_link_as_a_template_field() -> None:
    content = messages.email_content(make_alert(), LONG_LINK)
    assert content.template_data()["link"] == LONG_LINK
    assert "link" not in messages.email_content(make_alert()).template_data()


def test_the_taken_notice_names_who_and_when_and_nothing_of_the_alert() -> None:
    text = messages.taken_text("Nurse Ben\nSample", "2026-12-02T14:02:33.120+00:00")
    assert text == "Clarion: taken by Nurse Ben Sample, 14:02 UTC. No action needed from you."
    assert messages.taken_text("x" * 100, "2026-12-02T14:02:33Z").count("x") == messages.TAKEN_NAME_MAX
    assert "a colleague" in messages.taken_text("", "2026-12-02T14:02:33Z")
    assert len(messages.taken_text("y" * 100, "2026-12-02T14:02:33Z")) <= messages.SMS_MAX_CHARS


def test_a_two_way_sms_says_which_code_to_reply_beside_the_link_whole() -> None:
    alert = make_alert("x" * 400)
    text = messages.sms_text(alert, LONG_LINK, code="4821")
    assert text.endswith(f". Reply 4821 to acknowledge, or open {LONG_LINK}")
    assert len(text) <= messages.SMS_WITH_LINK_MAX_CHARS
    minimal = messages.sms_text(alert, LONG_LINK, detail="minimal", code="4821")
    assert minimal == f"URGENT Clarion critical result. Reply 4821 to acknowledge, or open {LONG_LINK}"
    # Without a link (it could not be made) the code alone, with how to decline
    assert messages.sms_text(alert, None, code="4821").endswith(". Reply 4821 to acknowledge (NO 4821 to decline)")


def test_the_answers_to_a_reply_name_only_the_code_sent() -> None:
    from clarion.domain.messages import ReplyAnswer, reply_text

    assert reply_text(ReplyAnswer.ACKNOWLEDGED, "4821") == "Clarion: 4821 acknowledged. Thank you."
    assert "4821" in reply_text(ReplyAnswer.DECLINED, "4821")
    for answer in (ReplyAnswer.WHICH, ReplyAnswer.UNKNOWN_CODE):
        assert len(reply_text(answer)) <= messages.SMS_MAX_CHARS


def test_the_call_ends_with_the_keypress_choices() -> None:
    from dataclasses import replace

    alert = make_alert()
    assert messages.spoken_text(replace(alert, ack_required=True)).endswith(messages.CALL_CHOICES)
    assert messages.spoken_text(alert).endswith(messages.CALL_CHOICES_HEARD)
