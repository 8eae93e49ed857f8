"""An alert's walk in the delivery log: its path, the stages started, each recipient's reach, declines and the
acknowledgement. All on the alert's own item (`sk = "ALERT"`), so each change is one conditional write and two
racing changes (an acknowledgement and a stage's timer) have exactly one outcome.

Walk attributes: ack_required, path [{c: [contact ids], w: window s}], stage, stage_started_at,
stages [{stage, contact_ids, started_at}], notified (string set), reach {"<stage>#<contact>": pending|delivered|
failed}, declines {contact: {at, via, reason?}}, ack {contact_id, at, via, after_end?}, target_s,
escalation_policy_id, first_delivered_at, and the description as it may go out (identifiers masked), which the
later stages' messages and the link page are built from.
"""

from __future__ import annotations

from typing import Any

from clarion.adapters import delivery_log
from clarion.adapters.delivery_log import ALERT_SK, AlertRecord, alert_key, path_item, reach_key
from clarion.domain.escalation import Reach, Stage
from clarion.domain.models import Alert, AlertStatus

_ACCEPTED = AlertStatus.ACCEPTED.value


def walk_item(
    path: tuple[Stage, ...], target_s: int, policy_id: str | None, accepted_at: str, description: str
) -> dict[str, Any]:
    """The walk's attributes as intake writes them: stage 0 (the addressee) started at acceptance. The
    description (as it may go out: identifiers masked) is kept for the later stages' messages and the link page."""
    addressee = path[0].contact_ids[0]
    item: dict[str, Any] = {
        "ack_required": True,
        "description": description,
        "path": path_item(path),
        "stage": 0,
        "stage_started_at": accepted_at,
        "stages": [{"stage": 0, "contact_ids": [addressee], "started_at": accepted_at}],
        "notified": {addressee},
        "reach": {reach_key(0, addressee): Reach.PENDING.value},
        "declines": {},
        "target_s": target_s,
    }
    if policy_id:
        item["escalation_policy_id"] = policy_id
    return item


_update_if = delivery_log.update_if


def _key(client_id: str, message_id: str) -> dict[str, str]:
    return {"pk": alert_key(client_id, message_id), "sk": ALERT_SK}


def record_reach(alert: Alert, reach: Reach, at: str) -> bool:
    """How far the delivery to `alert.recipient` at `alert.stage` came. True when this is the alert's first
    delivery to anyone (told by the write itself, so two recipients reached at once cannot both be first)."""
    expression = "SET reach.#k = :r, updated_at = :at"
    if reach is Reach.DELIVERED:
        expression += ", first_delivered_at = if_not_exists(first_delivered_at, :at)"
    before = delivery_log.table().update_item(
        Key=_key(alert.client_id, alert.message_id),
        UpdateExpression=expression,
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames={"#k": reach_key(alert.stage, alert.recipient)},
        ExpressionAttributeValues={":r": reach.value, ":at": at},
        ReturnValues="ALL_OLD",
    )
    return reach is Reach.DELIVERED and "first_delivered_at" not in before.get("Attributes", {})


