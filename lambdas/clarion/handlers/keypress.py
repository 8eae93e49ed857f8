"""Keypress: the call's contact flow invokes this twice. First, with `action` `words` and the call's handle (its only
contact attribute), for what to say: `{"result": "words", "ssml": ...}`, or `{"result": "unknown"}` for a handle
Clarion does not hold (malformed, forged or expired), on which the flow says only to check Clarion. Then with the
clinician's answer: 1 acknowledges, 3 declines ("not my patient"), and none (no key, or 2 twice) leaves the attempt
`no_answer`, so the next channel starts at once.

The words are found by the handle alone (written before the call started), so the flow never waits for the router.
The answer is found by the contact's own id (Connect's `ContactId`, which the router recorded when it started the
call), so it can never reach another alert. Only this deployment's Connect instance may invoke the function (its
resource policy). Each answers in one or a few calls, well inside the 8 s the flow waits.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.adapters import call_words, delivery_log
from clarion.domain import errors
from clarion.domain.models import Channel
from clarion.domain.receipts import Receipt, Verdict
from clarion.services import answers
from clarion.services import receipts as settle
from clarion.shared.observability import logger, metrics, tracer

ACKNOWLEDGE, DECLINE = "1", "3"
WORDS = "words"  # the flow's `action` when it asks what to say


def words(handle: str) -> dict[str, str]:
    """What the call with `handle` says, as the flow's flat string map."""
    ssml = call_words.fetch(handle)
    if ssml is None:
        logger.warning("Words asked for a call Clarion holds none for")
        return {"result": "unknown"}
    return {"result": WORDS, "ssml": ssml}


def on_keypress(contact_id: str, digit: str) -> str:
    """Record the answer to the call `contact_id`; what was done."""
    sent = delivery_log.find_sent(Channel.CALL, contact_id)
    if sent is None:
        logger.warning("Keypress for a call Clarion did not start", extra={"provider_message_id": contact_id})
        return "unknown"
    delivery = sent.delivery
    result = "no_answer"
    try:
        if digit == ACKNOWLEDGE and delivery.ack_required:
            answers.acknowledge(delivery.client_id, delivery.message_id, delivery.recipient, via="call")
            result = "acknowledged"
        elif digit == DECLINE and delivery.ack_required:
            answers.decline(delivery.client_id, delivery.message_id, delivery.recipient, via="call", reason=None)
            result = "declined"
        elif digit in (ACKNOWLEDGE, DECLINE):
            result = "heard"  # an alert that needs no acknowledgement: the key says it was heard
    except errors.ClarionError as error:
        logger.info("Keypress for an alert that cannot be answered", extra={"error": type(error).__name__})
    pressed = digit in (ACKNOWLEDGE, DECLINE)
    verdict = Verdict.DELIVERED if pressed else Verdict.NO_ANSWER
    settle.apply(sent, Receipt(Channel.CALL, contact_id, verdict, f"KEYPRESS_{digit}" if pressed else "NO_KEYPRESS"))
    logger.info("Keypress recorded", extra={"result": result, "provider_message_id": contact_id})
    return result


def respond(event: dict[str, Any]) -> dict[str, str]:
    """Connect's flow event: `Details.Parameters` (`action` and `call`, or `digit`) and `Details.ContactData`."""
    details = event.get("Details") or {}
    parameters = details.get("Parameters") or {}
    if parameters.get("action") == WORDS:
        return words(str(parameters.get(call_words.CALL_ATTRIBUTE) or ""))
    contact_id = str((details.get("ContactData") or {}).get("ContactId") or "")
    digit = str(parameters.get("digit") or "none")
    if not contact_id:
        logger.warning("Keypress event without a contact id")
        return {"result": "unknown"}
    return {"result": on_keypress(contact_id, digit)}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    return respond(event)
