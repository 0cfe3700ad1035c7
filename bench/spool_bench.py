"""Peak RSS of reading back the build's spool of change-log states, the first step after the
store load.

    python bench/spool_bench.py --states 1000000

A 1M build's main process grew by ~1 GB in that step (README, "Its 1M run"). Run it from a
checkout of each commit to compare.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lod.changelog import State  # noqa: E402
from lod.publish.spool import Spool  # noqa: E402


def peak_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--states", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, Spool[State](Path(folder)) as spool:
        for n in range(args.states):
            spool.add(
                State(
                    f"http://127.0.0.1:8000/record/syn-{n}",
                    "record",
                    f"{n:064x}",
                    3000 + n % 500,
                    f"Report from Person{n % 2000} about government {n}",
                    ("type:report", "archive:avprf"),
                )
            )
        before = peak_mb()
        started = time.perf_counter()
        read = sum(1 for _ in spool)
        seconds = time.perf_counter() - started
    print(
        f"read {read:,} states in {seconds:.1f} s; peak RSS {before} MB before reading, "
        f"{peak_mb()} MB after"
    )


if __name__ == "__main__":
    main()
