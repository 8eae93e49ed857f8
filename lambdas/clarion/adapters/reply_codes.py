"""Reply codes: the code each SMS of an alert carries ("Reply 482193 to acknowledge"), per phone number, and what
guards them: the replies a number sends, and the wrong codes that lock it.

One item per number in the delivery log table (pk = "sms#<E.164 number>", sk = "CODES") maps each code to the
alert (`client#message`) and the contact it was sent to. A code is unique among the entries of its number; a
second SMS of the same alert to the same contact reuses its code; entries older than the longest an alert stays
answerable are dropped when a new code is given. Each write is conditional, so two deliveries to one number at once
cannot take the same code.

Per number, under pk = "replies#<E.164 number>": sk = "W#<10-minute window>" counts its replies (the throttle), and
sk = "GUARD" holds the times of its recent wrong codes (`wrong`) and, once 5 came within 15 minutes, `locked_until`
(an hour on). Both expire by TTL (`expires_at`); a read compares the times too, as TTL deletes late. The lock is
set by one conditional write, so it is announced once however many replies race.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from botocore.exceptions import ClientError

from clarion.adapters import delivery_log
from clarion.domain import replies
from clarion.domain.models import Alert
from clarion.shared import clock

CODES_SK = "CODES"
KEEP_S = 14 * 86_400  # an alert is answerable this long at most (the longest walk, a late acknowledgement)
ATTEMPTS = 5
_rand = random.SystemRandom()


@dataclass(frozen=True)
class Entry:
    alert_key: str  # client_id#message_id
    contact_id: str
    at: float  # epoch seconds the code was given

    @property
    def client_id(self) -> str:
        return self.alert_key.split("#", 1)[0]

    @property
    def message_id(self) -> str:
        return self.alert_key.split("#", 1)[1]


def _key(number: str) -> dict[str, str]:
    return {"pk": f"sms#{number}", "sk": CODES_SK}


def entries(number: str) -> dict[str, Entry]:
    """Every code given to `number` and not yet dropped."""
    item = delivery_log.table().get_item(Key=_key(number), ConsistentRead=True).get("Item") or {}
    return {
        code: Entry(str(v["a"]), str(v["c"]), float(v["t"]))
        for code, v in (item.get("codes") or {}).items()
        if isinstance(v, dict)
    }


def code_for(alert: Alert, number: str, now: float | None = None) -> str:
    """The code of `alert` for its recipient at `number`: the one it already has, or a new one."""
    moment = clock.time() if now is None else now
    for _ in range(ATTEMPTS):
        known = entries(number)
        for code, entry in known.items():
            if entry.alert_key == alert.key and entry.contact_id == alert.recipient:
                return code
        stale = sorted(c for c, e in known.items() if moment - e.at > KEEP_S)
        code = replies.allocate_code({c for c in known if c not in stale}, _rand.randrange)
        if _claim(number, code, alert, moment, stale, exists=bool(known)):
            return code
    raise RuntimeError("could not give the SMS a reply code: too many concurrent writes for one number")


def _claim(number: str, code: str, alert: Alert, moment: float, stale: list[str], exists: bool) -> bool:
    entry = {"a": alert.key, "c": alert.recipient, "t": int(moment)}
    table = delivery_log.table()
    try:
        if not exists:
            table.put_item(
                Item={**_key(number), "codes": {code: entry}, "expires_at": int(moment) + KEEP_S},
                ConditionExpression="attribute_not_exists(pk)",
            )
            return True
        names: dict[str, str] = {"#new": code}
        names.update({f"#s{i}": c for i, c in enumerate(stale)})
        removes = ", ".join(f"codes.#s{i}" for i in range(len(stale)))
        table.update_item(
            Key=_key(number),
            UpdateExpression="SET codes.#new = :e, expires_at = :x" + (f" REMOVE {removes}" if removes else ""),
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(codes.#new)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":e": entry, ":x": int(moment) + KEEP_S},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False  # another delivery to this number took the code (or created the item) first: again
        raise
    return True


REPLY_WINDOW_S = 600


def count_reply(number: str, now: float) -> int:
    """Count a reply from `number` in its ten-minute window; how many the window now holds."""
    window = int(now // REPLY_WINDOW_S)
    answer = delivery_log.table().update_item(
        Key={"pk": f"replies#{number}", "sk": f"W#{window}"},
        UpdateExpression="ADD n :one SET expires_at = :x",
        ExpressionAttributeValues={":one": 1, ":x": (window + 2) * REPLY_WINDOW_S},
        ReturnValues="UPDATED_NEW",
    )
    return int(answer["Attributes"]["n"])


WRONG_CODES_TO_LOCK = 5
WRONG_CODE_WINDOW_S = 15 * 60
LOCK_S = 60 * 60
GUARD_SK = "GUARD"


def _guard(number: str) -> dict[str, str]:
    return {"pk": f"replies#{number}", "sk": GUARD_SK}


def locked_until(number: str, now: float) -> float | None:
    """When the lock on `number`'s replies ends; None when it is not locked at `now`."""
    item = delivery_log.table().get_item(Key=_guard(number), ConsistentRead=True).get("Item") or {}
    until = float(item.get("locked_until") or 0)
    return until if until > now else None


def count_wrong_code(number: str, now: float) -> bool:
    """Record a wrong code from `number` at `now`; True when it is the one that locks the number (only one reply
    of a race gets True). The lock clears the wrong codes that made it."""
    table = delivery_log.table()
    moment = int(now)
    unlocked = "attribute_not_exists(locked_until) OR locked_until <= :moment"
    try:
        answer = table.update_item(
            Key=_guard(number),
            UpdateExpression="SET wrong = list_append(if_not_exists(wrong, :none), :now), expires_at = :x",
            ConditionExpression=unlocked,  # locked meanwhile by another reply: counts for nothing more
            ExpressionAttributeValues={
                ":none": [],
                ":now": [moment],
                ":x": moment + WRONG_CODE_WINDOW_S,
                ":moment": moment,
            },
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    wrong = [float(t) for t in answer["Attributes"].get("wrong", [])]
    if not replies.locks(wrong, now, WRONG_CODES_TO_LOCK, WRONG_CODE_WINDOW_S):
        recent = [int(t) for t in wrong if now - t < WRONG_CODE_WINDOW_S]
        if len(recent) < len(wrong):
            _forget_old(number, recent, len(wrong))
        return False
    until = moment + LOCK_S
    try:
        table.update_item(
            Key=_guard(number),
            UpdateExpression="SET locked_until = :until, wrong = :none, expires_at = :until",
            ConditionExpression=unlocked,
            ExpressionAttributeValues={":until": until, ":none": [], ":moment": moment},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False  # another reply locked it first
        raise
    return True


def _forget_old(number: str, recent: list[int], size: int) -> None:
    """Keep only the `recent` wrong codes, unless another reply wrote meanwhile (the list is no longer `size` long)."""
    try:
        delivery_log.table().update_item(
            Key=_guard(number),
            UpdateExpression="SET wrong = :recent",
            ConditionExpression="size(wrong) = :size",
            ExpressionAttributeValues={":recent": recent, ":size": size},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
