"""Commit order on an alert: every event of an alert (an attempt fenced, a stage started, a decline, the
acknowledgement, the walk's end) is one conditional write on the alert's item that also takes the alert's next
sequence number (`seq`) and its time.

Why: a time stamped before a write can lose a race to another write stamped later, so two records could say
"stage 2 started at :05" and "acknowledged at :04" though the stage committed first. Here each write is
conditioned on the sequence number it read (`seq = :n`, optimistic), so writes on one alert commit one at a time
in `seq` order; and each takes the time `max(now, the last event's time)` (`seq_at`), so times never go backwards
along `seq`, whatever the clocks of the functions that wrote them.

A write whose condition fails is told the item as it stood (`ReturnValuesOnConditionCheckFailure`): when only the
sequence number had moved on it is tried again with the new one (at most `MAX_TRIES` times, so a hot alert costs a
few more writes and waits of up to 10 ms, never a lost event); when its own condition failed it is refused
(`None`). Items written before sequence numbers existed have no `seq`; their first event takes 1.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from clarion.adapters import delivery_log
from clarion.shared import clock
from clarion.shared.aws_errors import condition_failed, item_that_stood

MAX_TRIES = 32  # writers to one alert are few (a stage's contacts, its timers, answers); each retry is one write

BACKOFF_S = 0.01
backoff: Callable[[float], None] = time.sleep  # replaceable in tests


@dataclass(frozen=True)
class Head:
    """Where an alert's order stands: its last sequence number and that event's time (None: no event yet)."""

    seq: int | None = None
    at: str | None = None


@dataclass(frozen=True)
class Committed:
    """An event on record: its place in the alert's order and its time."""

    seq: int
    at: str


@dataclass(frozen=True)
class Change:
    """One event's write on the alert item, given its `seq` and `at` (`sets` and `adds` are UpdateExpression
    clauses; `condition` is what must hold besides the order)."""

    sets: list[str]
    condition: str
    values: dict[str, Any]
    names: dict[str, str] = field(default_factory=dict)
    adds: list[str] = field(default_factory=list)


class Stale(Exception):
    """A strict write found that something committed on the alert since the caller read it."""


def head(client_id: str, message_id: str) -> Head:
    """The alert's order as it stands now (a strongly consistent read of two attributes)."""
    item = (
        delivery_log.table()
        .get_item(
            Key=_key(client_id, message_id),
            ConsistentRead=True,
            ProjectionExpression="seq, seq_at",
        )
        .get("Item")
    )
    return _head_of(item or {})


def commit(
    client_id: str,
    message_id: str,
    change: Callable[[int, str], Change],
    seen: Head | None = None,
    strict: bool = False,
) -> Committed | None:
    """Write `change(seq, at)` on the alert as its next event; None when the change's own condition failed.
    `seen` is the order as the caller last read it (read here when not given; a stale one costs a retry). With
    `strict`, a change decided from what the caller read: `Stale` when anything committed since `seen`."""
    current = seen if seen is not None else head(client_id, message_id)
    for _ in range(MAX_TRIES):
        seq = (current.seq or 0) + 1
        moment = clock.time()
        if current.at:
            moment = max(moment, clock.epoch(current.at))
        at = clock.stamp(moment)
        written = change(seq, at)
        order = "attribute_not_exists(seq)" if current.seq is None else "seq = :seq_seen"
        values = {**written.values, ":seq_next": seq, ":seq_at": at}
        if current.seq is not None:
            values[":seq_seen"] = current.seq
        request: dict[str, Any] = {
            "Key": _key(client_id, message_id),
            "UpdateExpression": "SET "
            + ", ".join([*written.sets, "seq = :seq_next", "seq_at = :seq_at"])
            + (" ADD " + ", ".join(written.adds) if written.adds else ""),
            "ConditionExpression": f"({written.condition}) AND {order}",
            "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if written.names:
            request["ExpressionAttributeNames"] = written.names
        try:
            delivery_log.table().update_item(**request)
        except ClientError as error:
            if not condition_failed(error):
                raise
            stood = item_that_stood(error)
            if not stood:
                return None  # no such alert
            now_at = _head_of(stood)
            if now_at.seq == current.seq:
                return None  # the order had not moved: the change's own condition failed
            if strict:
                raise Stale(f"the alert moved from event {current.seq} to {now_at.seq} since it was read") from None
            current = now_at
            # spread writers that collided, so one of them wins the next (a spread, not a secret)
            backoff(random.uniform(0, BACKOFF_S))  # noqa: S311
            continue
        return Committed(seq, at)
    raise RuntimeError(f"the alert's order moved on {MAX_TRIES} times in a row; the event is tried again")


def _key(client_id: str, message_id: str) -> dict[str, str]:
    return {"pk": delivery_log.alert_key(client_id, message_id), "sk": delivery_log.ALERT_SK}


def _head_of(item: dict[str, Any]) -> Head:
    seq, at = item.get("seq"), item.get("seq_at")
    return Head(int(seq) if seq is not None else None, str(at) if at is not None else None)
