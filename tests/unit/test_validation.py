from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from clarion.domain import errors, validation
from clarion.domain.models import Channel, Priority
from clarion.handlers.api_models import AlertRequest, ContactBody

VALID = {
    "message_id": "lab-2026:0001.a_b",
    "type": "blood_test_alert",
    "patient_id": "P-REF-12345",
    "contact_id": "C-1",
    "description": "Potassium 6.8 mmol/L",
    "priority": "H",
}


def errors_of(body: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        AlertRequest.model_validate(body)
    return [(".".join(str(p) for p in e["loc"]), e["type"]) for e in caught.value.errors()]


def test_the_aws_sample_body_is_accepted_unchanged() -> None:
    # Given the body the AWS sample's clients send
    # When it is validated
    alert = AlertRequest.model_validate(VALID)
    # Then every field is kept as sent
    assert alert.model_dump(mode="json", exclude_unset=True) == VALID
    assert alert.priority is Priority.HIGH


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("message_id", ""),
        ("message_id", "a" * 129),
        ("message_id", "has space"),
        ("message_id", "slash/"),
        ("message_id", 123),
        ("type", ""),
        ("type", "Blood"),
        ("type", "a" * 65),
        ("type", "blood-test"),
        ("patient_id", ""),
        ("patient_id", "p" * 65),
        ("patient_id", "P\n1"),
        ("patient_id", "   "),
        ("patient_id", 42),
        ("contact_id", ""),
        ("contact_id", "C 1"),
        ("contact_id", "c" * 65),
        ("description", ""),
        ("description", "d" * 501),
        ("description", "line one\nline two"),
        ("description", "bell\x07"),
        ("description", None),
        ("priority", "X"),
        ("priority", "h"),
        ("priority", 1),
    ],
)
def test_each_field_outside_its_rule_is_refused_by_name(field: str, value: Any) -> None:
    # Given the valid body with one field broken
    body = {**VALID, field: value}
    # When it is validated
    errors = errors_of(body)
    # Then the error names that field only
    assert [loc for loc, _ in errors] == [field]


@pytest.mark.parametrize("field", list(VALID))
def test_each_field_is_required(field: str) -> None:
    # Given the valid body without one field
    body = {k: v for k, v in VALID.items() if k != field}
    # When it is validated
    # Then the missing field is named
    assert errors_of(body) == [(field, "missing")]


def test_unknown_field_is_refused_by_name() -> None:
    # Given an extra field
    # When the body is validated
    # Then it is named as not permitted
    assert errors_of({**VALID, "ward": "7B"}) == [("ward", "extra_forbidden")]


@given(st.text(alphabet=string.ascii_letters + string.digits + "._:-", min_size=1, max_size=128))
def test_any_message_id_of_the_allowed_characters_is_accepted(message_id: str) -> None:
    # Given a message id made of allowed characters
    # When the body is validated
    alert = AlertRequest.model_validate({**VALID, "message_id": message_id})
    # Then it is kept as sent
    assert alert.message_id == message_id


REFUSED_CHARACTERS = st.sampled_from(
    [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0), 0xAD, 0x61C, 0x180E, 0x200B, 0x200F, 0x2028, 0x202E, 0xFEFF]]
)


@given(st.text(min_size=1, max_size=500).filter(lambda s: s.isprintable() and s.strip()))
def test_any_printable_description_up_to_500_characters_is_accepted(description: str) -> None:
    # Given a printable, non-blank description
    # When the body is validated
    alert = AlertRequest.model_validate({**VALID, "description": description})
    # Then it is kept as sent
    assert alert.description == description


@given(st.text(max_size=30), REFUSED_CHARACTERS, st.text(max_size=30))
def test_patient_id_with_a_control_or_invisible_format_character_is_refused(before: str, bad: str, after: str) -> None:
    # Given a patient reference holding a control character or one that hides or reorders text
    patient_id = f"x{before}{bad}{after}"
    # When the body is validated
    # Then the patient_id is refused, and the error text never repeats it
    with pytest.raises(ValidationError) as caught:
        AlertRequest.model_validate({**VALID, "patient_id": patient_id})
    assert [e["loc"] for e in caught.value.errors()] == [("patient_id",)]
    assert all(patient_id not in e["msg"] for e in caught.value.errors())


