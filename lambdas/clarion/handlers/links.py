"""Acknowledgement links (public, no Authorization header): `GET /l/{token}` shows the alert and two buttons;
`POST /l/{token}` with `action=ack` or `action=decline` (and an optional `reason`) answers it
(`clarion.usecases.open_link`; the pages are `clarion.handlers.link_pages`'). Plain code rather than Powertools'
REST resolver: two routes, and a cold start a clinician waits for.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.handlers import link_pages
from clarion.shared.observability import logger, tracer
from clarion.usecases import open_link
from clarion.usecases.answer_alert import Answer

MAX_FORM_BYTES = 2048
_ACTIONS = {"ack": Answer.ACKNOWLEDGE, "decline": Answer.DECLINE}


def _form(event: dict[str, Any]) -> tuple[Answer | None, str | None]:
    """The answer the page's form gives (None: neither button's), and the reason, printable and trimmed."""
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    if len(raw) > MAX_FORM_BYTES:
        return None, None
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=4, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        return None, None
    reason = " ".join(fields.get("reason", [""])[0].split())[: link_pages.MAX_REASON] or None
    return _ACTIONS.get(fields.get("action", [""])[0]), reason if reason and reason.isprintable() else None


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    token = str((event.get("pathParameters") or {}).get("token") or "")
    if event.get("httpMethod") == "POST":
        result = open_link.respond(token, *_form(event))
        return link_pages.answered(result) if result is not None else link_pages.invalid()
    opened = open_link.read(token)
    return link_pages.alert_page(opened.record, opened.contact_id) if opened else link_pages.invalid()
