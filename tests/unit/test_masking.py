"""Identifiers and dates of birth typed into a description never go out, by any channel."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.domain import masking
from tests.unit.test_messages import everything_sent, make_alert

SEPARATORS = st.sampled_from([" ", "-", "/", ".", ":"])
# Identifier-shaped: two or more groups of 3 to 5 digits (NHS 943-476-5919, MRN 12345-6789), 6 digits at least.
IDENTIFIERS = st.lists(st.from_regex(r"[0-9]{3,5}", fullmatch=True), min_size=2, max_size=4).flatmap(
    lambda groups: st.lists(SEPARATORS, min_size=len(groups) - 1, max_size=len(groups) - 1).map(
        lambda seps: groups[0] + "".join(s + g for s, g in zip(seps, groups[1:], strict=True))
    )
)
WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,;()", max_size=40)


@settings(max_examples=300, deadline=None)
@given(
    identifier=IDENTIFIERS,
    label=st.sampled_from(["NHS ", "MRN:", "MRN ", "ref ", "", "Hosp no. "]),
    before=WORDS,
    after=WORDS,
)
def test_an_identifier_across_separators_goes_out_by_no_channel(
    identifier: str, label: str, before: str, after: str
) -> None:
    # Given a description quoting an identifier whose digit groups are joined by spaces, -, /, . or :
    alert = make_alert(description=f"{before} {label}{identifier} {after} potassium 6.9")
    # When every outgoing text is built (SMS, voice, SSML, email)
    sent = everything_sent(alert)
    # Then the identifier appears in none, and the clinical words remain
    assert identifier not in sent
    assert "[number withheld]" in sent and "potassium 6.9" in sent


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


@settings(max_examples=300, deadline=None)
@given(
    date=DATES,
    label=st.sampled_from(["DOB ", "DOB: ", "dob ", "D.O.B. ", "Date of birth ", "born ", "born on ", "Born "]),
    before=WORDS,
)
def test_a_date_of_birth_goes_out_by_no_channel(date: str, label: str, before: str) -> None:
    # Given a description giving the patient's date of birth in any common form
    alert = make_alert(description=f"{before} {label}{date}, potassium 6.9")
    # When every outgoing text is built
    sent = everything_sent(alert)
    # Then the date appears in none
    assert f"{label}{date}" not in sent and date not in sent.replace("[date withheld]", "")
    assert "[date withheld]" in sent


@pytest.mark.parametrize(
    "kept",
    [
        "K+ 6.9 mmol/L, taken 2025-03-04 at 14:30, bed 12",
        "BP 120/80, HR 110, temp 38.5",
        "sampled 04/03/2025 14:30:05, ward 7B",
        "Hb 10.5 g/dL (ref 13.0-17.0)",
    ],
)
def test_clinical_values_dates_and_times_stay(kept: str) -> None:
    # Given a description with values, a sample date and a time (no identifier, no date of birth)
    # When it is masked
    # Then it is unchanged
    assert masking.mask(kept) == kept
