"""Identifiers and dates of birth typed into a description never go out, by any channel."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.domain import masking
from tests.unit.test_messages import everything_sent, make_alert

# Every joiner that can stand between an identifier's digit groups.
JOINERS = st.sampled_from([" ", "-", "\u2013", "_", "/", ".", ":", ",", " - ", " \u2013 "])
# Identifier-shaped, 6 digits at least: two to four groups of 3 to 5 digits (NHS 943-476-5919, MRN 12345-6789),
# any joiner between each two, or one unbroken number.
IDENTIFIERS = st.one_of(
    st.lists(st.from_regex(r"[0-9]{3,5}", fullmatch=True), min_size=2, max_size=4).flatmap(
        lambda groups: st.lists(JOINERS, min_size=len(groups) - 1, max_size=len(groups) - 1).map(
            lambda joins: groups[0] + "".join(j + g for j, g in zip(joins, groups[1:], strict=True))
        )
    ),
    st.from_regex(r"[0-9]{6,12}", fullmatch=True),
)
TIMES = st.builds(
    lambda h, m, s: f"{h:02d}:{m:02d}" + (f":{s:02d}" if s is not None else ""),
    st.integers(0, 23),
    st.integers(0, 59),
    st.none() | st.integers(0, 59),
)
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,;()", max_size=40)
NO_BIRTH_WORD = WORDS.filter(lambda w: not re.search(r"(?i)d\W?o\W?b|born|birth", w))


@settings(max_examples=300, deadline=None)
@given(
    identifier=IDENTIFIERS,
    label=st.sampled_from(["NHS ", "MRN:", "MRN ", "ref ", "", "Hosp no. "]),
    time=st.none() | TIMES,
    before=WORDS,
    after=WORDS,
)
def test_an_identifier_across_joiners_goes_out_by_no_channel_even_with_a_time_after_it(
    identifier: str, label: str, time: str | None, before: str, after: str
) -> None:
    # Given a description quoting an identifier whose digit groups are joined by any joiner, a time maybe after it
    then = f" {time}" if time else ""
    alert = make_alert(description=f"{before} {label}{identifier}{then} {after} potassium 6.9")
    # When every outgoing text is built (SMS, voice, SSML, email)
    sent = everything_sent(alert)
    # Then the identifier appears in none, and the clinical words and the time remain
    assert identifier not in sent
    assert "[number withheld]" in sent and "potassium 6.9" in sent
    assert time is None or f"[number withheld] {time}" in sent


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("NHS 943 476 5919 14:30", "NHS [number withheld] 14:30"),
        ("NHS 943 476 5919 at 14:30 on 01/02/2026", "NHS [number withheld] at 14:30 on 01/02/2026"),
        ("MRN 943\u2013476\u20135919", "MRN [number withheld]"),
        ("MRN 943_476_5919", "MRN [number withheld]"),
        ("MRN 943,476,5919", "MRN [number withheld]"),
        ("NHS 943 - 476 - 5919, bed 4", "NHS [number withheld], bed 4"),
        ("ref 01/02/5919", "ref [number withheld]"),  # not a date: no year 5919
    ],
)
def test_an_identifier_is_judged_whole_before_a_date_or_time_beside_it_is_kept(text: str, masked: str) -> None:
    # Given an identifier joined by any joiner, maybe with a time or date beside it
    # When it is masked
    # Then the identifier is withheld whole and the time or date beside it stays
    assert masking.mask(text) == masked


DATES = st.one_of(
    st.builds(
        lambda d, m, y, s: f"{d:02d}{s}{m:02d}{s}{y}",
        st.integers(1, 28),
        st.integers(1, 12),
        st.integers(1930, 2025),
        st.sampled_from("/-."),
    ),
    st.builds(
        lambda d, m, y: f"{d}/{m}/{y % 100:02d}", st.integers(1, 28), st.integers(1, 12), st.integers(1930, 2025)
    ),
    st.builds(
        lambda d, m, y: f"{d} {m} {y}",
        st.integers(1, 28),
        st.sampled_from(["Jan", "February", "Mar.", "Sept"]),
        st.integers(1930, 2025),
    ),
    st.builds(
        lambda d, m, y: f"{m} {d}, {y}",
        st.integers(1, 28),
        st.sampled_from(["Jan", "October"]),
        st.integers(1930, 2025),
    ),
    st.builds(str, st.integers(1930, 2025)),
)
BIRTH_WORDS = st.sampled_from(
    [
        "DOB ",
        "DOB: ",
        "dob ",
        "DoB - ",
        "D.O.B. ",
        "Date of birth ",
        "Birthdate ",
        "birth date: ",
        "Birthday ",
        "born ",
        "Born ",
    ]
)
# Up to three words between the birth word and the date: "DOB is", "born on", "date of birth recorded as".
BETWEEN = st.lists(
    st.sampled_from(["is", "on", "was", "recorded", "as", "given", "approx."])
    | st.from_regex(r"[a-z]{1,9}", fullmatch=True),
    max_size=3,
).map(lambda words: "".join(f"{w} " for w in words))


@settings(max_examples=300, deadline=None)
@given(date=DATES, label=BIRTH_WORDS, between=BETWEEN, before=WORDS)
def test_a_date_of_birth_goes_out_by_no_channel(date: str, label: str, between: str, before: str) -> None:
    # Given a description giving the patient's date of birth in any common form, a few words after a birth word
    alert = make_alert(description=f"{before} {label}{between}{date}, potassium 6.9")
    # When every outgoing text is built
    sent = everything_sent(alert)
    # Then the date appears in none
    assert date not in sent.replace("[date withheld]", "")
    assert "[date withheld]" in sent and "potassium 6.9" in sent


@settings(max_examples=200, deadline=None)
@given(date=DATES, time=TIMES, before=NO_BIRTH_WORD)
def test_a_sample_date_and_time_stay_readable(date: str, time: str, before: str) -> None:
    # Given a description with a value, a time and a date, and no birth word
    text = f"{before} K+ 6.9 at {time}, since {date}, taken {date} {time}"
    # When it is masked
    # Then it is unchanged
    assert masking.mask(text) == text


@pytest.mark.parametrize(
    "kept",
    [
        "K+ 6.9 mmol/L, taken 2025-03-04 at 14:30, bed 12",
        "K+ 6.9 at 14:30",
        "since 01/12/2026",
        "bed 12 2025-03-04 14:30",
        "BP 120/80, HR 110, temp 38.5",
        "sampled 04/03/2025 14:30:05, ward 7B",
        "Hb 10.5 g/dL (ref 13.0-17.0)",
        "Hb 10.5 g/dL (ref 13.0 - 17.0), 11.2,12.0",
        "DOB not known; K+ 6.9 at 14:30 on 01/12/2026",  # the date is further than three words from the birth word
    ],
)
def test_clinical_values_dates_and_times_stay(kept: str) -> None:
    # Given a description with values, a sample date and a time (no identifier, no date of birth)
    # When it is masked
    # Then it is unchanged
    assert masking.mask(kept) == kept
