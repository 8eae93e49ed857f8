""" "Taken by Dr B, 14:02": once an alert is acknowledged, each other person Clarion reached for it by SMS or email
gets one line, by the channel it reached them on (SMS first), so that two clinicians neither both act nor both
wait (setting `notify_on_ack`).

Whoever records the acknowledgement puts a `taken` request on the alert queue (`request`) after the
acknowledgement commits; the router, which holds the SMS and email permissions, sends the notices (`notify`). Who
was reached is what the alert's own item says: every SMS or email whose send was fenced before the
acknowledgement (`clarion.adapters.escalations.fence`), even one whose provider request was still under way, so
nobody a message reached is left out. Each person is marked before the send (a conditional ADD to the alert's
`taken_notified` set), so nobody ever gets two; a crash between mark and send loses that one notice. No notice
follows a decline, and nobody who declined gets one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clarion.adapters import contacts, delivery_log, escalations, queue
from clarion.adapters.channels import email, sms
from clarion.domain import messages
from clarion.domain.models import Channel
from clarion.shared.aws_errors import AWS_ERRORS
from clarion.shared.observability import logger
from clarion.shared.settings import settings

KIND = "taken"


@dataclass(frozen=True)
class TakenRequest:
    """`by` acknowledged the alert at `at`: tell the others."""

    client_id: str
    message_id: str
    by: str
    at: str

    @classmethod
    def read(cls, body: Any) -> TakenRequest | None:
        """The request an alert queue message holds, or None when it holds none (it is a delivery)."""
        if not isinstance(body, dict) or body.get("kind") != KIND:
            return None
        return cls(str(body["client_id"]), str(body["message_id"]), str(body["by"]), str(body.get("at") or ""))


def request(client_id: str, message_id: str, by: str, at: str) -> None:
    """Ask the router to tell the others that `by` took the alert at `at`."""
    if not settings().notify_on_ack:
        return
    queue.enqueue_body({"kind": KIND, "client_id": client_id, "message_id": message_id, "by": by, "at": at})


def notify(taken: TakenRequest) -> int:
    """Tell each other person reached by SMS or email for the alert that it is taken; how many were told."""
    record = delivery_log.get_alert(taken.client_id, taken.message_id)
    if record is None or record.ack is None:
        return 0
    others = {taken.by, *record.declines}  # who declined gets nothing more for the alert
    by_sms = record.reached.get(Channel.SMS, frozenset()) - others
    by_email = record.reached.get(Channel.EMAIL, frozenset()) - others - by_sms
    if not by_sms and not by_email:
        return 0
    taker = contacts.get_contact(taken.by)
    text = messages.taken_text(taker.name if taker else "", taken.at or str(record.ack.get("at", "")))
    told = 0
    for contact_id, channel in [
        *((c, Channel.SMS) for c in sorted(by_sms)),
        *((c, Channel.EMAIL) for c in sorted(by_email)),
    ]:
        contact = contacts.get_contact(contact_id)
        destination = contact.destination(channel) if contact else None
        if not destination or not escalations.mark_taken_notified(taken.client_id, taken.message_id, contact_id):
            continue
        try:
            if channel is Channel.SMS:
                sms.send_text(destination, text)
            else:
                email.send_taken(destination, text)
            told += 1
        except AWS_ERRORS as error:  # a notice is a courtesy: never retried into a duplicate
            logger.warning("Taken notice not sent", extra={"error_type": type(error).__name__, "channel": channel})
    logger.info("Taken notices sent", extra={"told": told})
    return told
