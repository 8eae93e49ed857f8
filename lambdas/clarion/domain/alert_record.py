"""An alert as the delivery log holds it: what was asked, every attempt, and the escalation walk. The read model
every behaviour decides from and the API shows (`GET /alerts/{id}`); pure, no I/O.

Stored statuses are `accepted` and the ends (`delivered` or `failed` for an alert that needs no acknowledgement;
`acknowledged`, `unacknowledged` or `failed` for one that does). `delivering`, and `delivered` while an
acknowledgement is awaited, are not stored: `status_of` derives them from the attempts and the walk's reach.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from clarion.domain.escalation import Reach, Stage
from clarion.domain.models import ENDED, AlertStatus, Attempt, Channel


def status_of(stored: AlertStatus, attempts: Sequence[Attempt], reach: Mapping[tuple[int, str], Reach]) -> AlertStatus:
    """The status an alert shows: the stored one, except that an accepted alert is `delivered` once a recipient
    was reached, else `delivering` once an attempt was made."""
    if stored is not AlertStatus.ACCEPTED:
        return stored
    if any(r is Reach.DELIVERED for r in reach.values()):
        return AlertStatus.DELIVERED
    return AlertStatus.DELIVERING if attempts else stored


@dataclass(frozen=True)
class AlertRecord:
    client_id: str
    message_id: str
    type: str
    contact_id: str
    priority: str
    plan: list[str]
    status: AlertStatus  # as shown (`status_of`)
    accepted_at: str
    updated_at: str
    attempts: list[Attempt]
    ack_required: bool = False
    path: tuple[Stage, ...] = ()
    stage: int = 0
    stage_started_at: str = ""
    stage_ends: str | None = None  # when the current stage's window ends, as planned (None: written before)
    stages: list[dict[str, Any]] = field(default_factory=list)
    reach: dict[tuple[int, str], Reach] = field(default_factory=dict)
    declines: dict[str, dict[str, Any]] = field(default_factory=dict)
    ack: dict[str, Any] | None = None
    target_s: int | None = None
    first_delivered_at: str | None = None
    escalation_policy_id: str | None = None
    description: str = ""
    ended_at: str | None = None
    failure_reason: str | None = None
    seq: int | None = None  # the last event's place in the alert's commit order (None: written before)
    seq_at: str | None = None  # and its time
    reached: Mapping[Channel, frozenset[str]] = field(default_factory=dict)  # who a send was fenced for, by channel

    @property
    def ended(self) -> bool:
        return self.status in ENDED or (not self.ack_required and self.status is AlertStatus.DELIVERED)

    @property
    def open(self) -> bool:
        """Still waiting for an acknowledgement: not acknowledged, not ended."""
        return self.status not in ENDED and self.ack is None

    def notified(self) -> frozenset[str]:
        """Everyone a stage of the walk has notified so far."""
        return frozenset(c for stage in self.stages for c in stage.get("contact_ids", []))
