"""SMS replies: what a clinician's answer to an alert's SMS means. Pure logic, no I/O.

Each SMS of an alert that needs an acknowledgement says "Reply 482193 to acknowledge": a six-digit code, unique among
the codes its number holds (`allocate_code`). A reply is read (`parse`) as:
- an acknowledgement: the code alone (`482193`), or with a word (`ack 482193`, ` ACK  482193 `, `ok 482193`), any case;
- a decline: `NO 482193`, `decline 482193`;
- a bare `ACK`, `a` (or `NO`) without a code;
- an opt-out (STOP and its kin, `opt-out`), or HELP and INFO: left to the carrier and the messaging service;
- anything else: nothing.
`resolve` then turns a reply and the number's open alerts into what to do; it never reveals another alert:
1. an opt-out, HELP or INFO: the carrier's;
2. nothing readable: nothing;
3. a code: the alert it names, if the number holds it; otherwise nothing (a wrong code);
4. no code, and bare answers not allowed (the default: SMS senders can be spoofed, and a spoofed acknowledgement
   stops an escalation): ask for the code;
5. no code: the only open alert; with several, ask which; with none, nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

CODE_DIGITS = 6
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
    if (len(lowered) == 1 and lowered[0] in STOP_WORDS) or lowered == ["opt", "out"]:  # OPT-OUT: two words here
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
    NEED_CODE = "need_code"  # a bare answer, and bare answers are off: reply with the code
    NOTHING = "nothing"  # unknown code, no open alert, not a reply: acknowledge nothing, reveal nothing
    CARRIER = "carrier"  # STOP/HELP: the carrier's and the messaging service's to answer


@dataclass(frozen=True)
class Resolution:
    action: Action
    alert: str | None = None  # the open alert the reply is about (its key), for ACKNOWLEDGE and DECLINE


def resolve(reply: Reply, open_alerts: Mapping[str, str], bare_answers: bool = False) -> Resolution:
    """What to do with `reply` from a number whose open alerts are `open_alerts` (code -> alert key). A reply
    without a code answers the number's only open alert only when `bare_answers` (setting `sms_bare_ack`)."""
    if reply.intent in (Intent.STOP, Intent.HELP):
        return Resolution(Action.CARRIER)
    if reply.intent is Intent.UNKNOWN:
        return Resolution(Action.NOTHING)
    action = Action.ACKNOWLEDGE if reply.intent is Intent.ACK else Action.DECLINE
    if reply.code is not None:
        alert = open_alerts.get(reply.code)
        return Resolution(action, alert) if alert else Resolution(Action.NOTHING)
    if not bare_answers:
        return Resolution(Action.NEED_CODE)
    if len(open_alerts) == 1:
        return Resolution(action, next(iter(open_alerts.values())))
    return Resolution(Action.ASK_FOR_CODE) if open_alerts else Resolution(Action.NOTHING)


def wrong_code(reply: Reply, codes: frozenset[str] | set[str]) -> bool:
    """Whether `reply` names a code that is none of the number's `codes`: a mistake, or a guess (the lock counts
    these). A code of an alert that has since ended is no guess."""
    return reply.intent in (Intent.ACK, Intent.DECLINE) and reply.code is not None and reply.code not in codes


def locks(wrong_at: list[float], now: float, limit: int, window_s: float) -> bool:
    """Whether the wrong codes sent at `wrong_at` (epoch seconds) lock the number: `limit` of them within the
    `window_s` up to `now`."""
    return sum(1 for t in wrong_at if now - window_s < t <= now) >= limit


def mask_number(number: str) -> str:
    """A phone number as a log line may show it: its last two digits, the rest starred (`+*********42`)."""
    digits = [c for c in number if c.isdigit()]
    return ("+" if number.startswith("+") else "") + "*" * max(len(digits) - 2, 0) + "".join(digits[-2:])


def allocate_code(taken: frozenset[str] | set[str], rand: Callable[[int], int]) -> str:
    """A code no alert open for the number uses: `rand(n)` gives a number in [0, n). Codes avoid a leading 0
    (some phones drop it) and runs like 111111 that are typed by accident."""
    space = 9 * 10 ** (CODE_DIGITS - 1)
    if len(taken) >= space // 2:
        raise ValueError("too many open alerts for one number to give each a short code")
    while True:
        code = str(10 ** (CODE_DIGITS - 1) + rand(space))
        if code not in taken and len(set(code)) > 1:
            return code
