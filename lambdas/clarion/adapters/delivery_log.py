"""The delivery log table: one alert item and one item per provider attempt.

Layout (key names are fixed by the stack):
  pk = "<client_id>#<message_id>"
  sk = "ALERT"                      the alert: status, priority, plan, accepted_at, and for an alert that needs an
                                    acknowledgement its walk (see `clarion.adapters.escalations`)
  sk = "ATTEMPT#00#C-1#0001"        one provider attempt: stage, recipient, attempt number (1-based per recipient
                                    and stage), channel, outcome, at, provider id, error
  pk = "link#<handle>", sk = "LINK" an acknowledgement link: which alert and recipient (`clarion.adapters.links`)
  pk = "call#<handle>", sk = "WORDS" what a call says, by the call's only attribute (`clarion.adapters.call_words`)
  pk = "provider#<channel>#<id>",   a sent attempt whose receipt is awaited, by the provider's message id: which
  sk = "PROVIDER"                   attempt it is and the delivery to resume when the receipt settles it
Every item expires `retention_days` after it is written (TTL attribute `expires_at`), but a link with the link and a
call's words an hour after the call was started.

Storage only: the alert as read (`AlertRecord`) and its status rule are `clarion.domain.alert_record`'s.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from clarion.domain.alert_record import AlertRecord, status_of
from clarion.domain.escalation import Reach, Stage
from clarion.domain.models import Alert, AlertStatus, Attempt, Channel, Outcome
from clarion.names import ENV_DELIVERY_TABLE
from clarion.shared import clients, clock
from clarion.shared.aws_errors import condition_failed, item_that_stood
from clarion.shared.settings import required, settings

ALERT_SK = "ALERT"
ATTEMPT_PREFIX = "ATTEMPT#"
PROVIDER_SK = "PROVIDER"


def table() -> Any:
    """The delivery log table (the walk, links and notices write their own items in it)."""
    return clients.dynamodb_table(required(settings().delivery_table, ENV_DELIVERY_TABLE))


def expires_at() -> int:
    """The TTL of an item written now: the log's retention from now."""
    return int(clock.time()) + settings().delivery_retention_days * 86400


def alert_key(client_id: str, message_id: str) -> str:
    return f"{client_id}#{message_id}"


def create_alert(alert: Alert, walk: dict[str, Any] | None = None) -> None:
    """Write the alert as `accepted` (with its escalation `walk`, for one that needs an acknowledgement).
    A second write of the same alert changes nothing."""
    item = {
        "pk": alert.key,
        "sk": ALERT_SK,
        "client_id": alert.client_id,
        "message_id": alert.message_id,
        "type": alert.type,
        "contact_id": alert.contact_id,
        "priority": alert.priority.value,
        "plan": [c.value for c in alert.plan],
        "status": AlertStatus.ACCEPTED.value,
        "accepted_at": alert.accepted_at,
        "updated_at": alert.accepted_at,
        "at": alert.accepted_at,
        "seq": 0,  # the alert's order: acceptance is event 0 (`clarion.adapters.commits`)
        "seq_at": alert.accepted_at,
        "expires_at": expires_at(),
        **(walk or {}),
    }
    try:
        table().put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def set_final_status(alert: Alert, status: AlertStatus, at: str, reason: str | None = None) -> bool:
    """Move an alert that needs no acknowledgement to `status` (delivered or failed, with the `reason`'s code when
    Clarion itself gave up). False when it had already ended."""
    values = {
        ":s": status.value,
        ":at": at,
        ":delivered": AlertStatus.DELIVERED.value,
        ":failed": AlertStatus.FAILED.value,
    }
    if reason is not None:
        values[":reason"] = reason
    try:
        table().update_item(
            Key={"pk": alert.key, "sk": ALERT_SK},
            UpdateExpression="SET #s = :s, updated_at = :at" + (", failure_reason = :reason" if reason else ""),
            ConditionExpression="attribute_exists(pk) AND NOT #s IN (:delivered, :failed)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=values,
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def update_if(**request: Any) -> bool:
    """One conditional UpdateItem on the table: False when its condition did not hold."""
    try:
        table().update_item(**request)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def attempt_sk(stage: int, recipient: str, attempt: int) -> str:
    return f"{ATTEMPT_PREFIX}{stage:02d}#{recipient}#{attempt:04d}"


def _attempt_item(alert: Alert, attempt: Attempt) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": alert.key,
        "sk": attempt_sk(alert.stage, alert.recipient, attempt.attempt),
        "contact_id": alert.recipient,
        "stage": alert.stage,
        "channel": attempt.channel.value,
        "attempt": attempt.attempt,
        "outcome": attempt.outcome.value,
        "at": attempt.at,
        "expires_at": expires_at(),
    }
    if attempt.seq is not None:
        item["seq"] = attempt.seq
    if attempt.provider_message_id:
        item["provider_message_id"] = attempt.provider_message_id
    if attempt.error:
        item["error"] = attempt.error
    return item


