"""Timing helpers the benchmark scripts share: repeated runs after a warm-up, in milliseconds."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def timings(call: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds of `repeat` calls, after one warm-up call that is not counted."""
    call()
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def p95(values: list[float]) -> float:
    return (
        statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 else values[0]
    )


def median_p95(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    runs = timings(call, repeat)
    return statistics.median(runs), p95(runs)


def alternated(calls: list[Callable[[], object]], repeat: int) -> list[list[float]]:
    """Milliseconds of `repeat` rounds of each call, taking turns (a, b, a, b, ...) after one
    warm-up round: two ways of doing one thing compared side by side, so that a machine that
    speeds up or slows down during the run (a VM's neighbours, CPU frequency) weighs on both
    alike, as it would not if one ran all its rounds before the other."""
    for call in calls:
        call()
    out: list[list[float]] = [[] for _ in calls]
    for _ in range(repeat):
        for runs, call in zip(out, calls, strict=True):
            started = time.perf_counter()
            call()
            runs.append((time.perf_counter() - started) * 1000)
    return out
