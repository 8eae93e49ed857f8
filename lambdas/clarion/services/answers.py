"""A clinician's answer to an alert, however it arrives (the API, a link; the phone next): acknowledge or decline.

The first acknowledgement wins and ends the walk; later ones change nothing. One after the walk ended is still
recorded, for the audit, without changing the status. A decline takes that recipient off the alert; when it
leaves the current stage settled the escalator is asked to look at once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from clarion import names
from clarion.adapters import delivery_log, escalations, events, timers
from clarion.adapters.delivery_log import AlertRecord
from clarion.domain import errors
from clarion.domain.models import ENDED
from clarion.services import taken
from clarion.shared.observability import logger, loop_metric


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def _seconds_since(start: str, moment: datetime) -> float:
    began = datetime.fromisoformat(start.replace("Z", "+00:00"))
    return max(0.0, (moment - began).total_seconds())


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
    notified = {c for stage in record.stages for c in stage.get("contact_ids", [])}
    if contact_id not in notified:
        raise errors.NotARecipient(
            f"Contact '{contact_id}' was not notified of alert '{record.message_id}'.", field="contact_id"
        )


def acknowledge(client_id: str, message_id: str, contact_id: str, via: str) -> AlertRecord:
    """Record that `contact_id` acknowledged; the alert as it now stands."""
    moment = _now()
    at = _iso(moment)
    if escalations.acknowledge(client_id, message_id, contact_id, at, via):
        record = _read(client_id, message_id)
        _announce_ack(record, contact_id, via, moment)
        taken.request(client_id, message_id, contact_id, at)
        return record
    record = _read(client_id, message_id)
    _refuse(record, contact_id)
    late = record.ack is None and record.status in ENDED
    if late and escalations.acknowledge_after_end(client_id, message_id, contact_id, at, via):
        logger.info("Acknowledgement after the walk ended", extra={"via": via, "status": record.status.value})
        record = _read(client_id, message_id)
    return record


def _announce_ack(record: AlertRecord, contact_id: str, via: str, moment: datetime) -> None:
    seconds = _seconds_since(record.accepted_at, moment)
    target = record.target_s
    within = target is None or seconds <= target
    events.publish_walk(
        record.client_id,
        record.message_id,
        record.priority,
        record.type,
        events.ACKNOWLEDGED,
        _iso(moment),
        acknowledged_by=contact_id,
        via=via,
        stage=record.stage,
        time_to_ack_s=round(seconds, 3),
        target_s=target,
        within_target=within,
    )
    loop_metric(names.METRIC_TIME_TO_ACK, record.priority, seconds, "Seconds")
    loop_metric(names.METRIC_ACK_WITHIN_TARGET if within else names.METRIC_ACK_LATE, record.priority)
    logger.info(
        "Alert acknowledged",
        extra={"via": via, "stage": record.stage, "time_to_ack_s": round(seconds, 3), "within_target": within},
    )


def decline(client_id: str, message_id: str, contact_id: str, via: str, reason: str | None) -> AlertRecord:
    """Record that `contact_id` declined; the alert as it now stands."""
    moment = _now()
    record = escalations.decline(client_id, message_id, contact_id, _iso(moment), via, reason)
    if record is None:
        record = _read(client_id, message_id)
        _refuse(record, contact_id)
        return record  # declined already, acknowledged or ended: nothing changes
    events.publish_walk(
        record.client_id,
        record.message_id,
        record.priority,
        record.type,
        events.DECLINED,
        _iso(moment),
        contact_id=contact_id,
        via=via,
        stage=record.stage,
    )
    logger.info("Alert declined", extra={"via": via, "stage": record.stage})
    timers.check(record.client_id, record.message_id, record.stage)
    return record
