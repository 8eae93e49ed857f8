"""Acknowledgement links (public, no Authorization header): `GET /l/{token}` shows the alert and two buttons;
`POST /l/{token}` with `action=ack` or `action=decline` (and an optional `reason`) answers it.

Opening a link never acknowledges (mail scanners fetch links). A link that is malformed, expired, tampered with
or unknown gets the same page and status, with no hint of why. Neither the token nor the page's text reaches a
log line. Plain code rather than Powertools' REST resolver: two routes, and a cold start a clinician waits for.
"""

from __future__ import annotations

import base64
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.utilities.typing import LambdaContext

from clarion.adapters import delivery_log, links
from clarion.adapters.delivery_log import AlertRecord
from clarion.domain import errors, messages
from clarion.domain.models import ENDED, AlertStatus, Priority
from clarion.services import answers
from clarion.shared.observability import logger, tracer

MAX_FORM_BYTES = 2048
MAX_REASON = 200
_URGENCY = {"H": "Urgent", "M": "Important", "L": "For information"}
_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}"
    ".tag{display:inline-block;padding:.2rem .6rem;border-radius:.3rem;background:#eee;font-weight:600}"
    ".H{background:#b3261e;color:#fff}.M{background:#f2b705}"
    "button{font-size:1.1rem;padding:.8rem 1.4rem;margin:.4rem .4rem .4rem 0;border-radius:.4rem;border:0}"
    ".ack{background:#1b6e20;color:#fff}.decline{background:#ddd}"
    "input{font-size:1rem;padding:.5rem;width:100%;box-sizing:border-box;margin:.4rem 0}"
    ".muted{color:#555}"
)


def _page(status: int, title: str, body: str) -> dict[str, Any]:
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} - Clarion</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return {"statusCode": status, "headers": dict(_HEADERS), "body": html, "isBase64Encoded": False}


def invalid() -> dict[str, Any]:
    return _page(404, "This link is no longer valid", '<p class="muted">Open the alert in your clinical system.</p>')


def _when(iso: str) -> str:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).strftime("%d %b %Y, %H:%M UTC")


def _alert_page(record: AlertRecord, contact_id: str) -> dict[str, Any]:
    priority = Priority(record.priority)
    what = f"{_URGENCY[priority.value]}: {messages.template_kind(record.type).value.replace('_', ' ')}"
    facts = (
        f'<p><span class="tag {priority.value}">{escape(what)}</span></p>'
        f"<p>{escape(messages.clean_description(record.description))}</p>"
        f'<p class="muted">Type {escape(record.type)}. Sent {escape(_when(record.accepted_at))}.</p>'
    )
    if record.ack is not None:
        state = "acknowledged by you" if record.ack.get("contact_id") == contact_id else "taken by a colleague"
        return _page(200, "Already acknowledged", facts + f"<p>This alert was {state}.</p>")
    if contact_id in record.declines:
        return _page(200, "You declined this alert", facts + "<p>It has been passed on.</p>")
    if record.status in ENDED:
        closed = "<p>Escalation has ended for this alert; you can still acknowledge it for the record.</p>"
        facts += closed
    form = (
        '<form method="post"><input type="hidden" name="action" value="ack">'
        '<button class="ack" type="submit">Acknowledge</button></form>'
        '<form method="post"><input type="hidden" name="action" value="decline">'
        f'<label for="reason">Not for you? Say why (optional)</label>'
        f'<input id="reason" name="reason" maxlength="{MAX_REASON}" placeholder="e.g. not my patient">'
        '<button class="decline" type="submit">Decline</button></form>'
    )
    return _page(200, "Clarion alert", facts + form)


def _form(event: dict[str, Any]) -> dict[str, str] | None:
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    if len(raw) > MAX_FORM_BYTES:
        return None
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=4, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        return None
    return {k: v[0] for k, v in fields.items()}


def _answer(event: dict[str, Any], link: links.Link) -> dict[str, Any]:
    form = _form(event)
    if form is None or form.get("action") not in ("ack", "decline"):
        return _page(400, "That did not work", "<p>Use the buttons on the link's page.</p>")
    reason = " ".join(form.get("reason", "").split())[:MAX_REASON] or None
    if reason is not None and not reason.isprintable():
        reason = None
    try:
        if form["action"] == "ack":
            record = answers.acknowledge(link.client_id, link.message_id, link.contact_id, "link")
            mine = record.ack is not None and record.ack.get("contact_id") == link.contact_id
            text = "Thank you: the alert is acknowledged." if mine else "A colleague acknowledged it already."
            return _page(200, "Acknowledged" if mine else "Already acknowledged", f"<p>{text}</p>")
        record = answers.decline(link.client_id, link.message_id, link.contact_id, "link", reason)
    except errors.ClarionError:
        return invalid()
    if record.ack is not None or record.status is AlertStatus.ACKNOWLEDGED:
        return _page(200, "Already acknowledged", "<p>A colleague acknowledged it already.</p>")
    if link.contact_id not in record.declines:  # the walk had ended: nothing to pass on
        return _page(200, "Escalation has ended", "<p>Nothing changed: this alert is no longer being passed on.</p>")
    return _page(200, "Declined", "<p>Thank you: the alert is passed on to the next person.</p>")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    token = str((event.get("pathParameters") or {}).get("token") or "")
    link = links.resolve(token)
    if link is None:
        logger.info("Link refused")
        return invalid()
    logger.set_correlation_id(link.message_id)
    logger.append_keys(message_id=link.message_id, client_id=link.client_id)
    if event.get("httpMethod") == "POST":
        return _answer(event, link)
    record = delivery_log.get_alert(link.client_id, link.message_id)
    if record is None:
        return invalid()
    return _alert_page(record, link.contact_id)
