"""SMS replies: what a clinician's answer to an alert's SMS means. Pure logic, no I/O.

Each SMS of an alert that needs an acknowledgement says "Reply 4821 to acknowledge": a short code, unique among the
alerts still open for the number it was sent to (`allocate_code`). A reply is read (`parse`) as:
- an acknowledgement: the code alone (`4821`), or with a word (`ack 4821`, ` ACK  4821 `, `ok 4821`), any case;
- a decline: `NO 4821`, `decline 4821`;
- a bare `ACK` (or `NO`) without a code: it counts only when exactly one alert is open for that number;
- the carriers' own keywords (STOP and its kin, HELP and INFO): left to the carrier and the messaging service;
- anything else: nothing.
`resolve` then turns a reply and the number's open alerts into what to do; it never reveals another alert.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

CODE_DIGITS = 4
_ACK_WORDS = frozenset({"ack", "acknowledge", "acknowledged", "ok", "yes", "y", "accept", "a"})
_DECLINE_WORDS = frozenset({"no", "n", "decline", "declined", "reject"})
# Keywords the carriers and AWS End User Messaging handle themselves (its opt-out words, and help).
STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout", "arret", "td", "remove"})
HELP_WORDS = frozenset({"help", "info"})
_TOKEN = re.compile(r"[A-Za-z]+|[0-9]+")  # ASCII only: other scripts' digits are no code
_NOISE = re.compile(r"[\s.,;:!?'\"()#*+-]+")


class Intent(StrEnum):
    ACK = "ack"
    DECLINE = "decline"
    STOP = "stop"
    HELP = "help"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Reply:
    intent: Intent
    code: str | None = None  # the alert's code, when the reply names one


def parse(text: str) -> Reply:
    """What the reply `text` says, ignoring case, spacing and punctuation around its words."""
    words = _TOKEN.findall(text)
    if not words or _NOISE.sub("", text) != "".join(words):
        return Reply(Intent.UNKNOWN)
    lowered = [w.lower() for w in words]
    if len(lowered) == 1 and lowered[0] in STOP_WORDS:
        return Reply(Intent.STOP)
    if len(lowered) == 1 and lowered[0] in HELP_WORDS:
        return Reply(Intent.HELP)
    codes = [w for w in lowered if w.isdigit()]
    verbs = [w for w in lowered if not w.isdigit()]
    if len(codes) > 1 or len(verbs) > 1:
        return Reply(Intent.UNKNOWN)
    code = codes[0] if codes else None
    if code is not None and len(code) != CODE_DIGITS:
        return Reply(Intent.UNKNOWN)
    if not verbs:
        return Reply(Intent.ACK, code) if code else Reply(Intent.UNKNOWN)
    if verbs[0] in _ACK_WORDS:
        return Reply(Intent.ACK, code)
    if verbs[0] in _DECLINE_WORDS:
        return Reply(Intent.DECLINE, code)
    return Reply(Intent.UNKNOWN)


class Action(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    DECLINE = "decline"
    ASK_FOR_CODE = "ask_for_code"  # several alerts are open for this number: say which one
    NOTHING = "nothing"  # unknown code, no open alert, not a reply: acknowledge nothing, reveal nothing
    CARRIER = "carrier"  # STOP/HELP: the carrier's and the messaging service's to answer


@dataclass(frozen=True)
class Resolution:
    action: Action
    alert: str | None = None  # the open alert the reply is about (its key), for ACKNOWLEDGE and DECLINE


def resolve(reply: Reply, open_alerts: Mapping[str, str]) -> Resolution:
    """What to do with `reply` from a number whose open alerts are `open_alerts` (code -> alert key)."""
    if reply.intent in (Intent.STOP, Intent.HELP):
        return Resolution(Action.CARRIER)
    if reply.intent is Intent.UNKNOWN:
        return Resolution(Action.NOTHING)
    action = Action.ACKNOWLEDGE if reply.intent is Intent.ACK else Action.DECLINE
    if reply.code is not None:
        alert = open_alerts.get(reply.code)
        return Resolution(action, alert) if alert else Resolution(Action.NOTHING)
    if len(open_alerts) == 1:
        return Resolution(action, next(iter(open_alerts.values())))
    return Resolution(Action.ASK_FOR_CODE) if open_alerts else Resolution(Action.NOTHING)


def allocate_code(taken: frozenset[str] | set[str], rand: Callable[[int], int]) -> str:
    """A code no alert open for the number uses: `rand(n)` gives a number in [0, n). Codes avoid a leading 0
    (some phones drop it) and runs like 1111 that are typed by accident."""
    space = 9 * 10 ** (CODE_DIGITS - 1)
    if len(taken) >= space // 2:
        raise ValueError("too many open alerts for one number to give each a short code")
    while True:
        code = str(10 ** (CODE_DIGITS - 1) + rand(space))
        if code not in taken and len(set(code)) > 1:
            return code
