"""Open an acknowledgement link (public, no Authorization header): read the alert it names, and answer it.

Opening a link never acknowledges (mail scanners fetch links): only an answer does. A link that is malformed,
expired, tampered with or unknown, or whose alert is gone, is `None` to the caller, which says nothing of why.
Neither the token nor the alert's text reaches a log line.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from clarion.adapters import delivery_log, links
from clarion.domain import errors
from clarion.domain.alert_record import AlertRecord
from clarion.domain.models import AlertStatus
from clarion.shared.observability import logger
from clarion.usecases.answer_alert import Answer, answer


@dataclass(frozen=True)
class Opened:
    record: AlertRecord
    contact_id: str  # whom the link was sent to


class Result(StrEnum):
    ACKNOWLEDGED = "acknowledged"  # by this recipient, now or before
    TAKEN = "taken"  # a colleague acknowledged it already
    DECLINED = "declined"
    ENDED = "ended"  # the walk had ended: nothing to pass on
    UNREADABLE = "unreadable"  # the answer was not one of the page's buttons


def _resolve(token: str) -> links.Link | None:
    link = links.resolve(token)
    if link is None:
        logger.info("Link refused")
        return None
    logger.set_correlation_id(link.message_id)
    logger.append_keys(message_id=link.message_id, client_id=link.client_id)
    return link


def read(token: str) -> Opened | None:
    """The alert the link names and its recipient; None for a link that is no longer valid."""
    link = _resolve(token)
    if link is None:
        return None
    record = delivery_log.get_alert(link.client_id, link.message_id)
    return Opened(record, link.contact_id) if record is not None else None


def respond(token: str, kind: Answer | None, reason: str | None = None) -> Result | None:
    """Answer the alert as the link's recipient (`kind` None: the form said neither); None for a link that is no
    longer valid (or an alert that cannot be answered)."""
    link = _resolve(token)
    if link is None:
        return None
    if kind is None:
        return Result.UNREADABLE
    try:
        record = answer(kind, link.client_id, link.message_id, link.contact_id, "link", reason)
    except errors.ClarionError:
        return None
    mine = record.ack is not None and record.ack.get("contact_id") == link.contact_id
    if kind is Answer.ACKNOWLEDGE:
        return Result.ACKNOWLEDGED if mine else Result.TAKEN
    if record.ack is not None or record.status is AlertStatus.ACKNOWLEDGED:
        return Result.TAKEN
    if link.contact_id not in record.declines:
        return Result.ENDED
    return Result.DECLINED
