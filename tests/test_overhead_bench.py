"""bench/overhead_bench.py, whose figure the README quotes, runs on a real build: every curated
query answers the same rows through /sparql as in process, and the table has a row for each."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from lod.curated import load_curated
from tests.conftest import ROOT


def test_the_overhead_table_has_every_curated_query(records_site: Path) -> None:
    done = subprocess.run(
        [sys.executable, "bench/overhead_bench.py", str(records_site), "--reps", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    lines = done.stdout.splitlines()
    rows = {line.split(" | ")[0].lstrip("| "): line for line in lines if line.startswith("| ")}
    for query in load_curated():
        cells = rows[query.slug].strip("| ").split(" | ")
        assert int(cells[1]) >= 0 and float(cells[2]) > 0 and float(cells[3]) > 0, cells
    http_ms, local_ms, _ = re.findall(r"-?\d+\.\d+", rows["**median**"])
    assert float(http_ms) > 0 and float(local_ms) > 0
