from __future__ import annotations

from typing import Any

from bench import verdict


def results(**burst: Any) -> dict[str, Any]:
    """A bench run's results as bench/results.json holds them: a clean burst of 500, changed by `burst`."""
    clean = {
        "alerts": 500,
        "callers": 16,
        "accepted": 500,
        "refused": {},
        "accepted_per_s": 11.8,
        "delivered_per_s": 3.0,
        "baseline_accepts_per_s": 36.5,
        "ratio_accept_to_baseline": 0.32,
        "lost": 0,
        "duplicated": 0,
        "failed": 0,
        "not_ended": 0,
    }
    return {"intake": {"ratio_p50": 1.4, "ratio_p99": 1.3}, "burst": {**clean, **burst}}


def test_a_clean_run_passes() -> None:
    # Given a run where every burst alert was accepted, sent once and delivered
    # When it is judged
    found = verdict.failures(results())
    # Then nothing failed, and the final line says so
    assert found == []
    assert verdict.final_line(found).startswith("correctness: passed")


def test_a_lost_alert_fails_the_run_and_is_named() -> None:
    # Given a burst where one accepted alert was never sent
    # When it is judged
    found = verdict.failures(results(lost=1))
    # Then the run fails, naming the lost alert
    assert found == ["burst: 1 of 500 alerts lost (accepted, never sent)"]
    assert verdict.final_line(found) == "correctness: FAILED: burst: 1 of 500 alerts lost (accepted, never sent)"


def test_each_failed_check_is_named_in_the_final_line() -> None:
    # Given a burst with alerts refused, sent twice, failed and never ended
    run = results(accepted=497, refused={"500": 2, "503": 1}, duplicated=4, failed=1, not_ended=2)
    # When it is judged
    line = verdict.final_line(verdict.failures(run))
    # Then every one of them is in the final line
    assert line.startswith("correctness: FAILED: ")
    for named in ("3 of 500 alerts refused", "4 of 500 alerts sent more than once", "1 of 500 alerts ended failed"):
        assert named in line
    assert "2 of 500 alerts never ended" in line
    assert "lost" not in line


def test_slow_timings_and_poor_ratios_never_fail_the_run() -> None:
    # Given a clean burst on a machine so loaded every timing and ratio is far off its target
    run = results(accepted_per_s=0.1, delivered_per_s=0.01, ratio_accept_to_baseline=0.001)
    run["intake"] = {"ratio_p50": 40.0, "ratio_p99": 90.0}
    # When it is judged
    found = verdict.failures(run)
    # Then it passes: timings are reported, not judged
    assert found == []


def test_a_walk_that_never_moved_on_fails_the_run() -> None:
    # Given a clean burst, but 2 of 1,000 alerts whose addressee windows ended never started stage 1
    run = results()
    run["timers"] = {"alerts": 1000, "not_started": 2, "stage_start_lateness_s": {"p99": 90.0}}
    # When it is judged
    found = verdict.failures(run)
    # Then the run fails, naming them; their lateness, however large, is not judged
    assert found == ["timers: 2 of 1000 alerts never started stage 1 after the addressee's window ended"]


def test_late_timers_never_fail_the_run() -> None:
    # Given every stage 1 started, however late
    run = results()
    run["timers"] = {"alerts": 1000, "not_started": 0, "stage_start_lateness_s": {"p99": 90.0}}
    # When it is judged
    # Then it passes
    assert verdict.failures(run) == []
