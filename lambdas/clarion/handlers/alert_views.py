"""The alert as the API shows it (`GET /alerts/{id}` and the answers to an acknowledgement or a decline)."""

from __future__ import annotations

from typing import Any

from clarion.domain.alert_record import AlertRecord
from clarion.domain.models import Outcome
from clarion.domain.routing import NO_DESTINATION
from clarion.handlers.api_models import AckView, AlertView, AttemptView, DeclineView, FailureView, StageView
from clarion.shared import clock


def _seconds(start: str, end: str) -> float:
    return round(clock.seconds_between(start, end), 3)


def _ack(record: AlertRecord) -> AckView:
    ack: dict[str, Any] | None = record.ack
    if not record.ack_required or ack is None:
        return AckView(required=record.ack_required, target_s=record.target_s)
    took = _seconds(record.accepted_at, ack["at"])
    return AckView(
        required=True,
        acknowledged_by=ack["contact_id"],
        acknowledged_at=ack["at"],
        via=ack["via"],
        time_to_ack_s=took,
        target_s=record.target_s,
        within_target=record.target_s is None or took <= record.target_s,
        after_end=bool(ack.get("after_end", False)),
        seq=_seq(ack),
    )


def alert_view(record: AlertRecord) -> AlertView:
    first = record.first_delivered_at
    return AlertView(
        message_id=record.message_id,
        status=record.status,
        priority=record.priority,  # type: ignore[arg-type]
        type=record.type,
        accepted_at=record.accepted_at,
        attempts=[
            AttemptView(
                channel=a.channel,
                attempt=a.attempt,
                outcome=a.outcome,
                at=a.at,
                provider_message_id=a.provider_message_id,
                error=_error_code(a.error),
                error_message=_error_message(a.outcome, a.error),
                contact_id=a.contact_id,
                stage=a.stage,
                receipt=a.receipt,
                receipt_at=a.receipt_at,
                seq=a.seq,
            )
            for a in record.attempts
        ],
        ack=_ack(record),
        stages=[
            StageView(
                stage=int(s["stage"]), contact_ids=list(s["contact_ids"]), started_at=s["started_at"], seq=_seq(s)
            )
            for s in record.stages
        ],
        declines=[
            DeclineView(contact_id=c, at=d["at"], via=d["via"], reason=d.get("reason"), seq=_seq(d))
            for c, d in sorted(record.declines.items(), key=lambda kv: (_seq(kv[1]) or 0, str(kv[1]["at"])))
        ],
        time_to_first_delivery_s=_seconds(record.accepted_at, first) if first else None,
        escalation_policy_id=record.escalation_policy_id,
        ended_at=record.ended_at,
        failure=_failure(record.failure_reason),
    )


def _seq(entry: dict[str, Any]) -> int | None:
    return int(entry["seq"]) if entry.get("seq") is not None else None


def _error_code(stored: str | None) -> str | None:
    """The provider's error code alone: the log keeps its message too, which may name the recipient (SES's
    sandbox refusal names the address) and so never goes to an API client."""
    return stored.split(":", 1)[0].strip() if stored else None


def _error_message(outcome: Outcome, stored: str | None) -> str | None:
    if not stored:
        return None
    if _error_code(stored) == NO_DESTINATION:
        return "The contact has no address for this channel."
    if outcome is Outcome.RETRYABLE:
        return "The provider could not take the message then; Clarion retries, then tries the next channel."
    return "The provider refused the message; Clarion does not retry it on this channel."


# Why Clarion itself gave up on an alert, in words a person at the sending system understands.
_FAILURES = {
    "dead_lettered": "Clarion could not finish routing this alert after repeated tries; its operators have been "
    "alarmed and will send it again once the cause is fixed.",
}


def _failure(reason: str | None) -> FailureView | None:
    return FailureView(code=reason, message=_FAILURES.get(reason, "Clarion gave up on this alert.")) if reason else None
