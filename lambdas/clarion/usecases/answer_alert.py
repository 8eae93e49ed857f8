"""A clinician's answer to an alert, however it arrives (the API, a link, an SMS reply, a keypress): acknowledge or
decline.

The first acknowledgement wins and ends the walk; later ones change nothing. One after the walk ended is still
recorded, for the audit, without changing the status. A decline takes that recipient off the alert; when it
leaves the current stage settled the escalator is asked to look at once. An answer from someone the alert never
notified, or to an alert that needs none, is refused with the domain's error.
"""

from __future__ import annotations

from enum import StrEnum

from clarion import names
from clarion.adapters import delivery_log, escalations, events, timers
from clarion.adapters.commits import Committed
from clarion.domain import errors
from clarion.domain.alert_record import AlertRecord
from clarion.domain.models import ENDED
from clarion.shared import clock, metrics
from clarion.shared.observability import logger
from clarion.usecases import notify_taken


class Answer(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    DECLINE = "decline"


def answer(
    kind: Answer, client_id: str, message_id: str, contact_id: str, via: str, reason: str | None = None
) -> AlertRecord:
    """Record `contact_id`'s answer to the alert, given `via` (api, link, sms, call); the alert as it now stands."""
    if kind is Answer.ACKNOWLEDGE:
        return _acknowledge(client_id, message_id, contact_id, via)
    return _decline(client_id, message_id, contact_id, via, reason)


def _read(client_id: str, message_id: str) -> AlertRecord:
    record = delivery_log.get_alert(client_id, message_id)
    if record is None:
        raise errors.NotFound(f"There is no alert '{message_id}'.", field="message_id")
    return record


def _refuse(record: AlertRecord, contact_id: str) -> None:
    """Raise why an answer from `contact_id` cannot count for `record`, if it cannot."""
    if not record.ack_required:
        raise errors.AckNotExpected(
            f"Alert '{record.message_id}' does not need an acknowledgement (priority {record.priority}).",
            field="message_id",
        )
    if contact_id not in record.notified():
        raise errors.NotARecipient(
            f"Contact '{contact_id}' was not notified of alert '{record.message_id}'.", field="contact_id"
        )


def _acknowledge(client_id: str, message_id: str, contact_id: str, via: str) -> AlertRecord:
    acked = escalations.acknowledge(client_id, message_id, contact_id, via)
    if acked is not None:
        record = _read(client_id, message_id)
        _announce_ack(record, contact_id, via, acked)
        notify_taken.request(client_id, message_id, contact_id, acked.at)
        return record
    record = _read(client_id, message_id)
    _refuse(record, contact_id)
    late = record.ack is None and record.status in ENDED
    if late and escalations.acknowledge_after_end(client_id, message_id, contact_id, via):
        logger.info("Acknowledgement after the walk ended", extra={"via": via, "status": record.status.value})
        record = _read(client_id, message_id)
    return record


def _announce_ack(record: AlertRecord, contact_id: str, via: str, acked: Committed) -> None:
    seconds = clock.seconds_between(record.accepted_at, acked.at)
    target = record.target_s
    within = target is None or seconds <= target
    events.publish_walk(
        record.client_id,
        record.message_id,
        record.priority,
        record.type,
        events.ACKNOWLEDGED,
        acked.at,
        seq=acked.seq,
        acknowledged_by=contact_id,
        via=via,
        stage=record.stage,
        time_to_ack_s=round(seconds, 3),
        target_s=target,
        within_target=within,
    )
    metrics.loop(names.METRIC_TIME_TO_ACK, record.priority, seconds, "Seconds")
    metrics.loop(names.METRIC_ACK_WITHIN_TARGET if within else names.METRIC_ACK_LATE, record.priority)
    logger.info(
        "Alert acknowledged",
        extra={"via": via, "stage": record.stage, "time_to_ack_s": round(seconds, 3), "within_target": within},
    )


def _decline(client_id: str, message_id: str, contact_id: str, via: str, reason: str | None) -> AlertRecord:
    declined = escalations.decline(client_id, message_id, contact_id, via, reason)
    record = _read(client_id, message_id)
    if declined is None:
        _refuse(record, contact_id)
        return record  # declined already, acknowledged or ended: nothing changes
    events.publish_walk(
        record.client_id,
        record.message_id,
        record.priority,
        record.type,
        events.DECLINED,
        declined.at,
        seq=declined.seq,
        contact_id=contact_id,
        via=via,
        stage=record.stage,
    )
    logger.info("Alert declined", extra={"via": via, "stage": record.stage})
    timers.check(record.client_id, record.message_id, record.stage)
    return record
