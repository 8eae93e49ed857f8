"""Replies: reads the inbound-SMS queue (End User Messaging's two-way messages, through the inbound topic) and turns
each clinician's reply into an acknowledgement or a decline (`clarion.domain.replies`).

A reply counts only from the number the alert's SMS went to, and only with that number's code: `4821`, `ack 4821`,
`NO 4821`; a bare `ACK` only when exactly one alert is open for the number. The clinician gets a short answer; a
number Clarion never texted gets none (nothing revealed, nothing spent). Replies are counted per number over ten
minutes and those over the limit are dropped. STOP and HELP are the carrier's and End User Messaging's to answer.

Logs name the inbound message id and what was done, never the number or the text.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion import names
from clarion.adapters import delivery_log, reply_codes
from clarion.adapters.channels import sms
from clarion.adapters.reply_codes import Entry
from clarion.domain import errors, replies
from clarion.domain.messages import ReplyAnswer, reply_text
from clarion.domain.models import ENDED
from clarion.domain.replies import Action
from clarion.services import answers
from clarion.shared.batches import each_record
from clarion.shared.observability import logger, metrics, tracer

WINDOW_S = 600
REPLIES_PER_WINDOW = 10  # per number: a clinician answers a few alerts; a loop or an attacker sends many


def _count(action: str) -> None:
    with single_metric(
        name=names.METRIC_REPLIES, unit=MetricUnit.Count, value=1, namespace=names.METRICS_NAMESPACE
    ) as metric:
        metric.add_dimension(name="action", value=action)


def throttled(number: str, now: float | None = None) -> bool:
    """Count this reply against its number's window; True when the number has sent too many."""
    window = int((time.time() if now is None else now) // WINDOW_S)
    answer = delivery_log.table().update_item(
        Key={"pk": f"replies#{number}", "sk": f"W#{window}"},
        UpdateExpression="ADD n :one SET expires_at = :x",
        ExpressionAttributeValues={":one": 1, ":x": (window + 2) * WINDOW_S},
        ReturnValues="UPDATED_NEW",
    )
    return int(answer["Attributes"]["n"]) > REPLIES_PER_WINDOW


def _open(entries: dict[str, Entry]) -> dict[str, Entry]:
    """The entries whose alert is still open (not acknowledged, not ended)."""
    still = {}
    for code, entry in entries.items():
        record = delivery_log.get_alert(entry.client_id, entry.message_id)
        if record is not None and record.status not in ENDED and record.ack is None:
            still[code] = entry
    return still


def on_reply(number: str, text: str) -> str:
    """Act on `text` from `number`; what was done (the metric's action)."""
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
        try:
            if resolution.action is Action.ACKNOWLEDGE:
                answers.acknowledge(entry.client_id, entry.message_id, entry.contact_id, via="sms")
            else:
                answers.decline(entry.client_id, entry.message_id, entry.contact_id, via="sms", reason=None)
        except errors.ClarionError as error:  # the alert is gone (expired from the log) or needs no answer
            logger.info("Reply names an alert that cannot be answered", extra={"error": type(error).__name__})
            sms.send_text(number, reply_text(ReplyAnswer.UNKNOWN_CODE))
            return Action.NOTHING.value
        answer = ReplyAnswer.ACKNOWLEDGED if resolution.action is Action.ACKNOWLEDGE else ReplyAnswer.DECLINED
        sms.send_text(number, reply_text(answer, code))
        return resolution.action.value
    if resolution.action is Action.ASK_FOR_CODE:
        sms.send_text(number, reply_text(ReplyAnswer.WHICH))
        return resolution.action.value
    sms.send_text(number, reply_text(ReplyAnswer.UNKNOWN_CODE))
    return Action.NOTHING.value


def record_handler(record: dict[str, Any]) -> None:
    logger.remove_keys(["inbound_message_id"])
    try:
        inbound = json.loads(record["body"])
        number, text = str(inbound["originationNumber"]), str(inbound["messageBody"])
    except (ValueError, KeyError, TypeError):
        logger.warning("Not an inbound SMS; dropped", extra={"sqs_message_id": record["messageId"]})
        return
    logger.append_keys(inbound_message_id=str(inbound.get("inboundMessageId", "")))
    if throttled(number):
        logger.warning("Reply dropped: too many replies from this number")
        _count("throttled")
        return
    action = on_reply(number, text)
    logger.info("Reply handled", extra={"action": action})
    _count(action)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    """Each reply on its own; a failed one goes back to the queue (ReportBatchItemFailures)."""
    return each_record(event["Records"], record_handler, "Reply not handled; it comes back")
