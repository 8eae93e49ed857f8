"""The bench's verdict: which correctness checks failed. Timings and ratios are reported, never judged (these
machines are shared and noisy); an alert refused, lost, sent twice, failed or never ended is a fault anywhere, and
so is a walk that never moved on when its window ended."""

from __future__ import annotations

from typing import Any

# burst figure -> what a non-zero count means
BURST_CHECKS = {
    "refused": "refused (an answer other than 202)",
    "lost": "lost (accepted, never sent)",
    "duplicated": "sent more than once",
    "failed": "ended failed instead of delivered",
    "not_ended": "never ended (no delivered or failed event)",
}


def failures(results: dict[str, Any]) -> list[str]:
    """One line per correctness check that failed in `results` (as bench/results.json holds them)."""
    burst = results["burst"]
    counts = {key: burst.get(key, 0) for key in BURST_CHECKS}
    counts["refused"] = sum(burst.get("refused", {}).values())
    found = [f"burst: {n} of {burst['alerts']} alerts {BURST_CHECKS[k]}" for k, n in counts.items() if n]
    timers = results.get("timers")  # absent when not measured
    if timers and timers["not_started"]:
        found.append(
            f"timers: {timers['not_started']} of {timers['alerts']} alerts never started stage 1"
            " after the addressee's window ended"
        )
    return found


def final_line(found: list[str]) -> str:
    if not found:
        return (
            "correctness: passed (burst: no alert refused, lost, duplicated, failed or left unended;"
            " timers: every walk moved on)"
        )
    return "correctness: FAILED: " + "; ".join(found)
