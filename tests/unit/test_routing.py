"""The routing decision: retries, fallbacks, backoff, resume after a crash, time budget, error classes."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.domain import routing
from clarion.domain.models import Attempt, Channel, Outcome
from clarion.domain.routing import (
    AwaitReceipt,
    Delivered,
    Failed,
    RetryPolicy,
    Send,
    backoff,
    classify_failure,
    has_time_for,
)

CALL, SMS, EMAIL = Channel.CALL, Channel.SMS, Channel.EMAIL
PLAN = (CALL, SMS, EMAIL)
POLICY = RetryPolicy()
AT = "2025-01-01T00:00:00+00:00"


def history(*steps: tuple[Channel, Outcome]) -> list[Attempt]:
    return [Attempt(channel, n, outcome, AT) for n, (channel, outcome) in enumerate(steps, start=1)]


def top(_: object = None) -> float:
    return 0.999999


def run(
    plan: tuple[Channel, ...], provider: dict[Channel, list[Outcome]], policy: RetryPolicy = POLICY
) -> list[Attempt]:
    """Drive `next_step` to the end against scripted provider answers (default: the channel sends)."""
    attempts: list[Attempt] = []
    for _ in range(100):
        step = routing.next_step(plan, attempts, policy, top)
        if not isinstance(step, Send):
            return attempts
        answers = provider.get(step.channel, [])
        outcome = answers.pop(0) if answers else Outcome.SENT
        attempts.append(Attempt(step.channel, step.attempt, outcome, AT))
    raise AssertionError("routing did not terminate")


# --- examples -------------------------------------------------------------------------------------


def test_first_attempt_goes_to_the_first_channel_at_once():
    # Given no attempt yet
    # When routing decides
    step = routing.next_step(PLAN, [], POLICY)
    # Then it sends on the first channel as attempt 1, without a wait, and it is not a fallback
    assert step == Send(channel=CALL, attempt=1, delay=0.0, fallback=False, resend=False)


def test_a_sent_attempt_means_delivered():
    # Given the call failed once and then was sent
    attempts = history((CALL, Outcome.RETRYABLE), (CALL, Outcome.SENT))
    # When routing decides
    step = routing.next_step(PLAN, attempts, POLICY)
    # Then the alert is delivered by the call at attempt 2
    assert step == Delivered(channel=CALL, attempt=2)


def test_retryable_failure_is_retried_on_the_same_channel_after_a_backoff():
    # Given one retryable call failure
    attempts = history((CALL, Outcome.RETRYABLE))
    # When routing decides, with the top of the random range
    step = routing.next_step(PLAN, attempts, POLICY, top)
    # Then it retries the call as attempt 2 after at most the base delay
    assert isinstance(step, Send)
    assert (step.channel, step.attempt, step.fallback) == (CALL, 2, False)
    assert step.delay == pytest.approx(POLICY.base_delay, rel=1e-4)


def test_retries_run_out_then_the_next_channel_is_a_fallback():
    # Given three retryable call failures (the per-channel maximum)
    attempts = history(*[(CALL, Outcome.RETRYABLE)] * 3)
    # When routing decides
    step = routing.next_step(PLAN, attempts, POLICY)
    # Then it falls back to SMS at once as attempt 4
    assert step == Send(channel=SMS, attempt=4, delay=0.0, fallback=True)


def test_permanent_failure_falls_back_at_once():
    # Given the call was rejected permanently
    attempts = history((CALL, Outcome.PERMANENT))
    # When routing decides
    step = routing.next_step(PLAN, attempts, POLICY)
    # Then SMS is tried next as attempt 2 without a wait
    assert step == Send(channel=SMS, attempt=2, delay=0.0, fallback=True)


def test_every_channel_exhausted_means_failed():
    # Given the call was rejected, SMS failed three times and email was rejected
    attempts = history((CALL, Outcome.PERMANENT), *[(SMS, Outcome.RETRYABLE)] * 3, (EMAIL, Outcome.PERMANENT))
    # When routing decides
    step = routing.next_step(PLAN, attempts, POLICY)
    # Then the alert has failed after five attempts
    assert step == Failed(attempts=5)


def test_empty_plan_fails_at_once():
    # Given a plan with no channel
    # When routing decides
    # Then the alert fails without an attempt
    assert routing.next_step((), [], POLICY) == Failed(attempts=0)


def test_pending_attempt_is_resent_under_the_same_number():
    # Given the run died after writing the intent for SMS attempt 2
    attempts = history((CALL, Outcome.PERMANENT), (SMS, Outcome.PENDING))
    # When routing decides
    step = routing.next_step(PLAN, attempts, POLICY)
    # Then SMS attempt 2 is sent again, marked as an ambiguous re-send, without a wait
    assert step == Send(channel=SMS, attempt=2, delay=0.0, resend=True)


def test_attempts_are_read_in_attempt_order_whatever_the_list_order():
    # Given the log came back unordered
    attempts = list(reversed(history((CALL, Outcome.RETRYABLE), (CALL, Outcome.PENDING))))
    # When routing decides
    step = routing.next_step(PLAN, attempts, POLICY)
    # Then the latest (pending) attempt is the one re-sent
    assert step == Send(channel=CALL, attempt=2, resend=True)


def test_single_attempt_policy_falls_back_after_one_retryable_failure():
    # Given a policy allowing one attempt per channel and a throttled call
    policy = RetryPolicy(max_attempts_per_channel=1)
    # When the call is throttled
    attempts = run(PLAN, {CALL: [Outcome.RETRYABLE]}, policy)
    # Then SMS delivers it at attempt 2
    assert [(a.channel, a.attempt, a.outcome) for a in attempts] == [
        (CALL, 1, Outcome.RETRYABLE),
        (SMS, 2, Outcome.SENT),
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_attempts_per_channel": 0}, "max_attempts_per_channel"),
        ({"base_delay": -1.0}, "delays"),
        ({"base_delay": 2.0, "max_delay": 1.0}, "delays"),
    ],
)
def test_nonsensical_retry_policy_is_refused(kwargs, message):
    # Given a policy that cannot work
    # When it is built
    # Then it is refused with a sentence naming the problem
    with pytest.raises(ValueError, match=message):
        RetryPolicy(**kwargs)


# --- backoff and time budget ----------------------------------------------------------------------


@pytest.mark.parametrize(("failures", "cap"), [(1, 0.2), (2, 0.4), (3, 0.8), (5, 3.2), (6, 5.0), (30, 5.0)])
def test_backoff_cap_doubles_up_to_the_maximum(failures, cap):
    # Given `failures` failures on a channel
    # When the backoff is drawn at the top and the bottom of the random range
    # Then it spans zero to the capped exponential delay (full jitter)
    assert backoff(failures, POLICY, lambda: 0.0) == 0.0
    assert backoff(failures, POLICY, top) == pytest.approx(cap, rel=1e-4)


def test_send_fits_only_when_wait_send_and_margin_fit_in_the_remaining_time():
    # Given a 1 s wait, a 15 s send budget and a 1 s margin
    step = Send(channel=SMS, attempt=2, delay=1.0)
    # When the remaining time is just enough, or just short
    # Then only the first allows the send
    assert has_time_for(step, 17.0, POLICY)
    assert not has_time_for(step, 16.99, POLICY)


# --- error classification -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "code", "status", "expected"),
    [
        (CALL, "ThrottlingException", 429, Outcome.RETRYABLE),
        (CALL, "InternalServiceException", 500, Outcome.RETRYABLE),
        (CALL, "LimitExceededException", 429, Outcome.RETRYABLE),
        (CALL, "DestinationNotAllowedException", 400, Outcome.PERMANENT),
        (CALL, "InvalidParameterException", 400, Outcome.PERMANENT),
        (SMS, "Throttling", 400, Outcome.RETRYABLE),
        (SMS, "InternalError", 500, Outcome.RETRYABLE),
        (SMS, "InvalidParameter", 400, Outcome.PERMANENT),
        (SMS, "OptedOut", None, Outcome.PERMANENT),
        (EMAIL, "Throttling", 400, Outcome.RETRYABLE),
        (EMAIL, "ServiceUnavailable", 503, Outcome.RETRYABLE),
        (EMAIL, "MessageRejected", 400, Outcome.PERMANENT),
        (EMAIL, "ValidationError", 400, Outcome.PERMANENT),
        (EMAIL, routing.TIMEOUT, None, Outcome.RETRYABLE),
        (SMS, routing.CONNECTION_ERROR, None, Outcome.RETRYABLE),
        (SMS, routing.NO_DESTINATION, None, Outcome.PERMANENT),
        (SMS, "SomethingNew", 502, Outcome.RETRYABLE),
        (SMS, "SomethingNew", 429, Outcome.RETRYABLE),
        (EMAIL, "SomethingNew", 403, Outcome.PERMANENT),
        (CALL, "SomethingNew", None, Outcome.RETRYABLE),
    ],
)
def test_provider_errors_are_classified_per_channel(channel, code, status, expected):
    # Given a provider error on a channel
    # When it is classified
    # Then throttling, 5xx and timeouts are retryable and refusals are permanent
    assert classify_failure(channel, code, status) is expected


# --- properties -----------------------------------------------------------------------------------

plans = st.lists(st.sampled_from(list(Channel)), unique=True, max_size=3).map(tuple)
failures = st.sampled_from([Outcome.RETRYABLE, Outcome.PERMANENT, Outcome.SENT])
scripts = st.fixed_dictionaries({c: st.lists(failures, max_size=6) for c in Channel})
policies = st.builds(
    RetryPolicy,
    max_attempts_per_channel=st.integers(min_value=1, max_value=5),
    base_delay=st.floats(min_value=0, max_value=1),
    max_delay=st.floats(min_value=1, max_value=10),
)


@settings(max_examples=300, deadline=None)
@given(plan=plans, script=scripts, policy=policies)
def test_routing_respects_limits_order_and_stops_after_sent(plan, script, policy):
    # Given any plan, any provider behaviour and any policy
    # When routing runs to the end
    attempts = run(plan, {c: list(o) for c, o in script.items()}, policy)
    # Then attempt numbers run 1..n, no channel exceeds its maximum, nothing follows a send,
    # channels come in plan order, and a permanent failure is never retried
    assert [a.attempt for a in attempts] == list(range(1, len(attempts) + 1))
    for channel in Channel:
        assert sum(a.channel is channel for a in attempts) <= policy.max_attempts_per_channel
    sent = [a for a in attempts if a.outcome is Outcome.SENT]
    assert len(sent) <= 1
    if sent:
        assert attempts[-1] is sent[0]
    used = list(dict.fromkeys(a.channel for a in attempts))
    assert used == [c for c in plan if c in used]
    assert all(c in plan for c in used)
    for earlier, later in itertools.pairwise(attempts):
        if earlier.outcome is Outcome.PERMANENT:
            assert later.channel is not earlier.channel


@settings(max_examples=300, deadline=None)
@given(plan=plans, script=scripts, policy=policies)
def test_failed_only_when_every_channel_is_exhausted(plan, script, policy):
    # Given any plan and provider behaviour
    attempts = run(plan, {c: list(o) for c, o in script.items()}, policy)
    # When routing gives its final answer
    final = routing.next_step(plan, attempts, policy)
    # Then it fails exactly when no attempt was sent, and then every channel had its maximum or a permanent refusal
    if isinstance(final, Failed):
        assert all(a.outcome is not Outcome.SENT for a in attempts)
        for channel in plan:
            mine = [a for a in attempts if a.channel is channel]
            assert len(mine) == policy.max_attempts_per_channel or mine[-1].outcome is Outcome.PERMANENT
    else:
        assert isinstance(final, Delivered)
        assert final.attempt == attempts[-1].attempt


@settings(max_examples=300, deadline=None)
@given(
    failures_so_far=st.integers(min_value=1, max_value=40),
    policy=policies,
    draw=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_backoff_stays_within_zero_and_the_capped_exponential(failures_so_far, policy, draw):
    # Given any number of failures, any policy and any random draw
    # When the backoff is computed
    delay = backoff(failures_so_far, policy, lambda: draw)
    # Then it lies in [0, min(max_delay, base * 2**(k-1))]
    assert 0 <= delay <= min(policy.max_delay, policy.base_delay * 2 ** (failures_so_far - 1))


@settings(max_examples=200, deadline=None)
@given(plan=plans.filter(bool), script=scripts, policy=policies, data=st.data())
def test_pending_attempt_is_always_resent_under_its_own_number(plan, script, policy, data):
    # Given a history cut at some send, whose result was never recorded (still pending)
    attempts = run(plan, {c: list(o) for c, o in script.items()}, policy)
    assert attempts, "a non-empty plan always makes a first attempt"
    cut = data.draw(st.integers(min_value=0, max_value=len(attempts) - 1))
    crashed = [*attempts[:cut], Attempt(attempts[cut].channel, attempts[cut].attempt, Outcome.PENDING, AT)]
    # When routing resumes
    step = routing.next_step(plan, crashed, policy)
    # Then it re-sends that same attempt on the same channel, without a wait
    assert step == Send(channel=attempts[cut].channel, attempt=attempts[cut].attempt, resend=True)


# --- receipts ------------------------------------------------------------------------------------

RECEIPTS = RetryPolicy(receipts=frozenset({CALL, EMAIL}))


def test_a_sent_attempt_waits_for_its_receipt_on_a_channel_with_receipts() -> None:
    assert routing.next_step(PLAN, history((CALL, Outcome.SENT)), RECEIPTS) == AwaitReceipt(CALL, 1)
    # SMS has no receipts in this deployment: the provider accepting it is delivery, as before
    assert routing.next_step(PLAN, history((SMS, Outcome.SENT)), RECEIPTS) == Delivered(SMS, 1)


def test_a_delivered_receipt_ends_the_delivery() -> None:
    steps = history((CALL, Outcome.NO_ANSWER), (SMS, Outcome.RETRYABLE), (SMS, Outcome.DELIVERED))
    assert routing.next_step(PLAN, steps, RECEIPTS) == Delivered(SMS, 3)


@pytest.mark.parametrize("failure", [Outcome.UNDELIVERED, Outcome.NO_ANSWER])
def test_a_failure_receipt_moves_to_the_next_channel_at_once(failure: Outcome) -> None:
    step = routing.next_step(PLAN, history((CALL, failure)), RECEIPTS, top)
    assert step == Send(SMS, 2, delay=0.0, fallback=True)


def test_a_failure_receipt_on_the_last_channel_fails_the_delivery() -> None:
    steps = history((CALL, Outcome.NO_ANSWER), (SMS, Outcome.PERMANENT), (EMAIL, Outcome.UNDELIVERED))
    assert routing.next_step(PLAN, steps, RECEIPTS) == Failed(3)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([Outcome.DELIVERED, Outcome.UNDELIVERED, Outcome.NO_ANSWER]), max_size=3))
def test_whatever_the_receipts_say_each_channel_is_sent_at_most_once_and_it_ends(verdicts: list[Outcome]) -> None:
    # Given providers whose every send is accepted, and receipts that say `verdicts` in turn
    attempts: list[Attempt] = []
    verdicts = list(verdicts)
    for _ in range(10):
        step = routing.next_step(PLAN, attempts, RECEIPTS, top)
        if isinstance(step, Send):
            attempts.append(Attempt(step.channel, step.attempt, Outcome.SENT, AT))
        elif isinstance(step, AwaitReceipt):
            verdict = verdicts.pop(0) if verdicts else Outcome.UNDELIVERED
            attempts[-1] = Attempt(step.channel, step.attempt, verdict, AT)
        else:
            break
    # Then no channel was sent twice, and it ended delivered or failed
    assert len({a.channel for a in attempts}) == len(attempts)
    assert isinstance(step, Delivered | Failed)