def provider_key(channel: Channel, provider_id: str) -> str:
    return f"provider#{channel.value}#{provider_id}"


def record_attempt(alert: Alert, attempt: Attempt, awaits_receipt: bool = False) -> None:
    """Write (or overwrite) the item for attempt `attempt.attempt` to `alert.recipient` at `alert.stage`.

    A `sent` attempt whose receipt is awaited is preceded by its provider-id item, so a receipt can find the
    attempt (and the delivery to resume) by the provider's message id; written first, so no attempt waits for a
    receipt nothing can find (a crash between the two leaves an item naming an attempt that is still `pending`,
    which a receipt cannot settle)."""
    item = _attempt_item(alert, attempt)
    if awaits_receipt and attempt.outcome is Outcome.SENT and attempt.provider_message_id:
        table().put_item(
            Item={
                "pk": provider_key(attempt.channel, attempt.provider_message_id),
                "sk": PROVIDER_SK,
                "alert_pk": item["pk"],
                "attempt_sk": item["sk"],
                "channel": attempt.channel.value,
                "sent_at": attempt.at,
                "delivery": json.dumps(alert.to_message()),
                "expires_at": item["expires_at"],
            }
        )
    table().put_item(Item=item)


@dataclass(frozen=True)
class SentAttempt:
    """What a receipt needs: the attempt it settles and the delivery (one recipient at one stage) to resume."""

    alert_pk: str
    attempt_sk: str
    channel: Channel
    sent_at: str
    delivery: Alert


def find_sent(channel: Channel, provider_id: str) -> SentAttempt | None:
    """The attempt the provider's message `provider_id` on `channel` belongs to; None when Clarion sent none."""
    item = table().get_item(Key={"pk": provider_key(channel, provider_id), "sk": PROVIDER_SK}, ConsistentRead=True)
    found = item.get("Item")
    if not found:
        return None
    return SentAttempt(
        alert_pk=found["alert_pk"],
        attempt_sk=found["attempt_sk"],
        channel=Channel(found["channel"]),
        sent_at=found["sent_at"],
        delivery=Alert.from_message(json.loads(found["delivery"])),
    )


