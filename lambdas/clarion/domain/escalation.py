"""The escalation decision: who is notified next, when, and whether an answer still counts. Pure logic, no I/O.

An alert that needs an acknowledgement walks a *path* fixed when it is accepted: stage 0 is the addressed contact,
with its own window; then each stage of the escalation policy, walked `1 + repeat` times. Stage numbers count
along the path (0, 1, 2, ... across repeats), so a stage number names one moment of the walk, never two.

Rules (`decide`), in order:
- an acknowledged alert is done: nobody further is notified;
- while the current stage's window runs and someone in it may still answer, wait until the window ends;
- a stage is *settled* early when every contact in it has declined or could not be reached on any channel:
  the next stage starts at once instead of waiting out the window;
- when the window ends (or the stage settles), the next stage starts; after the last one the alert ends
  `unacknowledged`, or `failed` when no contact of any stage could be reached.

Windows are anchored to the plan (`next_window_ends`): a stage's window ends at its planned start (the previous
window's end, or the moment the previous stage settled early) plus its window, not at its actual start, so the
lateness of each step never adds up along a walk; a stage that starts late still keeps at least half its window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

MIN_WINDOW_S = 5
MAX_WINDOW_S = 86_400
MAX_STAGES = 10
MAX_CONTACTS_PER_STAGE = 10
MAX_REPEAT = 5


class Reach(StrEnum):
    """How far the delivery to one contact of one stage has come."""

    PENDING = "pending"  # queued or being sent
    DELIVERED = "delivered"  # a provider accepted a message for this contact
    FAILED = "failed"  # every channel of this contact failed (or it has none)


@dataclass(frozen=True)
class Stage:
    contact_ids: tuple[str, ...]
    ack_within_s: int


@dataclass(frozen=True)
class Policy:
    """An escalation policy as an administrator stores it (`PUT /escalation-policies/{id}`)."""

    policy_id: str
    name: str
    stages: tuple[Stage, ...]
    repeat: int = 0
    addressee_ack_within_s: int | None = None

    def contact_ids(self) -> frozenset[str]:
        return frozenset(c for stage in self.stages for c in stage.contact_ids)


def build_path(addressee: str, default_window_s: int, policy: Policy | None) -> tuple[Stage, ...]:
    """The whole walk, fixed at acceptance: the addressee, then the policy's stages `1 + repeat` times."""
    window = default_window_s
    if policy is not None and policy.addressee_ack_within_s is not None:
        window = policy.addressee_ack_within_s
    path = [Stage((addressee,), window)]
    if policy is not None:
        path.extend(policy.stages * (policy.repeat + 1))
    return tuple(path)


@dataclass(frozen=True)
class Progress:
    """What the alert's record says about its walk."""

    stage: int  # the stage started last
    started_at: float  # epoch seconds when it started
    acknowledged: bool
    declined: frozenset[str]  # contacts that declined (at any stage)
    reach: Mapping[tuple[int, str], Reach]  # (stage, contact) -> how far its delivery came
    window_ends: float | None = None  # epoch seconds: when its window ends as planned (None: started_at + window)


@dataclass(frozen=True)
class Wait:
    until: float  # epoch seconds: the current stage's window ends


@dataclass(frozen=True)
class StartStage:
    stage: int
    contact_ids: tuple[str, ...]
    window_ends: float  # epoch seconds, as planned (`next_window_ends`)


class Outcome(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    UNACKNOWLEDGED = "unacknowledged"
    FAILED = "failed"


@dataclass(frozen=True)
class End:
    outcome: Outcome


Decision = Wait | StartStage | End


def settled(path: Sequence[Stage], progress: Progress) -> bool:
    """Whether nobody in the current stage can still answer: each declined or was unreachable."""
    stage = path[progress.stage]
    return all(
        c in progress.declined or progress.reach.get((progress.stage, c)) is Reach.FAILED for c in stage.contact_ids
    )


def reached_anyone(progress: Progress) -> bool:
    """False only when every delivery of every started stage failed."""
    return any(r is not Reach.FAILED for r in progress.reach.values())


def window_ends(path: Sequence[Stage], stage: int, started_at: float) -> float:
    """When the window of `stage`, started at epoch second `started_at`, ends: Clarion's one window formula."""
    return started_at + path[stage].ack_within_s


def next_window_ends(path: Sequence[Stage], stage: int, planned_start: float, now: float) -> float:
    """When the window of `stage`, planned to start at `planned_start` and starting at `now`, ends: at its plan,
    so lateness never adds up, but never less than half its window after it actually starts."""
    return max(window_ends(path, stage, planned_start), now + path[stage].ack_within_s / 2)


def decide(path: Sequence[Stage], progress: Progress, now: float) -> Decision:
    """What to do for an alert walking `path`, given its `progress`, at epoch second `now`."""
    if progress.acknowledged:
        return End(Outcome.ACKNOWLEDGED)
    ends = progress.window_ends
    if ends is None:
        ends = window_ends(path, progress.stage, progress.started_at)
    if now < ends and not settled(path, progress):
        return Wait(until=ends)
    following = progress.stage + 1
    planned = min(now, ends)  # the next stage was due when this window ended, or now if it settled early
    if following < len(path):
        contacts = tuple(c for c in path[following].contact_ids if c not in progress.declined)
        if contacts:
            return StartStage(following, contacts, next_window_ends(path, following, planned, now))
        # Everyone in that stage has declined already: it is settled before it starts; skip it.
        skipped = Progress(following, planned, False, progress.declined, progress.reach)
        return decide(path, skipped, now)
    return End(Outcome.UNACKNOWLEDGED if reached_anyone(progress) else Outcome.FAILED)


def recipients(path: Sequence[Stage], stage: int, declined: frozenset[str] = frozenset()) -> frozenset[str]:
    """Every contact notified up to and including `stage` (less those that declined)."""
    return frozenset(c for s in path[: stage + 1] for c in s.contact_ids) - declined


@dataclass(frozen=True)
class Ack:
    contact_id: str
    at: float  # epoch seconds
    via: str


def time_to_ack(accepted_at: float, ack: Ack) -> float:
    return max(0.0, ack.at - accepted_at)


def within_target(accepted_at: float, ack: Ack, target_s: int) -> bool:
    return time_to_ack(accepted_at, ack) <= target_s
