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
