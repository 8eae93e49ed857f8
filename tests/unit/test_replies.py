"""SMS reply parsing and resolution: codes, spacing, case, noise, other alerts' codes, the carriers' keywords, bare
answers, wrong codes and the lock, and how a number may be logged."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.domain import replies
from clarion.domain.messages import ReplyAnswer, reply_text
from clarion.domain.replies import Action, Intent, Reply, Resolution

OPEN = {"482193": "lab#a-1", "593274": "lab#a-2"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("482193", Reply(Intent.ACK, "482193")),
        ("ack 482193", Reply(Intent.ACK, "482193")),
        (" ACK  482193 ", Reply(Intent.ACK, "482193")),
        ("Ack482193", Reply(Intent.ACK, "482193")),
        ("482193 ok", Reply(Intent.ACK, "482193")),
        ("482193.", Reply(Intent.ACK, "482193")),
        ("NO 482193", Reply(Intent.DECLINE, "482193")),
        ("decline 482193", Reply(Intent.DECLINE, "482193")),
        ("ACK", Reply(Intent.ACK)),
        ("no", Reply(Intent.DECLINE)),
        ("STOP", Reply(Intent.STOP)),
        ("stop", Reply(Intent.STOP)),
        ("UNSUBSCRIBE", Reply(Intent.STOP)),
        ("TD", Reply(Intent.STOP)),
        ("remove", Reply(Intent.STOP)),
        ("HELP", Reply(Intent.HELP)),
        ("", Reply(Intent.UNKNOWN)),
        ("   ", Reply(Intent.UNKNOWN)),
        ("4821930", Reply(Intent.UNKNOWN)),
        ("482", Reply(Intent.UNKNOWN)),
        ("ack 482193 593274", Reply(Intent.UNKNOWN)),
        ("ack no 482193", Reply(Intent.UNKNOWN)),
        ("call me 482193", Reply(Intent.UNKNOWN)),
        ("who is this", Reply(Intent.UNKNOWN)),
        ("482193 🙂", Reply(Intent.UNKNOWN)),
        ("ack \uff14\uff18\uff12\uff11", Reply(Intent.UNKNOWN)),  # full-width digits are no code
        ("stop 482193", Reply(Intent.UNKNOWN)),
        ("OPT-OUT", Reply(Intent.STOP)),
        ("opt out", Reply(Intent.STOP)),
        ("ack 4821", Reply(Intent.UNKNOWN)),  # four digits: the old codes' length is no code now
        ("ack 48219", Reply(Intent.UNKNOWN)),
        ("a", Reply(Intent.ACK)),
    ],
)
def test_examples(text: str, expected: Reply) -> None:
    assert replies.parse(text) == expected


codes = st.integers(min_value=100_000, max_value=999_999).map(str)
spaces = st.text(alphabet=" \t", max_size=3)
case = st.sampled_from([str.lower, str.upper, str.title])


@settings(max_examples=300, deadline=None)
@given(
    code=codes,
    before=spaces,
    between=spaces.filter(bool),
    after=spaces,
    word=st.sampled_from(["ack", "ok", "yes"]),
    shape=case,
)
def test_a_code_with_an_ack_word_in_any_case_and_spacing_acknowledges_it(code, before, between, after, word, shape):
    assert replies.parse(f"{before}{shape(word)}{between}{code}{after}") == Reply(Intent.ACK, code)
    assert replies.parse(f"{before}{code}{after}") == Reply(Intent.ACK, code)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40))
def test_any_text_parses_without_raising_and_an_ack_names_at_most_one_six_digit_code(text: str) -> None:
    reply = replies.parse(text)
    if reply.code is not None:
        assert len(reply.code) == 6 and reply.code.isdigit() and reply.code in text


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(st.text(max_size=30), st.sampled_from(["ack", "a", "NO", "yes", "ok"])),
    open_alerts=st.dictionaries(codes, st.text(min_size=1, max_size=5), max_size=4),
    bare=st.booleans(),
)
def test_a_reply_only_ever_answers_the_alert_whose_code_it_names_or_if_allowed_the_only_one_open(
    text, open_alerts, bare
):
    reply = replies.parse(text)
    resolution = replies.resolve(reply, open_alerts, bare_answers=bare)
    if resolution.alert is not None:
        if reply.code is not None:
            assert resolution.alert == open_alerts[reply.code]
        else:
            assert bare and len(open_alerts) == 1 and resolution.alert in open_alerts.values()


def test_resolution_examples() -> None:
    assert replies.resolve(Reply(Intent.ACK, "482193"), OPEN) == Resolution(Action.ACKNOWLEDGE, "lab#a-1")
    assert replies.resolve(Reply(Intent.DECLINE, "593274"), OPEN) == Resolution(Action.DECLINE, "lab#a-2")
    # another number's code (not open for this number) acknowledges nothing
    assert replies.resolve(Reply(Intent.ACK, "777123"), OPEN) == Resolution(Action.NOTHING)
    assert replies.resolve(Reply(Intent.STOP), OPEN) == Resolution(Action.CARRIER)
    assert replies.resolve(Reply(Intent.UNKNOWN), OPEN) == Resolution(Action.NOTHING)


@pytest.mark.parametrize("text", ["ACK", "a", "ok", "NO"])
def test_by_default_a_reply_without_the_code_answers_nothing_and_asks_for_the_code(text: str) -> None:
    # Given a number with exactly one open alert, and bare answers off (the default)
    one_open = {"482193": "lab#a-1"}
    # When it replies without the code, Then nothing is answered: Clarion asks for the code
    assert replies.resolve(replies.parse(text), one_open) == Resolution(Action.NEED_CODE)
    assert replies.resolve(replies.parse(text), {}) == Resolution(Action.NEED_CODE)
    # And the code itself still counts
    assert replies.resolve(replies.parse(f"{text} 482193"), one_open).alert == "lab#a-1"


def test_with_bare_answers_on_a_reply_without_the_code_answers_the_only_open_alert() -> None:
    assert replies.resolve(Reply(Intent.ACK), OPEN, bare_answers=True) == Resolution(Action.ASK_FOR_CODE)
    assert replies.resolve(Reply(Intent.ACK), {"482193": "lab#a-1"}, bare_answers=True) == Resolution(
        Action.ACKNOWLEDGE, "lab#a-1"
    )
    assert replies.resolve(Reply(Intent.DECLINE), {"482193": "lab#a-1"}, bare_answers=True) == Resolution(
        Action.DECLINE, "lab#a-1"
    )
    assert replies.resolve(Reply(Intent.ACK), {}, bare_answers=True) == Resolution(Action.NOTHING)


def test_a_wrong_code_is_a_code_the_number_was_never_given() -> None:
    given = {"482193", "593274"}
    assert replies.wrong_code(replies.parse("ack 777123"), given)
    assert replies.wrong_code(replies.parse("NO 777123"), given)
    assert replies.wrong_code(replies.parse("777123"), given)
    # the number's own codes (even of an alert that has ended), no code, and words are no wrong code
    for text in ("ack 482193", "593274", "ACK", "who is this", "STOP", "ack 4821"):
        assert not replies.wrong_code(replies.parse(text), given), text


def test_five_wrong_codes_within_fifteen_minutes_lock_the_number() -> None:
    window, now = 900, 10_000.0
    assert replies.locks([now - 800, now - 600, now - 400, now - 200, now], now, 5, window)
    assert not replies.locks([now - 600, now - 400, now - 200, now], now, 5, window)  # four
    assert not replies.locks([now - 900, now - 600, now - 400, now - 200, now], now, 5, window)  # one too old
    assert replies.locks([now - 899, now - 600, now - 400, now - 200, now], now, 5, window)


@pytest.mark.parametrize(
    ("number", "masked"),
    [("+447700900123", "+**********23"), ("+12025550142", "+*********42"), ("07700900123", "*********23"), ("", "")],
)
def test_a_number_is_logged_as_its_last_two_digits(number: str, masked: str) -> None:
    assert replies.mask_number(number) == masked


@settings(max_examples=200, deadline=None)
@given(number=st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True))
def test_a_masked_number_never_shows_more_than_two_of_its_digits(number: str) -> None:
    masked = replies.mask_number(number)
    assert sum(c.isdigit() for c in masked) == 2 and number not in masked and number[1:-2] not in masked


def test_the_answers_to_a_bare_reply_and_to_a_lock_name_no_code_and_fit_one_sms() -> None:
    need, locked = reply_text(ReplyAnswer.NEED_CODE), reply_text(ReplyAnswer.LOCKED)
    assert need == "Clarion: nothing was recorded. A reply needs the alert's code, e.g. ACK 482193 or NO 482193."
    assert locked.startswith("Clarion: too many wrong codes.") and "locked for an hour" in locked
    assert len(need) <= 160 and len(locked) <= 160


def test_reply_codes_have_six_digits() -> None:
    assert replies.CODE_DIGITS == 6


@settings(max_examples=100, deadline=None)
@given(taken=st.frozensets(codes, max_size=200), seed=st.integers())
def test_an_allocated_code_is_six_digits_free_for_the_number_and_not_a_run(taken, seed):
    rng = random.Random(seed)
    code = replies.allocate_code(taken, rng.randrange)
    assert code not in taken
    assert len(code) == 6 and code.isdigit() and code[0] != "0" and len(set(code)) > 1
    assert replies.parse(f"ack {code}") == Reply(Intent.ACK, code)


def test_a_number_with_too_many_open_alerts_is_refused_a_code() -> None:
    taken = {str(n) for n in range(100_000, 550_000)}
    with pytest.raises(ValueError, match="too many open alerts"):
        replies.allocate_code(taken, random.Random(1).randrange)
