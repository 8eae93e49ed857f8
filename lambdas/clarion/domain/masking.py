"""What of a description must never go out: identifier-like numbers and dates of birth. Descriptions are free
text from clinical systems, so a patient's NHS number, MRN or date of birth may be typed into one.

- A run of digit groups joined by single spaces, `-`, `/`, `.` or `:` (`943-476-5919`, `MRN:12345-6789`,
  `943 476 5919`) with 6 digits or more is withheld, unless it reads as a date or a time (`2025-03-04`, `14:30:05`),
  which say when a sample was taken, or as decimal values (a range `13.0-17.0`, a ratio `1.25/2.50`).
- A date after DOB, D.O.B., date of birth or born (`DOB 01/02/1980`, `born 1 Feb 1980`, `born 1980`) is withheld.
"""

from __future__ import annotations

import re

NUMBER_WITHHELD = "[number withheld]"
DATE_WITHHELD = "[date withheld]"
_MIN_DIGITS = 6
_RUN = re.compile(r"\d+(?:[ \-/.:]\d+)*")
_MONTH = r"[A-Za-z]{3,9}\.?"
_DATE = (
    r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}"  # 01/02/1980, 1980-02-01, 1.2.80
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{2,4}}"  # 1 Feb 1980, 1st February, 1980
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{2,4}}"  # Feb 1, 1980
    r"|\d{4}(?!\d)"  # 1980
)
_BIRTH = re.compile(rf"(?i)\b(d\.?o\.?b\b\.?|date\s+of\s+birth|born(?:\s+on)?)([\s:\-]*)({_DATE})")
_YMD = re.compile(r"(?:19|20)\d\d([-/.])(\d\d)\1(\d\d)")
_DMY = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(?:\d{2}|\d{4})")
_TIME = re.compile(r"([01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?")
_VALUE = re.compile(r"\d{1,4}(?:\.\d{1,2})?")


def _is_values(piece: str) -> bool:
    parts = re.split(r"[-/]", piece)
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


def _judged(piece: str) -> str:
    if sum(c.isdigit() for c in piece) < _MIN_DIGITS or _is_date_or_time(piece) or _is_values(piece):
        return piece
    return NUMBER_WITHHELD


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    pieces = run.split(" ")
    if len(pieces) > 1 and any(_is_date_or_time(p) for p in pieces):
        return " ".join(_judged(p) for p in pieces)  # "bed 12 2025-03-04 14:30": each on its own
    return _judged(run)


def mask(text: str) -> str:
    """`text` with dates of birth and identifier-like numbers withheld."""
    text = _BIRTH.sub(lambda m: f"{m.group(1)}{m.group(2)}{DATE_WITHHELD}", text)
    return _RUN.sub(_mask_run, text)
