"""Keypress: the call's contact flow invokes this twice. First, with `action` `words` and the call's handle (its only
contact attribute), for what to say (`clarion.usecases.speak_call`): `{"result": "words", "ssml": ...}`, or
`{"result": "unknown"}` for a handle Clarion holds nothing for, on which the flow says only to check Clarion. Then
with the clinician's answer (`clarion.usecases.press_key`), found by the call's `ContactId`. Only this deployment's
Connect instance may invoke the function (its resource policy); each answers well inside the 8 s the flow waits.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.shared.observability import logger, metrics, tracer
from clarion.usecases import press_key, speak_call

WORDS = "words"  # the flow's `action` when it asks what to say


def respond(event: dict[str, Any]) -> dict[str, str]:
    """Connect's flow event: `Details.Parameters` (`action` and `call`, or `digit`) and `Details.ContactData`."""
    details = event.get("Details") or {}
    parameters = details.get("Parameters") or {}
    if parameters.get("action") == WORDS:
        ssml = speak_call.words(str(parameters.get(speak_call.CALL_ATTRIBUTE) or ""))
        return {"result": WORDS, "ssml": ssml} if ssml is not None else {"result": "unknown"}
    contact_id = str((details.get("ContactData") or {}).get("ContactId") or "")
    if not contact_id:
        logger.warning("Keypress event without a contact id")
        return {"result": "unknown"}
    return {"result": press_key.press(contact_id, str(parameters.get("digit") or "none"))}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    return respond(event)
