"""A clinician's SMS reply (End User Messaging's two-way SMS): an acknowledgement, a decline, or neither
(`clarion.domain.replies` reads the text).

A reply counts only from the number the alert's SMS went to, and only with that number's code: `482193`,
`ack 482193`, `NO 482193`. SMS senders can be spoofed, and a spoofed acknowledgement stops an escalation, so a bare
`ACK` (or `a`, `NO`) answers nothing and is answered with a request for the code, unless the setting `sms_bare_ack`
lets it answer the number's only open alert. The clinician gets a short answer; a number Clarion never texted gets
none (nothing revealed, nothing spent). Replies are counted per number over ten minutes and those over the limit
are dropped. A number that sends 5 wrong codes within 15 minutes is locked for an hour: told so once, then its
replies count for nothing and get no answer (metric `SmsReplyLocks`).

STOP and HELP are the carrier's and End User Messaging's to answer; an opt-out from a number Clarion texted means a
clinician can no longer be texted: metric `SmsOptOuts` (its alarm) and a warning naming the contacts. So does an
answer that End User Messaging refuses because the number opted out.

Logs say what was done, never the number (masked: its last two digits), the code or the text.
"""

from __future__ import annotations

from clarion import names
from clarion.adapters import delivery_log, reply_codes
from clarion.adapters.channels import sms
from clarion.adapters.reply_codes import Entry
from clarion.domain import errors, replies
from clarion.domain.messages import ReplyAnswer, reply_text
from clarion.domain.replies import Action, Intent, Reply
from clarion.shared import clock, metrics
from clarion.shared.aws_errors import AWS_ERRORS
from clarion.shared.observability import logger
from clarion.shared.settings import settings
from clarion.usecases.answer_alert import Answer, answer

REPLIES_PER_WINDOW = 10  # per number in ten minutes: a clinician answers a few alerts; a loop or an attacker many
THROTTLED = "throttled"
LOCKED = "locked"  # the number is locked for wrong codes: the reply counts for nothing and gets no answer


def read(number: str, text: str) -> str:
    """Act on the reply `text` from `number`; what was done (the metric's `action`)."""
    reply = replies.parse(text)
    if reply.intent is Intent.STOP:  # before the throttle: an opt-out is never dropped unseen
        _opted_out(number, reply_codes.entries(number), "keyword")
        action = Action.CARRIER.value
        logger.info("Reply handled", extra={"action": action})
    elif reply_codes.count_reply(number, clock.time()) > REPLIES_PER_WINDOW:
        logger.warning("Reply dropped: too many replies from this number")
        action = THROTTLED
    else:
        action = _act(number, reply)
        logger.info("Reply handled", extra={"action": action})
    metrics.emit(names.METRIC_REPLIES, dimensions={"action": action})
    return action


def _opted_out(number: str, known: dict[str, Entry], how: str) -> None:
    """A number opted out of Clarion's SMS (`how`: its STOP keyword, or a send refused). Counted when Clarion has
    texted it (a clinician), so a stranger's STOP pages nobody."""
    if not known:
        logger.info("Opt-out from a number Clarion has not texted", extra={"how": how})
        return
    logger.warning(
        "A clinician's number opted out of SMS: Clarion can no longer text it",
        extra={**_whose(number, known), "how": how},
    )
    metrics.emit(names.METRIC_SMS_OPT_OUTS)


def _whose(number: str, known: dict[str, Entry]) -> dict[str, object]:
    """What a log line may say of whose number it is: the contacts texted at it, and its last two digits."""
    contacts = sorted({entry.contact_id for entry in known.values()})
    return {"contact_ids": contacts, "number": replies.mask_number(number)}


def _tell(number: str, known: dict[str, Entry], said: ReplyAnswer, code: str | None = None) -> None:
    """Answer the reply; a number that opted out cannot be answered (End User Messaging refuses), which is an
    opt-out to count, not a failure to retry."""
    try:
        sms.send_text(number, reply_text(said, code))
    except AWS_ERRORS as error:
        if not sms.opted_out(error):
            raise
        _opted_out(number, known, "send_refused")


def _open(entries: dict[str, Entry]) -> dict[str, Entry]:
    """The entries whose alert is still open (not acknowledged, not ended)."""
    still = {}
    for code, entry in entries.items():
        record = delivery_log.get_alert(entry.client_id, entry.message_id)
        if record is not None and record.open:
            still[code] = entry
    return still


def _act(number: str, reply: Reply) -> str:
    if reply.intent is Intent.HELP:
        return Action.CARRIER.value
    known = reply_codes.entries(number)
    if not known:
        return Action.NOTHING.value  # not a number Clarion texted: no answer at all
    now = clock.time()
    if reply_codes.locked_until(number, now) is not None:
        return LOCKED  # told once, when it was locked
    bare = settings().sms_bare_ack
    candidates = known if reply.code is not None or not bare else _open(known)
    resolution = replies.resolve(reply, {code: code for code in candidates}, bare_answers=bare)
    code = resolution.alert
    if resolution.action in (Action.ACKNOWLEDGE, Action.DECLINE) and code is not None:
        return _answer(number, known, resolution.action, code)
    if resolution.action in (Action.ASK_FOR_CODE, Action.NEED_CODE):
        _tell(number, known, ReplyAnswer.WHICH if resolution.action is Action.ASK_FOR_CODE else ReplyAnswer.NEED_CODE)
        return resolution.action.value
    if replies.wrong_code(reply, set(known)) and reply_codes.count_wrong_code(number, now):
        logger.warning(
            "Number locked: too many wrong reply codes; its replies count for nothing for an hour",
            extra=_whose(number, known),
        )
        metrics.emit(names.METRIC_REPLY_LOCKS)
        _tell(number, known, ReplyAnswer.LOCKED)
        return Action.NOTHING.value
    _tell(number, known, ReplyAnswer.UNKNOWN_CODE)
    return Action.NOTHING.value


def _answer(number: str, known: dict[str, Entry], action: Action, code: str) -> str:
    entry = known[code]
    kind = Answer.ACKNOWLEDGE if action is Action.ACKNOWLEDGE else Answer.DECLINE
    try:
        answer(kind, entry.client_id, entry.message_id, entry.contact_id, via="sms")
    except errors.ClarionError as error:  # the alert is gone (expired from the log) or needs no answer
        logger.info("Reply names an alert that cannot be answered", extra={"error": type(error).__name__})
        _tell(number, known, ReplyAnswer.UNKNOWN_CODE)
        return Action.NOTHING.value
    _tell(number, known, ReplyAnswer.ACKNOWLEDGED if kind is Answer.ACKNOWLEDGE else ReplyAnswer.DECLINED, code)
    return action.value
