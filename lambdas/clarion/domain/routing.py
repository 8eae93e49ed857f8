"""The routing decision: which channel next, retry or fall back, wait how long, or stop. Pure logic, no I/O.

The router asks `next_step` after every attempt, with the attempts it read from the delivery log at the start
plus those it has made since, so a crashed or timed-out invocation resumes exactly where the log says it stopped.

Rules, in order:
- an attempt a receipt confirmed (`delivered`) means the alert is delivered; nothing more is sent;
- an attempt the provider accepted (`sent`) means delivered too on a channel without receipts; on a channel with
  receipts (`RetryPolicy.receipts`) it means wait for the receipt (`AwaitReceipt`): nothing more is sent until the
  receipt, or its deadline, settles the attempt;
- the latest attempt still `pending` means the function stopped between writing the intent and recording the
  result, so nobody knows whether the provider sent it. It is sent again under the SAME attempt number:
  a duplicate is preferred to silence. For calls the Connect `ClientToken` (derived from alert and attempt
  number) lets Connect drop the duplicate; SMS and email have no such token and the clinician may receive
  the message twice;
- a `permanent_failure`, and a receipt's `undelivered` or `no_answer`, exhaust the channel at once: the next
  channel in the plan is tried without waiting;
- a `retryable_failure` is retried on the same channel, after an exponential backoff with full jitter, until the
  channel has had `max_attempts_per_channel` attempts; then the next channel is tried;
- when every channel of the plan is exhausted, the alert has failed.

Attempt numbers are 1-based and count across one delivery (one recipient at one stage of the alert): every retry and
every fallback takes a new number.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from clarion.domain.models import EXHAUSTING, Attempt, Channel, Outcome

Random = Callable[[], float]  # returns a float in [0, 1)

# Codes a transport failure is reported under (no HTTP answer at all): always worth another try.
TIMEOUT = "Timeout"
CONNECTION_ERROR = "ConnectionError"
NO_DESTINATION = "NoDestination"  # the contact has no address for the channel: permanent

_RETRYABLE_ANYWHERE = frozenset(
    {
        TIMEOUT,
        CONNECTION_ERROR,
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "ProvisionedThroughputExceededException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServiceException",
        "InternalServiceError",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)

_RETRYABLE_BY_CHANNEL: dict[Channel, frozenset[str]] = {
    # Concurrent-call and calls-per-second quotas of the Connect instance: a later call can start.
    Channel.CALL: frozenset({"LimitExceededException"}),
    Channel.SMS: frozenset({"KMSThrottlingException"}),
    Channel.EMAIL: frozenset(),
}

_PERMANENT_ANYWHERE = frozenset(
    {NO_DESTINATION, "ValidationError", "ValidationException", "AccessDenied", "AccessDeniedException"}
)

_PERMANENT_BY_CHANNEL: dict[Channel, frozenset[str]] = {
    Channel.CALL: frozenset(
        {
            "DestinationNotAllowedException",
            "InvalidParameterException",
            "InvalidRequestException",
            "ResourceNotFoundException",
            "OutboundContactNotPermittedException",
            "CallNotConfigured",
        }
    ),
    Channel.SMS: frozenset(
        {
            "InvalidParameter",  # includes an invalid or opted-out phone number
            "InvalidParameterValue",
            "OptedOut",
            "AuthorizationError",
            "EndpointDisabled",
            "NotFound",
            "KMSDisabled",
            "KMSNotFound",
            "KMSAccessDenied",
            "KMSInvalidState",
        }
    ),
    Channel.EMAIL: frozenset(
        {
            "MessageRejected",  # includes an unverified address in the sandbox
            "MailFromDomainNotVerified",
            "MailFromDomainNotVerifiedException",
            "ConfigurationSetDoesNotExist",
            "ConfigurationSetDoesNotExistException",
            "ConfigurationSetSendingPausedException",
            "AccountSendingPausedException",
            "TemplateDoesNotExist",
            "TemplateDoesNotExistException",
            "InvalidTemplate",
            "InvalidParameterValue",
        }
    ),
}


def classify_failure(channel: Channel, code: str, http_status: int | None = None) -> Outcome:
    """Whether a provider error on `channel` can succeed later (`RETRYABLE`) or never will (`PERMANENT`).

    Known codes decide first; otherwise the HTTP status (429 and 5xx retryable, other 4xx permanent);
    an unknown error without a status is retried (bounded by the retry policy)."""
    if code in _RETRYABLE_ANYWHERE or code in _RETRYABLE_BY_CHANNEL[channel]:
        return Outcome.RETRYABLE
    if code in _PERMANENT_ANYWHERE or code in _PERMANENT_BY_CHANNEL[channel]:
        return Outcome.PERMANENT
    if http_status is not None and 400 <= http_status < 500 and http_status != 429:
        return Outcome.PERMANENT
    return Outcome.RETRYABLE


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts_per_channel: int = 3
    base_delay: float = 0.2  # seconds
    max_delay: float = 5.0  # seconds
    send_budget: float = 15.0  # seconds one provider call may take (connect and read timeouts, the dialer's call)
    safety_margin: float = 1.0  # seconds kept to record the result and answer the batch
    receipts: frozenset[Channel] = frozenset()  # channels whose `sent` waits for a delivery receipt

    def __post_init__(self) -> None:
        if self.max_attempts_per_channel < 1:
            raise ValueError("max_attempts_per_channel must be at least 1")
        if self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ValueError("delays must satisfy 0 <= base_delay <= max_delay")


@dataclass(frozen=True)
class Send:
    """Send on `channel` as attempt number `attempt`, after waiting `delay` seconds."""

    channel: Channel
    attempt: int
    delay: float = 0.0
    fallback: bool = False  # first attempt on this channel after an earlier channel was exhausted
    resend: bool = False  # re-send of a `pending` attempt whose fate is unknown


@dataclass(frozen=True)
class Delivered:
    channel: Channel
    attempt: int


@dataclass(frozen=True)
class AwaitReceipt:
    """Attempt `attempt` was sent on a channel with receipts: nothing more until its receipt (or deadline)."""

    channel: Channel
    attempt: int


@dataclass(frozen=True)
class Failed:
    """Every channel of the plan is exhausted (or the plan is empty)."""

    attempts: int


Step = Send | Delivered | AwaitReceipt | Failed


def backoff(failures_on_channel: int, policy: RetryPolicy, rand: Random) -> float:
    """Full-jitter exponential backoff before retry number `failures_on_channel` (1-based) on a channel."""
    cap = min(policy.max_delay, policy.base_delay * 2 ** max(failures_on_channel - 1, 0))
    return rand() * cap


def _exhausted(channel: Channel, attempts: Sequence[Attempt], policy: RetryPolicy) -> bool:
    mine = [a for a in attempts if a.channel is channel]
    return len(mine) >= policy.max_attempts_per_channel or any(a.outcome in EXHAUSTING for a in mine)


def next_step(
    plan: Sequence[Channel], attempts: Sequence[Attempt], policy: RetryPolicy, rand: Random = random.random
) -> Step:
    """What to do next for an alert with channel plan `plan`, given every attempt made so far."""
    ordered = sorted(attempts, key=lambda a: a.attempt)
    delivered = next((a for a in ordered if a.outcome is Outcome.DELIVERED), None)
    if delivered is not None:
        return Delivered(channel=delivered.channel, attempt=delivered.attempt)
    sent = next((a for a in ordered if a.outcome is Outcome.SENT), None)
    if sent is not None and sent.channel in policy.receipts:
        return AwaitReceipt(channel=sent.channel, attempt=sent.attempt)
    if sent is not None:
        return Delivered(channel=sent.channel, attempt=sent.attempt)
    if ordered and ordered[-1].outcome is Outcome.PENDING:
        return Send(channel=ordered[-1].channel, attempt=ordered[-1].attempt, resend=True)
    channel = next((c for c in plan if not _exhausted(c, ordered, policy)), None)
    if channel is None:
        return Failed(attempts=len(ordered))
    number = (ordered[-1].attempt if ordered else 0) + 1
    tried = sum(1 for a in ordered if a.channel is channel)
    if tried:
        return Send(channel=channel, attempt=number, delay=backoff(tried, policy, rand))
    return Send(channel=channel, attempt=number, fallback=bool(ordered))


def has_time_for(step: Send, remaining_seconds: float, policy: RetryPolicy) -> bool:
    """Whether the wait and the send of `step` fit in what is left of the function's time budget."""
    return step.delay + policy.send_budget + policy.safety_margin <= remaining_seconds