@pytest.mark.parametrize(
    ("number", "field", "reason"),
    [
        ("+449098790000", "phone_call", "premium-rate"),  # UK 09: premium rate
        ("+19005550123", "phone_sms", "premium-rate"),  # US 900
        ("+448443909000", "phone_call", "premium-rate or shared-cost"),  # UK 0844
        ("+442079460000", "phone_sms", "can take an SMS"),  # a London landline
        ("+448001111111", "phone_sms", "can take an SMS"),  # UK freephone
    ],
)
def test_premium_and_shared_cost_numbers_and_for_sms_numbers_that_take_none_are_refused(
    number: str, field: str, reason: str
) -> None:
    # Given a real number that would cost the hospital a premium, or cannot take an SMS
    # When it is checked for the field
    # Then it is refused with InvalidPhone (422), naming the field
    with pytest.raises(errors.InvalidPhone, match=reason) as caught:
        validation.usable_phone(number, field)
    assert caught.value.field == field


def test_a_landline_is_fine_for_calls() -> None:
    assert validation.usable_phone("+442079460000", "phone_call") == "+442079460000"


@pytest.mark.parametrize("number", ["+447911123456", "+14155552671", "+33612345678"])
def test_valid_e164_numbers_are_accepted(number: str) -> None:
    # Given a valid number in E.164 form
    # When it is checked for form and for use
    # Then it is kept
    assert validation.e164_form(number) == number
    assert validation.usable_phone(number, "phone_sms") == number


@pytest.mark.parametrize(
    "number", ["07911123456", "+44 7911 123456", "+44 (0)7911-123456", "+4479", "call me", "+0447911123456", "+"]
)
def test_numbers_not_in_e164_form_are_refused_as_malformed(number: str) -> None:
    # Given a number not written as E.164 asks (the document's pattern refuses it too)
    # When its form is checked
    # Then it is refused (a 400 invalid_field)
    with pytest.raises(ValueError, match=r"E\.164 form"):
        validation.e164_form(number)


@pytest.mark.parametrize(
    ("number", "reason"),
    [("+999123456789", "any network"), ("+100000", "any network"), ("+4407911123456", "trunk prefix")],
)
def test_well_formed_numbers_no_network_assigns_are_refused_as_unusable(number: str, reason: str) -> None:
    # Given a number in E.164 form that no numbering plan assigns, or one with its trunk prefix kept
    assert validation.e164_form(number) == number
    # When it is checked for use
    # Then it is refused with InvalidPhone (a 422: the form was right), naming the field
    with pytest.raises(errors.InvalidPhone, match=reason) as caught:
        validation.usable_phone(number, "phone_call")
    assert caught.value.field == "phone_call"
    assert number not in caught.value.message


@pytest.mark.parametrize("address", ["a@b.example", "first.last+tag@sub.hospital.example.org", "x_y@nhs.net"])
def test_sane_email_addresses_are_accepted(address: str) -> None:
    # Given an ordinary address
    # When it is validated
    # Then it is kept
    assert validation.email_address(address) == address


@pytest.mark.parametrize(
    "address",
    [
        "",
        "plain",
        "@example.org",
        "a@",
        "a@b",
        "a b@example.org",
        "a@@example.org",
        "a@-x.example",
        "a..b@x.org",
        "a@example.org\n",
        f"a@{'d' * 250}.org",
    ],
)
def test_malformed_email_addresses_are_refused(address: str) -> None:
    # Given a malformed address
    # When it is validated
    # Then it is refused
    with pytest.raises(ValueError, match="email address"):
        validation.email_address(address)


def test_channel_chain_must_be_distinct_and_non_empty() -> None:
    # Given chains that are fine, repeated, and empty
    # When validated
    # Then the first is kept and the others refused
    assert validation.channel_chain([Channel.SMS, Channel.EMAIL]) == [Channel.SMS, Channel.EMAIL]
    with pytest.raises(ValueError, match="twice"):
        validation.channel_chain([Channel.SMS, Channel.SMS])
    with pytest.raises(ValueError, match="at least one"):
        validation.channel_chain([])


def test_contact_without_channels_gets_the_default_chains() -> None:
    # Given a contact body with only an email
    # When it is validated
    contact = ContactBody.model_validate({"name": "Dr A", "email": "a@b.example"})
    # Then each priority has the default chain
    assert contact.channels.H == [Channel.CALL, Channel.SMS, Channel.EMAIL]
    assert contact.channels.M == [Channel.SMS, Channel.EMAIL]
    assert contact.channels.L == [Channel.EMAIL]


def test_contact_with_a_partial_chain_keeps_the_other_defaults() -> None:
    # Given a body that sets only the high-priority chain
    # When it is validated
    contact = ContactBody.model_validate({"name": "Dr A", "email": "a@b.example", "channels": {"H": ["sms"]}})
    # Then H is as sent and M, L keep their defaults
    assert contact.channels.H == [Channel.SMS]
    assert contact.channels.M == [Channel.SMS, Channel.EMAIL]
