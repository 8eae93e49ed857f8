"""The acknowledgement link's pages (`clarion.handlers.links`): the alert with its two buttons, and one page for
each answer. Plain HTML with no script, under a strict Content-Security-Policy; every value is escaped."""

from __future__ import annotations

from html import escape
from typing import Any

from clarion.domain import messages
from clarion.domain.alert_record import AlertRecord
from clarion.domain.models import ENDED, Priority
from clarion.shared import clock
from clarion.usecases.open_link import Result

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
    return clock.parse(iso).strftime("%d %b %Y, %H:%M UTC")


def alert_page(record: AlertRecord, contact_id: str) -> dict[str, Any]:
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


_ANSWERED = {
    Result.ACKNOWLEDGED: (200, "Acknowledged", "Thank you: the alert is acknowledged."),
    Result.TAKEN: (200, "Already acknowledged", "A colleague acknowledged it already."),
    Result.DECLINED: (200, "Declined", "Thank you: the alert is passed on to the next person."),
    Result.ENDED: (200, "Escalation has ended", "Nothing changed: this alert is no longer being passed on."),
    Result.UNREADABLE: (400, "That did not work", "Use the buttons on the link's page."),
}


def answered(result: Result) -> dict[str, Any]:
    status, title, text = _ANSWERED[result]
    return _page(status, title, f"<p>{text}</p>")
