"""bench/wake_bench.py, whose figures the README quotes to explain what is left of the SPARQL
overhead: a row per compute time, each hand-over slower than the work it carried."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_the_wake_table_has_a_row_per_compute_time() -> None:
    done = subprocess.run(
        [sys.executable, "bench/wake_bench.py", "--reps", "3", "--computes", "0,1.5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows = [line.strip("| ").split(" | ") for line in done.stdout.splitlines()[2:]]
    assert [row[0] for row in rows] == ["0", "1.5"]
    for row in rows:
        asleep, polling, wake = (float(cell) for cell in row[1:])
        # the round trip less the answer's compute time: the pipe's own cost, never free
        assert asleep > 0 and polling > 0
        assert abs(asleep - polling - wake) < 0.002
