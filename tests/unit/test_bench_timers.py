from __future__ import annotations

from typing import Any

from bench import timers


def figure(**changed: Any) -> dict[str, Any]:
    """The timers figure as bench/results.json holds it: 1,000 alerts, every stage 1 started, changed by `changed`."""
    clean = {
        "alerts": 1000,
        "asked": 1000,
        "windows_s": {"min": 5, "max": 105},
        "due_spread_s": 0.98,
        "posted_per_s": 19.6,
        "idle_before_target_s": 41.2,
        "addressees_reached_by_target": 1000,
        "stage_start_lateness_s": {"p50": 0.4, "p99": 3.2, "max": 3.9, "n": 1000},
        "all_started_after_first_due_s": 4.8,
        "not_started": 0,
    }
    return clean | changed


def test_every_window_ends_in_the_target_second() -> None:
    # Given a target second and alerts sent at every tenth of a second until 5 s before it
    target = 1_800_000_105
    for tenth in range(1000):
        sent = target - 105 + tenth / 10
        # When each is given its window
        window = timers.window_for(target, sent)
        # Then the window is whole seconds, at least Clarion's smallest, and ends in (T - 1, T]
        assert isinstance(window, int) and window >= timers.MIN_WINDOW_S
        assert target - 1 < sent + window <= target


def test_the_target_leaves_the_last_post_at_the_planned_rate_the_smallest_window() -> None:
    # Given intake planned at 10 alerts a second, posting from a moment part-way through a second
    now = 1_800_000_000.37
    target = timers.target_second(now, 1000, 10.0)
    # When the last of 1,000 alerts is sent on that plan
    window = timers.window_for(target, now + 1000 / 10)
    # Then its window can still end at the target
    assert window >= timers.MIN_WINDOW_S


def test_the_report_gives_the_lateness_and_the_time_until_all_started() -> None:
    # Given a figure where every stage 1 started
    lines = timers.report(figure())
    # When it is printed
    text = "\n".join(lines)
    # Then it gives p50, p99 and max lateness and how long until all 1,000 had started
    assert "1000 timers due in the same second" in lines[0]
    assert "p50 0.40 s   p99 3.20 s   max 3.90 s" in text
    assert "all 1000 started within 4.8 s of the first window's end" in text
    assert "never started" not in text


def test_the_report_names_the_walks_that_never_moved_on() -> None:
    # Given a figure where 3 of 1,000 stage 1s never started
    late = {"p50": 0.4, "p99": 3.2, "max": 3.9, "n": 997}
    text = "\n".join(timers.report(figure(not_started=3, stage_start_lateness_s=late)))
    # Then the report counts only the ones that started as started, and names the rest
    assert "  997 started within" in text and "all 997" not in text
    assert "stage 1 never started: 3" in text


def test_the_report_says_when_intake_slowed_before_every_alert_was_posted() -> None:
    # Given intake slowed so much that only 850 of 1,000 alerts could still have windows ending at T
    text = "\n".join(timers.report(figure(alerts=850)))
    # Then the report says so
    assert "only 850 of 1000 posted: intake slowed too much to reach T" in text
