"""Reply codes: the short code each SMS of an alert carries ("Reply 4821 to acknowledge"), per phone number.

One item per number in the delivery log table (pk = "sms#<E.164 number>", sk = "CODES") maps each code to the
alert (`client#message`) and the contact it was sent to. A code is unique among the entries of its number; a
second SMS of the same alert to the same contact reuses its code; entries older than the longest an alert stays
answerable are dropped when a new code is given. Each write is conditional, so two deliveries to one number at once
cannot take the same code.
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
