"""SMS reply parsing and resolution: codes, spacing, case, noise, other alerts' codes, the carriers' keywords."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.domain import replies
from clarion.domain.replies import Action, Intent, Reply, Resolution

OPEN = {"4821": "lab#a-1", "5932": "lab#a-2"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4821", Reply(Intent.ACK, "4821")),
        ("ack 4821", Reply(Intent.ACK, "4821")),
        (" ACK  4821 ", Reply(Intent.ACK, "4821")),
        ("Ack4821", Reply(Intent.ACK, "4821")),
        ("4821 ok", Reply(Intent.ACK, "4821")),
        ("4821.", Reply(Intent.ACK, "4821")),
        ("NO 4821", Reply(Intent.DECLINE, "4821")),
        ("decline 4821", Reply(Intent.DECLINE, "4821")),
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
        ("48210", Reply(Intent.UNKNOWN)),
        ("482", Reply(Intent.UNKNOWN)),
        ("ack 4821 5932", Reply(Intent.UNKNOWN)),
        ("ack no 4821", Reply(Intent.UNKNOWN)),
        ("call me 4821", Reply(Intent.UNKNOWN)),
        ("who is this", Reply(Intent.UNKNOWN)),
        ("4821 🙂", Reply(Intent.UNKNOWN)),
        ("ack \uff14\uff18\uff12\uff11", Reply(Intent.UNKNOWN)),  # full-width digits are no code
        ("stop 4821", Reply(Intent.UNKNOWN)),
    ],
)
def test_examples(text: str, expected: Reply) -> None:
    assert replies.parse(text) == expected


codes = st.integers(min_value=1000, max_value=9999).map(str)
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
def test_any_text_parses_without_raising_and_an_ack_names_at_most_one_four_digit_code(text: str) -> None:
    reply = replies.parse(text)
    if reply.code is not None:
        assert len(reply.code) == 4 and reply.code.isdigit() and reply.code in text


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=30), open_alerts=st.dictionaries(codes, st.text(min_size=1, max_size=5), max_size=4))
def test_a_reply_only_ever_answers_the_alert_whose_code_it_names_or_the_only_one_open(text, open_alerts):
    reply = replies.parse(text)
    resolution = replies.resolve(reply, open_alerts)
    if resolution.alert is not None:
        if reply.code is not None:
            assert resolution.alert == open_alerts[reply.code]
        else:
            assert len(open_alerts) == 1 and resolution.alert in open_alerts.values()


def test_resolution_examples() -> None:
    assert replies.resolve(Reply(Intent.ACK, "4821"), OPEN) == Resolution(Action.ACKNOWLEDGE, "lab#a-1")
    assert replies.resolve(Reply(Intent.DECLINE, "5932"), OPEN) == Resolution(Action.DECLINE, "lab#a-2")
    # another number's code (not open for this number) acknowledges nothing
    assert replies.resolve(Reply(Intent.ACK, "7777"), OPEN) == Resolution(Action.NOTHING)
    # a bare ACK counts only when exactly one alert is open
    assert replies.resolve(Reply(Intent.ACK), OPEN) == Resolution(Action.ASK_FOR_CODE)
    assert replies.resolve(Reply(Intent.ACK), {"4821": "lab#a-1"}) == Resolution(Action.ACKNOWLEDGE, "lab#a-1")
    assert replies.resolve(Reply(Intent.ACK), {}) == Resolution(Action.NOTHING)
    assert replies.resolve(Reply(Intent.STOP), OPEN) == Resolution(Action.CARRIER)
    assert replies.resolve(Reply(Intent.UNKNOWN), OPEN) == Resolution(Action.NOTHING)


@settings(max_examples=100, deadline=None)
@given(taken=st.frozensets(codes, max_size=200), seed=st.integers())
def test_an_allocated_code_is_four_digits_free_for_the_number_and_not_a_run(taken, seed):
    rng = random.Random(seed)
    code = replies.allocate_code(taken, rng.randrange)
    assert code not in taken
    assert len(code) == 4 and code[0] != "0" and len(set(code)) > 1
    assert replies.parse(f"ack {code}") == Reply(Intent.ACK, code)


def test_a_number_with_too_many_open_alerts_is_refused_a_code() -> None:
    taken = {str(n) for n in range(1000, 5500)}
    with pytest.raises(ValueError, match="too many open alerts"):
        replies.allocate_code(taken, random.Random(1).randrange)
