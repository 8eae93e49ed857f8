"""Queue messages a consumer gave up on, parked in the delivery log: alerts until an operator redrives them, and
for the record the timers, receipts and SMS replies that dead-lettered.

  pk = "dead-letters", sk = "<sqs message id>"   the message body as it was queued, its source queue (`alerts`,
                                                 `timers`, `receipts`, `replies`), the alert it names (if any) and
                                                 when it was parked; it expires with the log

The dead-letters function parks each message as it drains the alert, receipt and reply dead-letter queues and
ends a dead-lettered alert `failed` (`clarion.handlers.dead_letters`); the timer dead-letters function moves on or
ends the walk of each dead-lettered timer (`clarion.usecases.rescue_walk`). `python -m tools.redrive` reopens
each parked alert and queues its body again.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from clarion.adapters import delivery_log
from clarion.adapters.delivery_log import ALERT_SK, reach_key
from clarion.domain.escalation import Reach
from clarion.domain.models import Alert, AlertStatus

PARTITION = "dead-letters"
REASON = "dead_lettered"  # the alert item's failure_reason while its message is parked


ALERTS = "alerts"  # the source of a parked alert-queue message: the only ones redriven


def park(sqs_message_id: str, body: str, at: str, alert: Alert | None, source: str = ALERTS) -> None:
    """Keep `body` (from the `source` queue's dead letters) for a redrive. Parking the same message twice keeps
    one copy."""
    item: dict[str, Any] = {
        "pk": PARTITION,
        "sk": sqs_message_id,
        "sqs_message_id": sqs_message_id,
        "source": source,
        "body": body,
        "parked_at": at,
        "expires_at": delivery_log.expires_at(),
    }
    if alert is not None:
        item.update(client_id=alert.client_id, message_id=alert.message_id, stage=alert.stage)
    try:
        delivery_log.table().put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def parked() -> list[dict[str, Any]]:
    """Every parked message, oldest first."""
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(PARTITION)}
    while True:
        page = delivery_log.table().query(**request)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: str(i["parked_at"]))
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def unpark(item: dict[str, Any]) -> None:
    delivery_log.table().delete_item(Key={"pk": item["pk"], "sk": item["sk"]})


def reopen(alert: Alert, at: str) -> bool:
    """Undo what dead-lettering did, so the router takes the delivery up again from its log: an alert that needs no
    acknowledgement goes back from `failed` (dead-lettered) to `accepted`; for one that does, the recipient's
    reach goes back to pending while the walk is still at that stage. False when there is nothing to reopen (it was
    reopened before, or the walk moved on or ended): then nothing must be queued."""
    key = {"pk": alert.key, "sk": ALERT_SK}
    if not alert.ack_required:
        return delivery_log.update_if(
            Key=key,
            UpdateExpression="SET #s = :accepted, updated_at = :at REMOVE failure_reason",
            ConditionExpression="#s = :failed AND failure_reason = :reason",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":accepted": AlertStatus.ACCEPTED.value,
                ":failed": AlertStatus.FAILED.value,
                ":reason": REASON,
                ":at": at,
            },
        )
    return delivery_log.update_if(
        Key=key,
        UpdateExpression="SET reach.#k = :pending, updated_at = :at",
        ConditionExpression="#s = :accepted AND stage = :stage AND reach.#k = :failed AND attribute_not_exists(ack)",
        ExpressionAttributeNames={"#s": "status", "#k": reach_key(alert.stage, alert.recipient)},
        ExpressionAttributeValues={
            ":accepted": AlertStatus.ACCEPTED.value,
            ":stage": alert.stage,
            ":failed": Reach.FAILED.value,
            ":pending": Reach.PENDING.value,
            ":at": at,
        },
    )
