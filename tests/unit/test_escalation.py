"""The escalation decision: path, windows, early settling on declines and failures, repeats, the end."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from clarion.domain import escalation
from clarion.domain.escalation import End, Outcome, Policy, Progress, Reach, Stage, StartStage, Wait

POLICY = Policy(
    policy_id="ward-7b",
    name="Ward 7B",
    stages=(Stage(("C-2",), 300), Stage(("C-3", "C-4"), 600)),
    repeat=1,
)
PATH = escalation.build_path("C-1", 120, POLICY)


def progress(stage: int = 0, started: float = 0.0, **kw: object) -> Progress:
    return Progress(
        stage=stage,
        started_at=started,
        acknowledged=bool(kw.get("acknowledged", False)),
        declined=frozenset(kw.get("declined", ())),  # type: ignore[arg-type]
        reach=dict(kw.get("reach", {})),  # type: ignore[call-overload]
    )


def test_the_path_is_the_addressee_then_the_stages_walked_one_plus_repeat_times():
    # Given a policy of two stages with one repeat
    # When the path is built for an alert to C-1 with a default window of 120 s
    # Then it is C-1, then both stages twice, with their own windows
    assert [s.contact_ids for s in PATH] == [("C-1",), ("C-2",), ("C-3", "C-4"), ("C-2",), ("C-3", "C-4")]
    assert [s.ack_within_s for s in PATH] == [120, 300, 600, 300, 600]


def test_the_policy_can_give_the_addressee_its_own_window():
    policy = Policy("p", "P", (Stage(("C-2",), 30),), addressee_ack_within_s=45)
    assert escalation.build_path("C-1", 120, policy)[0] == Stage(("C-1",), 45)


def test_without_a_policy_the_path_is_the_addressee_alone():
    assert escalation.build_path("C-1", 300, None) == (Stage(("C-1",), 300),)


def test_inside_the_window_the_decision_is_to_wait_until_it_ends():
    # Given the addressee was notified at t=1000 with a 120 s window
    # When decided at t=1100
    # Then wait until t=1120
    assert escalation.decide(PATH, progress(0, 1000.0), 1100.0) == Wait(until=1120.0)


def test_when_the_window_ends_the_next_stage_starts_with_its_own_window_counted_from_its_plan():
    # Given the addressee's 120 s window ended at t=1120 and the escalator looks half a second late
    decision = escalation.decide(PATH, progress(0, 1000.0), 1120.5)
    # Then stage 1's 300 s window ends 300 s after its planned start (1120), not after its late one
    assert decision == StartStage(stage=1, contact_ids=("C-2",), window_ends=1420.0)


def test_four_late_stages_end_at_their_plan_plus_one_lateness():
    # Given a walk of four 10 s stages planned from t=0, and an escalator 1.5 s late at every step
    path = (Stage(("C-1",), 10), Stage(("C-2",), 10), Stage(("C-3",), 10), Stage(("C-4",), 10))
    reached = {(0, "C-1"): Reach.DELIVERED}
    state = Progress(0, 0.0, False, frozenset(), reached, window_ends=10.0)
    for stage in (1, 2, 3):
        now = state.window_ends + 1.5  # type: ignore[operator]
        decision = escalation.decide(path, state, now)
        assert isinstance(decision, StartStage) and decision.stage == stage
        # Then each window ends where the plan put it, whatever the lateness before
        assert decision.window_ends == 10.0 * (stage + 1)
        state = Progress(stage, now, False, frozenset(), reached, window_ends=decision.window_ends)
    # And the walk ends at its planned 40 s plus that one step's lateness
    assert escalation.decide(path, state, 39.9) == Wait(until=40.0)
    assert escalation.decide(path, state, 41.5) == End(Outcome.UNACKNOWLEDGED)


def test_a_stage_that_starts_very_late_still_keeps_half_its_window():
    # Given the addressee's window ended at t=1120 and the escalator could not look until t=1400
    decision = escalation.decide(PATH, progress(0, 1000.0), 1400.0)
    # Then stage 1 (300 s) keeps 150 s from its actual start, not the 20 s its plan leaves
    assert decision == StartStage(stage=1, contact_ids=("C-2",), window_ends=1550.0)


def test_a_stage_that_settled_early_starts_the_next_now_with_a_full_window():
    # Given the addressee declined at t=1010, long before its window ends at 1120
    state = Progress(0, 1000.0, False, frozenset({"C-1"}), {}, window_ends=1120.0)
    # Then stage 1 starts now and its window is counted from now
    assert escalation.decide(PATH, state, 1010.0) == StartStage(stage=1, contact_ids=("C-2",), window_ends=1310.0)


def test_an_acknowledged_alert_is_done_whatever_the_time():
    assert escalation.decide(PATH, progress(1, 0.0, acknowledged=True), 10_000.0) == End(Outcome.ACKNOWLEDGED)


def test_a_stage_whose_contacts_all_failed_escalates_at_once():
    # Given stage 2 (C-3, C-4) started at t=0 and both were unreachable on every channel
    reach = {(2, "C-3"): Reach.FAILED, (2, "C-4"): Reach.FAILED}
    # When decided long before its 600 s window ends
    decision = escalation.decide(PATH, progress(2, 0.0, reach=reach), 10.0)
    # Then stage 3 starts now
    assert decision == StartStage(stage=3, contact_ids=("C-2",), window_ends=310.0)


def test_one_reachable_contact_keeps_the_stage_waiting():
    reach = {(2, "C-3"): Reach.FAILED, (2, "C-4"): Reach.DELIVERED}
    assert escalation.decide(PATH, progress(2, 0.0, reach=reach), 10.0) == Wait(until=600.0)


def test_a_stage_settles_when_everyone_in_it_declined_or_failed():
    reach = {(2, "C-3"): Reach.FAILED, (2, "C-4"): Reach.DELIVERED}
    decision = escalation.decide(PATH, progress(2, 0.0, reach=reach, declined={"C-4"}), 10.0)
    assert isinstance(decision, StartStage) and decision.stage == 3


def test_a_contact_that_declined_is_not_notified_again_in_a_repeat():
    # Given C-2 declined at stage 1, and stage 2's window ended
    decision = escalation.decide(PATH, progress(2, 0.0, declined={"C-2"}), 600.0)
    # Then stage 3 (C-2 again) is skipped, since everyone in it declined, and stage 4 starts
    assert decision == StartStage(stage=4, contact_ids=("C-3", "C-4"), window_ends=1200.0)


def test_after_the_last_stage_the_alert_is_unacknowledged_when_someone_was_reached():
    reach = {(0, "C-1"): Reach.DELIVERED}
    assert escalation.decide(PATH, progress(4, 0.0, reach=reach), 600.0) == End(Outcome.UNACKNOWLEDGED)


def test_after_the_last_stage_the_alert_failed_when_nobody_was_reached():
    reach = {(s, c): Reach.FAILED for s, stage in enumerate(PATH) for c in stage.contact_ids}
    assert escalation.decide(PATH, progress(4, 0.0, reach=reach), 1.0) == End(Outcome.FAILED)


def test_an_alert_without_policy_ends_when_the_addressee_window_ends():
    path = escalation.build_path("C-1", 300, None)
    assert escalation.decide(path, progress(0, 0.0, reach={(0, "C-1"): Reach.DELIVERED}), 300.0) == End(
        Outcome.UNACKNOWLEDGED
    )
    assert escalation.decide(path, progress(0, 0.0, reach={(0, "C-1"): Reach.FAILED}), 1.0) == End(Outcome.FAILED)


def test_recipients_are_everyone_notified_so_far():
    assert escalation.recipients(PATH, 2) == frozenset({"C-1", "C-2", "C-3", "C-4"})
    assert escalation.recipients(PATH, 0) == frozenset({"C-1"})


def test_within_target_compares_time_to_acknowledge_with_the_target():
    ack = escalation.Ack("C-2", at=1900.0, via="link")
    assert escalation.time_to_ack(100.0, ack) == 1800.0
    assert escalation.within_target(100.0, ack, 1800)
    assert not escalation.within_target(99.0, ack, 1800)


# --- properties ----------------------------------------------------------------------------------------

contact = st.sampled_from([f"C-{i}" for i in range(1, 8)])
stage_st = st.builds(
    Stage,
    st.lists(contact, min_size=1, max_size=4, unique=True).map(tuple),
    st.integers(min_value=5, max_value=600),
)
policy_st = st.builds(
    Policy,
    st.just("p"),
    st.just("P"),
    st.lists(stage_st, min_size=1, max_size=4).map(tuple),
    st.integers(min_value=0, max_value=2),
    st.one_of(st.none(), st.integers(min_value=5, max_value=600)),
)


@settings(max_examples=300, deadline=None)
@given(
    policy=st.one_of(st.none(), policy_st),
    answers=st.dictionaries(
        st.tuples(st.integers(min_value=0, max_value=20), contact), st.sampled_from(list(Reach)), max_size=20
    ),
    declined=st.frozensets(contact, max_size=3),
)
def test_the_walk_always_ends_stage_by_stage_without_starting_a_stage_twice(policy, answers, declined):
    # Given any policy, any delivery outcomes and any declines
    path = escalation.build_path("C-1", 60, policy)
    state = Progress(0, 0.0, False, declined, {})
    now, started = 0.0, [0]
    # When the escalator is woken at each decision's time
    for _ in range(2 * len(path) + 2):
        reach = {k: v for k, v in answers.items() if k[0] == state.stage}
        state = Progress(state.stage, state.started_at, False, declined, {**state.reach, **reach})
        decision = escalation.decide(path, state, now)
        if isinstance(decision, Wait):
            assert decision.until > now
            now = decision.until
            continue
        if isinstance(decision, End):
            break
        # Then every stage starts after the previous one, never twice, and notifies nobody who declined
        assert decision.stage > state.stage
        assert not set(decision.contact_ids) & declined
        started.append(decision.stage)
        state = Progress(decision.stage, now, False, declined, state.reach)
    else:
        raise AssertionError("the walk did not end")
    assert started == sorted(set(started))
    assert decision.outcome in (Outcome.UNACKNOWLEDGED, Outcome.FAILED)
    # And it ends no later than the sum of every window
    assert now <= sum(s.ack_within_s for s in path)


@settings(max_examples=200, deadline=None)
@given(policy=policy_st, stage=st.integers(min_value=0, max_value=4), now=st.floats(0, 1e5))
def test_an_acknowledged_alert_never_starts_a_stage(policy, stage, now):
    path = escalation.build_path("C-1", 60, policy)
    stage = min(stage, len(path) - 1)
    assert escalation.decide(path, Progress(stage, 0.0, True, frozenset(), {}), now) == End(Outcome.ACKNOWLEDGED)