def settle_attempt(sent: SentAttempt, outcome: Outcome, receipt: str, at: str) -> Outcome | None:
    """Record a receipt's verdict on a `sent` attempt; None when it did, else the attempt's outcome as it stands:
    settled already (a duplicate, a late or a contradicting receipt: the first verdict stands), or still `pending`
    (the receipt overtook the write of the attempt's `sent`)."""
    try:
        table().update_item(
            Key={"pk": sent.alert_pk, "sk": sent.attempt_sk},
            UpdateExpression="SET outcome = :o, receipt = :r, receipt_at = :at",
            ConditionExpression="outcome = :sent",
            ExpressionAttributeValues={":o": outcome.value, ":r": receipt, ":at": at, ":sent": Outcome.SENT.value},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if condition_failed(error):
            stood = (item_that_stood(error) or {}).get("outcome")
            return Outcome(stood) if stood else Outcome.PENDING
        raise
    return None


def _attempt_from_item(item: dict[str, Any]) -> Attempt:
    return Attempt(
        channel=Channel(item["channel"]),
        attempt=int(item["attempt"]),
        outcome=Outcome(item["outcome"]),
        at=item["at"],
        provider_message_id=item.get("provider_message_id"),
        error=item.get("error"),
        contact_id=item.get("contact_id"),
        stage=int(item.get("stage", 0)),
        receipt=item.get("receipt"),
        receipt_at=item.get("receipt_at"),
        seq=int(item["seq"]) if item.get("seq") is not None else None,
    )


def _query_all(key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(key), "ConsistentRead": True}
    while True:
        page = table().query(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _attempts(items: list[dict[str, Any]]) -> list[Attempt]:
    attempts = (_attempt_from_item(i) for i in items if i["sk"].startswith(ATTEMPT_PREFIX))
    # In commit order (`seq`), after those recorded before sequence numbers existed (by stage and time, as then)
    return sorted(attempts, key=lambda a: (a.seq is not None, a.seq or 0, a.stage, a.at, a.contact_id or "", a.attempt))


def _reach(item: dict[str, Any]) -> dict[tuple[int, str], Reach]:
    out = {}
    for key, value in (item.get("reach") or {}).items():
        stage, _, contact = key.partition("#")
        out[(int(stage), contact)] = Reach(value)
    return out


def _path(item: dict[str, Any]) -> tuple[Stage, ...]:
    return tuple(Stage(tuple(s["c"]), int(s["w"])) for s in item.get("path") or [])


def reach_key(stage: int, contact_id: str) -> str:
    return f"{stage}#{contact_id}"


def path_item(path: tuple[Stage, ...]) -> list[dict[str, Any]]:
    return [{"c": list(s.contact_ids), "w": s.ack_within_s} for s in path]


def record_from_items(items: list[dict[str, Any]]) -> AlertRecord | None:
    head = next((i for i in items if i["sk"] == ALERT_SK), None)
    if head is None:
        return None
    attempts = _attempts(items)
    reach = _reach(head)
    target = head.get("target_s")
    return AlertRecord(
        client_id=head["client_id"],
        message_id=head["message_id"],
        type=head["type"],
        contact_id=head["contact_id"],
        priority=head["priority"],
        plan=list(head.get("plan", [])),
        status=status_of(AlertStatus(head["status"]), attempts, reach),
        accepted_at=head["accepted_at"],
        updated_at=head["updated_at"],
        attempts=attempts,
        ack_required=bool(head.get("ack_required", False)),
        path=_path(head),
        stage=int(head.get("stage", 0)),
        stage_started_at=head.get("stage_started_at", head["accepted_at"]),
        stage_ends=head.get("stage_ends"),
        seq=int(head["seq"]) if head.get("seq") is not None else None,
        seq_at=head.get("seq_at"),
        reached={
            Channel.SMS: frozenset(head.get("reached_sms") or ()),
            Channel.EMAIL: frozenset(head.get("reached_email") or ()),
        },
        stages=[dict(s) for s in head.get("stages") or []],
        reach=reach,
        declines={k: dict(v) for k, v in (head.get("declines") or {}).items()},
        ack=dict(head["ack"]) if head.get("ack") else None,
        target_s=int(target) if target is not None else None,
        first_delivered_at=head.get("first_delivered_at"),
        escalation_policy_id=head.get("escalation_policy_id"),
        description=head.get("description", ""),
        ended_at=head.get("ended_at"),
        failure_reason=head.get("failure_reason"),
    )


def get_alert(client_id: str, message_id: str) -> AlertRecord | None:
    """The alert and all its attempts, or None when this client has no such alert."""
    return record_from_items(_query_all(alert_key(client_id, message_id)))
