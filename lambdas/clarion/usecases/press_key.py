"""A clinician's key during Clarion's call: 1 acknowledges, 3 declines ("not my patient"), and none (no key, or 2
twice) leaves the attempt `no_answer`, so the next channel starts at once.

The call is found by the contact's own id (Connect's `ContactId`, which the router recorded when it started the
call), so a key can never reach another alert. A key pressed for an alert that needs no acknowledgement says it was
heard. Either way the key is the call's receipt.
"""

from __future__ import annotations

from clarion.adapters import delivery_log
from clarion.domain import errors
from clarion.domain.models import Channel
from clarion.domain.receipts import Receipt, Verdict
from clarion.shared.observability import logger
from clarion.usecases import settle_receipt
from clarion.usecases.answer_alert import Answer, answer

ACKNOWLEDGE, DECLINE = "1", "3"


def press(contact_id: str, digit: str) -> str:
    """Record the answer `digit` ("none" for no key) to the call `contact_id`; what was done."""
    sent = delivery_log.find_sent(Channel.CALL, contact_id)
    if sent is None:
        logger.warning("Keypress for a call Clarion did not start", extra={"provider_message_id": contact_id})
        return "unknown"
    delivery = sent.delivery
    result = "no_answer"
    try:
        if digit == ACKNOWLEDGE and delivery.ack_required:
            answer(Answer.ACKNOWLEDGE, delivery.client_id, delivery.message_id, delivery.recipient, via="call")
            result = "acknowledged"
        elif digit == DECLINE and delivery.ack_required:
            answer(Answer.DECLINE, delivery.client_id, delivery.message_id, delivery.recipient, via="call")
            result = "declined"
        elif digit in (ACKNOWLEDGE, DECLINE):
            result = "heard"  # an alert that needs no acknowledgement: the key says it was heard
    except errors.ClarionError as error:
        logger.info("Keypress for an alert that cannot be answered", extra={"error": type(error).__name__})
    pressed = digit in (ACKNOWLEDGE, DECLINE)
    verdict = Verdict.DELIVERED if pressed else Verdict.NO_ANSWER
    kind = f"KEYPRESS_{digit}" if pressed else "NO_KEYPRESS"
    settle_receipt.settle(Receipt(Channel.CALL, contact_id, verdict, kind), sent=sent)
    logger.info("Keypress recorded", extra={"result": result, "provider_message_id": contact_id})
    return result
