"""What of a description must never go out: identifier-like numbers and dates of birth. Descriptions are free
text from clinical systems, so a patient's NHS number, MRN or date of birth may be typed into one.

1. A run is digit groups joined by `-`, an en dash, `_`, `/`, `.`, `:`, `,`, spaces or a spaced dash (`943-476-5919`,
   `MRN:12345-6789`, `943 476 5919`, `943_476_5919`, `943 - 476 - 5919`).
2. Within a run, a piece between spaces that reads as a date or a time (`2025-03-04`, `04/03/2025`, `14:30:05`) is
   kept: it says when a sample was taken. Each stretch of the run between such pieces is judged whole, so a time
   after an identifier does not break it apart (`943 476 5919 14:30` is `[number withheld] 14:30`).
3. A stretch with 6 digits or more is withheld, unless it reads as decimal values (a range `13.0-17.0` or
   `13.0 - 17.0`, a ratio `1.25/2.50`).
4. Then a date up to three words after a birth word (DOB, D.O.B., date of birth, birthdate, birthday, born:
   `DOB 01/02/1980`, `DOB is 01/02/1980`, `born on 1 Feb 1980`, `born 1980`) is withheld. Other dates and times stay
   (`since 01/12/2026`, `K+ 6.9 at 14:30`).
"""

from __future__ import annotations

import re

NUMBER_WITHHELD = "[number withheld]"
DATE_WITHHELD = "[date withheld]"
_MIN_DIGITS = 6
_RUN = re.compile(r"\d+(?:(?:\s*[-\u2013]\s*|\s+|[_/.:,])\d+)*")
_GAP = re.compile(r"(\s*[-\u2013]\s+|\s+[-\u2013]\s*|\s+)")  # the joiners with a space: between a run's pieces
_RANGE = re.compile(r"\s*[-\u2013/,]\s*")  # between decimal values: a range, a ratio, a list
_MONTH = r"[A-Za-z]{3,9}\.?"
_DATE = (
    r"\d{1,4}[-\u2013/.]\d{1,2}[-\u2013/.]\d{1,4}"  # 01/02/1980, 1980-02-01, 1.2.80
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{2,4}}"  # 1 Feb 1980, 1st February, 1980
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{2,4}}"  # Feb 1, 1980
    rf"|{_MONTH},?\s+\d{{4}}(?!\d)"  # Feb 1980
    r"|\d{4}(?!\d)"  # 1980
)
_BIRTH_WORD = r"d\.?\s?o\.?\s?b\b\.?|date\s+of\s+birth\b|birth\s*date\b|birthday\b|born\b"
_BETWEEN = r"[\s:,;()\-\u2013]"
_BIRTH = re.compile(
    rf"(?i)\b({_BIRTH_WORD})((?:{_BETWEEN}+[^\W\d_]+\.?){{0,3}}?{_BETWEEN}*)\b({_DATE})"  # up to 3 words between
)
_YMD = re.compile(r"(?:19|20)\d\d([-\u2013/.])(\d\d)\1(\d\d)")
_DMY = re.compile(r"(\d{1,2})([-\u2013/.])(\d{1,2})\2(?:\d{2}|(?:19|20)\d{2})")
_TIME = re.compile(r"([01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?")
_VALUE = re.compile(r"\d{1,4}(?:\.\d{1,2})?")


def _is_values(stretch: str) -> bool:
    parts = _RANGE.split(stretch)
    return any("." in p for p in parts) and all(_VALUE.fullmatch(p) for p in parts)


def _is_date_or_time(piece: str) -> bool:
    if _TIME.fullmatch(piece):
        return True
    if (ymd := _YMD.fullmatch(piece)) is not None:
        return 1 <= int(ymd.group(2)) <= 12 and 1 <= int(ymd.group(3)) <= 31
    if (dmy := _DMY.fullmatch(piece)) is not None:
        first, second = int(dmy.group(1)), int(dmy.group(3))
        low, high = min(first, second), max(first, second)
        return 1 <= low <= 12 and high <= 31
    return False


def _judged(stretch: str) -> str:
    if sum(c.isdigit() for c in stretch) < _MIN_DIGITS or _is_values(stretch):
        return stretch
    return NUMBER_WITHHELD


def _mask_run(match: re.Match[str]) -> str:
    parts = _GAP.split(match.group(0))  # pieces at even indexes, the gaps between them at odd ones
    out: list[str] = []
    stretch: list[str] = []  # the pieces (and gaps) since the last date or time
    for index, part in enumerate(parts):
        if index % 2 == 0 and _is_date_or_time(part):
            if stretch:  # the stretch before it, judged whole; then the gap before the date
                out += [_judged("".join(stretch[:-1])), stretch[-1]]
            out.append(part)
            stretch = []
        elif index % 2 == 1 and not stretch:  # the gap after a date or time
            out.append(part)
        else:
            stretch.append(part)
    out.append(_judged("".join(stretch)))
    return "".join(out)


def mask(text: str) -> str:
    """`text` with identifier-like numbers and dates of birth withheld."""
    text = _RUN.sub(_mask_run, text)
    return _BIRTH.sub(lambda m: f"{m.group(1)}{m.group(2)}{DATE_WITHHELD}", text)
