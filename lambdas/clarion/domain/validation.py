"""Field rules for what clients send. Plain functions: each returns the value or raises ValueError
with a sentence that never repeats the value (it may be a patient reference)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from clarion.domain.models import Channel

MESSAGE_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
TYPE_PATTERN = r"^[a-z0-9_]{1,64}$"
CONTACT_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
MAX_PATIENT_ID = 64
MAX_DESCRIPTION = 500
MAX_NAME = 128
MAX_EMAIL = 254
_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


def printable_text(value: str) -> str:
    """No control, format or unassigned characters (so no newlines either) and not blank."""
    if not value.strip():
        raise ValueError("must not be blank")
    if not value.isprintable():
        raise ValueError("must not contain control characters")
    return value


def e164_phone(value: str) -> str:
    """A valid phone number already written in E.164 form, e.g. +447911123456."""
    import phonenumbers  # here, not at the top: only writing a contact needs it (~0.4x `import boto3`)

    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as error:
        raise ValueError("must be a phone number in E.164 form, e.g. +447911123456") from error
    if not phonenumbers.is_valid_number(number):
        raise ValueError("is not a valid phone number")
    if phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) != value:
        raise ValueError("must be written in E.164 form, e.g. +447911123456 (no spaces or punctuation)")
    return value


def email_address(value: str) -> str:
    if len(value) > MAX_EMAIL or not _EMAIL_RE.match(value) or len(value.split("@")[0]) > 64:
        raise ValueError("must be an email address such as name@example.org")
    return value


def channel_chain(value: Sequence[Channel]) -> list[Channel]:
    """An ordered list of distinct channels, at least one."""
    if not value:
        raise ValueError("must list at least one channel")
    if len(set(value)) != len(value):
        raise ValueError("must not list a channel twice")
    return list(value)


def distinct(value: Sequence[str]) -> list[str]:
    """A list that names nothing twice."""
    if len(set(value)) != len(value):
        raise ValueError("must not name a contact twice")
    return list(value)
