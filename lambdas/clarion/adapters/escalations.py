"""An alert's walk in the delivery log: its path, the stages started, each recipient's reach, declines and the
acknowledgement. All on the alert's own item (`sk = "ALERT"`), so each change is one conditional write and two
racing changes (an acknowledgement and a stage's timer) have exactly one outcome; each event takes the alert's
next sequence number and its time in that write (`clarion.adapters.commits`).

Walk attributes: ack_required, path [{c: [contact ids], w: window s}], stage, stage_started_at, stage_ends (when
the current stage's window ends, as planned), stages [{stage, contact_ids, started_at, seq}], notified (string
set), reach {"<stage>#<contact>": pending|delivered|failed}, declines {contact: {at, via, reason?, seq}},
ack {contact_id, at, via, after_end?, seq}, ended_seq, reached_sms and reached_email (who a send was fenced for,
by channel: the "taken by" notice's recipients), seq and seq_at (the last event), target_s,
escalation_policy_id, first_delivered_at, and the description as it may go out (identifiers masked), which the
later stages' messages and the link page are built from.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from clarion.adapters import commits, delivery_log
from clarion.adapters.commits import Change, Committed, Head
from clarion.adapters.delivery_log import ALERT_SK, alert_key, path_item, reach_key
from clarion.domain.escalation import Reach, Stage
from clarion.domain.models import Alert, AlertStatus, Channel

_ACCEPTED = AlertStatus.ACCEPTED.value


def walk_item(
    path: tuple[Stage, ...],
    target_s: int,
    policy_id: str | None,
    accepted_at: str,
    description: str,
    stage_ends: str,
) -> dict[str, Any]:
    """The walk's attributes as intake writes them: stage 0 (the addressee) started at acceptance, its window
    ending at `stage_ends`. The description (as it may go out: identifiers masked) is kept for the later stages'
    messages and the link page."""
    addressee = path[0].contact_ids[0]
    item: dict[str, Any] = {
        "ack_required": True,
        "description": description,
        "path": path_item(path),
        "stage": 0,
        "stage_started_at": accepted_at,
        "stage_ends": stage_ends,
        "stages": [{"stage": 0, "contact_ids": [addressee], "started_at": accepted_at, "seq": 0}],
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


def _decided(change: Change) -> Change:
    """`change`, allowed only while the walk runs: not ended, not acknowledged."""
    return replace(
        change,
        condition=f"({change.condition}) AND #s = :accepted AND attribute_not_exists(ack)",
        names={**change.names, "#s": "status"},
        values={**change.values, ":accepted": _ACCEPTED},
    )


def start_stage(
    client_id: str,
    message_id: str,
    current: int,
    stage: int,
    contact_ids: tuple[str, ...],
    ends: str,
    seen: Head | None = None,
    strict: bool = False,
) -> Committed | None:
    """Move the walk from stage `current` to `stage`, notifying `contact_ids`, its window ending at `ends`. None
    when it had moved on, ended or been acknowledged meanwhile: a stage is started once, and never after an
    acknowledgement. `strict`: `commits.Stale` when anything committed on the alert since `seen`."""

    def change(seq: int, at: str) -> Change:
        reach = [f"reach.#k{i} = :pending" for i in range(len(contact_ids))]
        return _decided(
            Change(
                sets=[
                    "stage = :n",
                    "stage_started_at = :at",
                    "stage_ends = :ends",
                    "updated_at = :at",
                    "stages = list_append(stages, :entry)",
                    *reach,
                ],
                adds=["notified :who"],
                condition="stage = :cur",
                names={f"#k{i}": reach_key(stage, c) for i, c in enumerate(contact_ids)},
                values={
                    ":cur": current,
                    ":n": stage,
                    ":at": at,
                    ":ends": ends,
                    ":entry": [{"stage": stage, "contact_ids": list(contact_ids), "started_at": at, "seq": seq}],
                    ":who": set(contact_ids),
                    ":pending": Reach.PENDING.value,
                },
            )
        )

    return commits.commit(client_id, message_id, change, seen, strict)


def end_walk(
    client_id: str, message_id: str, stage: int, status: AlertStatus, seen: Head | None = None, strict: bool = False
) -> Committed | None:
    """End the walk at `stage` as `status` (unacknowledged or failed). None when something else ended it.
    `strict`: `commits.Stale` when anything committed on the alert since `seen`."""

    def change(seq: int, at: str) -> Change:
        return _decided(
            Change(
                sets=["#s = :s", "updated_at = :at", "ended_at = :at", "ended_seq = :seq"],
                condition="stage = :stage",
                values={":s": status.value, ":at": at, ":stage": stage, ":seq": seq},
            )
        )

    return commits.commit(client_id, message_id, change, seen, strict)


def acknowledge(client_id: str, message_id: str, contact_id: str, via: str) -> Committed | None:
    """Record the first acknowledgement while the walk runs: the alert becomes `acknowledged`. None when the
    condition did not hold (the caller reads the alert to tell why)."""

    def change(seq: int, at: str) -> Change:
        return _decided(
            Change(
                sets=["ack = :ack", "#s = :acked", "updated_at = :at", "ended_at = :at", "ended_seq = :seq"],
                condition="ack_required = :yes AND contains(notified, :c)",
                values={
                    ":ack": {"contact_id": contact_id, "at": at, "via": via, "seq": seq},
                    ":acked": AlertStatus.ACKNOWLEDGED.value,
                    ":at": at,
                    ":seq": seq,
                    ":yes": True,
                    ":c": contact_id,
                },
            )
        )

    return commits.commit(client_id, message_id, change)


def acknowledge_after_end(client_id: str, message_id: str, contact_id: str, via: str) -> Committed | None:
    """Record an acknowledgement that came after the walk ended (for the audit); the status stays."""

    def change(seq: int, at: str) -> Change:
        return Change(
            sets=["ack = :ack", "updated_at = :at"],
            condition="contains(notified, :c) AND attribute_not_exists(ack)",
            values={
                ":ack": {"contact_id": contact_id, "at": at, "via": via, "after_end": True, "seq": seq},
                ":at": at,
                ":c": contact_id,
            },
        )

    return commits.commit(client_id, message_id, change)


def decline(client_id: str, message_id: str, contact_id: str, via: str, reason: str | None) -> Committed | None:
    """Record that `contact_id` declined while the walk runs; None when the condition did not hold (declined
    already, acknowledged, ended, not a recipient)."""

    def change(seq: int, at: str) -> Change:
        entry: dict[str, Any] = {"at": at, "via": via, "seq": seq}
        if reason:
            entry["reason"] = reason
        return _decided(
            Change(
                sets=["declines.#c = :d", "updated_at = :at"],
                condition="ack_required = :yes AND contains(notified, :c) AND attribute_not_exists(declines.#c)",
                names={"#c": contact_id},
                values={":d": entry, ":at": at, ":yes": True, ":c": contact_id},
            )
        )

    return commits.commit(client_id, message_id, change)


def fence(alert: Alert, channel: Channel, seen: Head | None = None) -> Committed | None:
    """The fence before a provider request: the decision to send `channel` to `alert.recipient` is an event on
    the alert, committed only while the send is still wanted (the alert not ended; for one that needs an
    acknowledgement, not acknowledged and not declined by this recipient). None: nothing may be sent.

    An acknowledgement that commits first stops every send fenced after it; a send fenced first is ordered before
    the acknowledgement, and its recipient is on the alert's `reached_sms` or `reached_email` set, which is whom
    the "taken by" notice goes to."""

    def change(seq: int, at: str) -> Change:
        wanted = "#s = :accepted"
        names = {"#s": "status"}
        adds = []
        values: dict[str, Any] = {":accepted": _ACCEPTED, ":at": at}
        if alert.ack_required:
            wanted += " AND attribute_not_exists(ack) AND attribute_not_exists(declines.#c)"
            names["#c"] = alert.recipient
            if channel in (Channel.SMS, Channel.EMAIL):
                adds.append(f"reached_{channel.value} :who")
                values[":who"] = {alert.recipient}
        return Change(sets=["updated_at = :at"], condition=wanted, names=names, values=values, adds=adds)

    return commits.commit(alert.client_id, alert.message_id, change, seen)


def mark_taken_notified(client_id: str, message_id: str, contact_id: str) -> bool:
    """Record that `contact_id` is told the alert was taken; False when it was already (never told twice)."""
    return _update_if(
        Key=_key(client_id, message_id),
        UpdateExpression="ADD taken_notified :c",
        ConditionExpression="attribute_exists(pk) AND NOT contains(taken_notified, :who)",
        ExpressionAttributeValues={":c": {contact_id}, ":who": contact_id},
    )
