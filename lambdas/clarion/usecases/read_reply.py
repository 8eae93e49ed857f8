"""A clinician's SMS reply (End User Messaging's two-way SMS): an acknowledgement, a decline, or neither
(`clarion.domain.replies` reads the text).

A reply counts only from the number the alert's SMS went to, and only with that number's code: `4821`, `ack 4821`,
`NO 4821`; a bare `ACK` only when exactly one alert is open for the number. The clinician gets a short answer; a
number Clarion never texted gets none (nothing revealed, nothing spent). Replies are counted per number over ten
minutes and those over the limit are dropped. STOP and HELP are the carrier's and End User Messaging's to answer.

Logs say what was done, never the number or the text.
"""

from __future__ import annotations

from clarion import names
from clarion.adapters import delivery_log, reply_codes
from clarion.adapters.channels import sms
from clarion.adapters.reply_codes import Entry
from clarion.domain import errors, replies
from clarion.domain.messages import ReplyAnswer, reply_text
from clarion.domain.replies import Action
from clarion.shared import clock, metrics
from clarion.shared.observability import logger
from clarion.usecases.answer_alert import Answer, answer

REPLIES_PER_WINDOW = 10  # per number in ten minutes: a clinician answers a few alerts; a loop or an attacker many
THROTTLED = "throttled"


def read(number: str, text: str) -> str:
    """Act on the reply `text` from `number`; what was done (the metric's `action`)."""
    if reply_codes.count_reply(number, clock.time()) > REPLIES_PER_WINDOW:
        logger.warning("Reply dropped: too many replies from this number")
        action = THROTTLED
    else:
        action = _act(number, text)
        logger.info("Reply handled", extra={"action": action})
    metrics.emit(names.METRIC_REPLIES, dimensions={"action": action})
    return action


def _open(entries: dict[str, Entry]) -> dict[str, Entry]:
    """The entries whose alert is still open (not acknowledged, not ended)."""
    still = {}
    for code, entry in entries.items():
        record = delivery_log.get_alert(entry.client_id, entry.message_id)
        if record is not None and record.open:
            still[code] = entry
    return still


def _act(number: str, text: str) -> str:
    reply = replies.parse(text)
    if reply.intent in (replies.Intent.STOP, replies.Intent.HELP):
        return Action.CARRIER.value
    known = reply_codes.entries(number)
    if not known:
        return Action.NOTHING.value  # not a number Clarion texted: no answer at all
    candidates = known if reply.code is not None else _open(known)
    resolution = replies.resolve(reply, {code: code for code in candidates})
    code = resolution.alert
    if resolution.action in (Action.ACKNOWLEDGE, Action.DECLINE) and code is not None:
        entry = candidates[code]
        kind = Answer.ACKNOWLEDGE if resolution.action is Action.ACKNOWLEDGE else Answer.DECLINE
        try:
            answer(kind, entry.client_id, entry.message_id, entry.contact_id, via="sms")
        except errors.ClarionError as error:  # the alert is gone (expired from the log) or needs no answer
            logger.info("Reply names an alert that cannot be answered", extra={"error": type(error).__name__})
            sms.send_text(number, reply_text(ReplyAnswer.UNKNOWN_CODE))
            return Action.NOTHING.value
        said = ReplyAnswer.ACKNOWLEDGED if kind is Answer.ACKNOWLEDGE else ReplyAnswer.DECLINED
        sms.send_text(number, reply_text(said, code))
        return resolution.action.value
    if resolution.action is Action.ASK_FOR_CODE:
        sms.send_text(number, reply_text(ReplyAnswer.WHICH))
        return resolution.action.value
    sms.send_text(number, reply_text(ReplyAnswer.UNKNOWN_CODE))
    return Action.NOTHING.value
