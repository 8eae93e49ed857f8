"""Read an alert (`GET /alerts/{id}`): the calling client's own alert, with every attempt, stage, decline and the
acknowledgement; another client's alert is as unknown as one that never was."""

from __future__ import annotations

from clarion.adapters import delivery_log
from clarion.domain.alert_record import AlertRecord
from clarion.domain.errors import NotFound


def read(client_id: str, message_id: str) -> AlertRecord:
    record = delivery_log.get_alert(client_id, message_id)
    if record is None:
        raise NotFound(f"There is no alert '{message_id}'.", field="message_id")
    return record