def start_stage(
    client_id: str, message_id: str, current: int, stage: int, contact_ids: tuple[str, ...], at: str
) -> bool:
    """Move the walk from stage `current` to `stage`, notifying `contact_ids`. False when it had moved on, ended
    or been acknowledged meanwhile: a stage is started once, and never after an acknowledgement."""
    names = {"#s": "status", **{f"#k{i}": reach_key(stage, c) for i, c in enumerate(contact_ids)}}
    values: dict[str, Any] = {
        ":cur": current,
        ":n": stage,
        ":at": at,
        ":accepted": _ACCEPTED,
        ":entry": [{"stage": stage, "contact_ids": list(contact_ids), "started_at": at}],
        ":who": set(contact_ids),
        ":pending": Reach.PENDING.value,
    }
    reach = ", ".join(f"reach.#k{i} = :pending" for i in range(len(contact_ids)))
    return _update_if(
        Key=_key(client_id, message_id),
        UpdateExpression=f"SET stage = :n, stage_started_at = :at, updated_at = :at, "
        f"stages = list_append(stages, :entry), {reach} ADD notified :who",
        ConditionExpression="stage = :cur AND #s = :accepted AND attribute_not_exists(ack)",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def end_walk(client_id: str, message_id: str, stage: int, status: AlertStatus, at: str) -> bool:
    """End the walk at `stage` as `status` (unacknowledged or failed). False when something else ended it."""
    return _update_if(
        Key=_key(client_id, message_id),
        UpdateExpression="SET #s = :s, updated_at = :at, ended_at = :at",
        ConditionExpression="stage = :stage AND #s = :accepted AND attribute_not_exists(ack)",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": status.value, ":at": at, ":stage": stage, ":accepted": _ACCEPTED},
    )


def acknowledge(client_id: str, message_id: str, contact_id: str, at: str, via: str) -> bool:
    """Record the first acknowledgement while the walk runs: the alert becomes `acknowledged`. False when the
    condition did not hold (the caller reads the alert to tell why)."""
    return _update_if(
        Key=_key(client_id, message_id),
        UpdateExpression="SET ack = :ack, #s = :acked, updated_at = :at, ended_at = :at",
        ConditionExpression="ack_required = :yes AND contains(notified, :c) AND attribute_not_exists(ack) "
        "AND #s = :accepted",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":ack": {"contact_id": contact_id, "at": at, "via": via},
            ":acked": AlertStatus.ACKNOWLEDGED.value,
            ":at": at,
            ":yes": True,
            ":c": contact_id,
            ":accepted": _ACCEPTED,
        },
    )


def acknowledge_after_end(client_id: str, message_id: str, contact_id: str, at: str, via: str) -> bool:
    """Record an acknowledgement that came after the walk ended (for the audit); the status stays."""
    return _update_if(
        Key=_key(client_id, message_id),
        UpdateExpression="SET ack = :ack, updated_at = :at",
        ConditionExpression="contains(notified, :c) AND attribute_not_exists(ack)",
        ExpressionAttributeValues={
            ":ack": {"contact_id": contact_id, "at": at, "via": via, "after_end": True},
            ":at": at,
            ":c": contact_id,
        },
    )


def decline(
    client_id: str, message_id: str, contact_id: str, at: str, via: str, reason: str | None
) -> AlertRecord | None:
    """Record that `contact_id` declined while the walk runs; the alert as it now stands, or None when the
    condition did not hold (declined already, acknowledged, ended, not a recipient)."""
    entry: dict[str, Any] = {"at": at, "via": via}
    if reason:
        entry["reason"] = reason
    if not _update_if(
        Key=_key(client_id, message_id),
        UpdateExpression="SET declines.#c = :d, updated_at = :at",
        ConditionExpression="ack_required = :yes AND contains(notified, :c) AND attribute_not_exists(ack) "
        "AND attribute_not_exists(declines.#c) AND #s = :accepted",
        ExpressionAttributeNames={"#s": "status", "#c": contact_id},
        ExpressionAttributeValues={":d": entry, ":at": at, ":yes": True, ":c": contact_id, ":accepted": _ACCEPTED},
    ):
        return None
    return delivery_log.get_alert(client_id, message_id)


def mark_taken_notified(client_id: str, message_id: str, contact_id: str) -> bool:
    """Record that `contact_id` is told the alert was taken; False when it was already (never told twice)."""
    return _update_if(
        Key=_key(client_id, message_id),
        UpdateExpression="ADD taken_notified :c",
        ConditionExpression="attribute_exists(pk) AND NOT contains(taken_notified, :who)",
        ExpressionAttributeValues={":c": {contact_id}, ":who": contact_id},
    )


def still_wanted(alert: Alert) -> bool:
    """Whether a send to `alert.recipient` is still wanted: not acknowledged, not declined by it, not ended."""
    item = (
        delivery_log.table()
        .get_item(
            Key=_key(alert.client_id, alert.message_id),
            ConsistentRead=True,
            ProjectionExpression="#s, ack, declines.#c",
            ExpressionAttributeNames={"#s": "status", "#c": alert.recipient},
        )
        .get("Item")
    )
    if item is None:
        return True
    return (
        item.get("status") == _ACCEPTED and not item.get("ack") and alert.recipient not in (item.get("declines") or {})
    )
