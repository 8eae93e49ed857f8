"""Field rules for what clients send. Plain functions: each returns the value or raises ValueError
with a sentence that never repeats the value (it may be a patient reference)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from clarion.domain.errors import InvalidPhone
from clarion.domain.models import Channel

# Each pattern is matched whole (`re.fullmatch`) here and reads the same in the OpenAPI document (ECMA-262).
MESSAGE_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
TYPE_PATTERN = r"^[a-z0-9_]{1,64}$"
CONTACT_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
MAX_PATIENT_ID = 64
MAX_DESCRIPTION = 500
MAX_NAME = 128
MAX_EMAIL = 254
PHONE_PATTERN = r"^\+[1-9][0-9]{5,14}$"
EMAIL_PATTERN = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
# What free text refuses: C0 and C1 controls (newlines too) and the invisible format characters that hide or
# reorder text (soft hyphen, bidi marks and overrides, zero-width characters, line separators, the BOM).
TEXT_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]*$"
BLANK_PATTERN = r"^\s*$"
_TEXT_RE = re.compile(TEXT_PATTERN)
_BLANK_RE = re.compile(BLANK_PATTERN)
_PHONE_RE = re.compile(PHONE_PATTERN)
_EMAIL_RE = re.compile(EMAIL_PATTERN)


def printable_text(value: str) -> str:
    """Not blank, and none of TEXT_PATTERN's refused characters (nor a lone surrogate, which no JSON text holds)."""
    if _BLANK_RE.fullmatch(value):
        raise ValueError("must not be blank")
    if not _TEXT_RE.fullmatch(value) or any("\ud800" <= c <= "\udfff" for c in value):
        raise ValueError("must not contain control characters")
    return value


def json_integer(value: object) -> object:
    """A JSON number, as JSON Schema's integer means it (so 300 and 300.0; pydantic would also read true or "300")."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("must be a whole number")
    return value


def e164_form(value: str) -> str:
    """Written as E.164 asks: a plus, then 6 to 15 digits, the first not 0 (e.g. +447911123456)."""
    if not _PHONE_RE.fullmatch(value):
        raise ValueError("must be a phone number in E.164 form, e.g. +447911123456")
    return value


def usable_phone(value: str, field: str) -> str:
    """A number some network assigns, written in E.164 form, that costs no premium or shared rate and, for
    `phone_sms`, can take an SMS; InvalidPhone (a 422: the form was right) if not. A leaked admin token must not
    point Clarion's calls and texts at a number that earns its owner money."""
    import phonenumbers  # here, not at the top: only writing a contact needs it (~0.4x `import boto3`)
    from phonenumbers import PhoneNumberType as Kind

    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"The field '{field}' is not a number any network assigns: check its digits.", field)
    if phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) != value:
        raise InvalidPhone(
            f"The field '{field}' must be written in E.164 form without a trunk prefix, e.g. +447911123456.", field
        )
    kind = phonenumbers.number_type(number)
    if kind in (Kind.PREMIUM_RATE, Kind.SHARED_COST):
        raise InvalidPhone(f"The field '{field}' is a premium-rate or shared-cost number; Clarion calls none.", field)
    if field == "phone_sms" and kind not in (Kind.MOBILE, Kind.FIXED_LINE_OR_MOBILE, Kind.VOIP):
        raise InvalidPhone(f"The field '{field}' is not a number that can take an SMS (a mobile number).", field)
    return value


def email_address(value: str) -> str:
    if len(value) > MAX_EMAIL or not _EMAIL_RE.fullmatch(value):
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
