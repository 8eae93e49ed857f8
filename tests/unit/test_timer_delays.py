"""A timer's SQS delay: it arrives 1-2 s before it is due (so the escalator has read its alert by then), never
after, and SQS's 15-minute limit chains longer waits."""

from __future__ import annotations

from clarion.adapters.timers import MAX_DELAY_S, delay_for


def test_a_timer_arrives_between_one_and_two_seconds_early_never_late() -> None:
    for ahead in (3.0, 5.3, 5.999, 60.5):
        delay = delay_for(1_000.0 + ahead, 1_000.0)
        assert 1.0 <= ahead - delay < 2.0, (ahead, delay)


def test_a_timer_due_within_two_seconds_goes_out_at_once() -> None:
    assert delay_for(1_001.9, 1_000.0) == 0
    assert delay_for(999.0, 1_000.0) == 0


def test_a_long_wait_is_cut_to_what_sqs_allows() -> None:
    assert delay_for(1_000.0 + 3_600, 1_000.0) == MAX_DELAY_S
