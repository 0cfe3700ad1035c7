"""Benchmark incremental republishing: a full build of N synthetic records, then republishing
after changing one record, after deleting one, and with nothing changed.

    python bench/incremental_bench.py                      # 100k records
    python bench/incremental_bench.py --records 10000 --work /dev/shm/lod-inc

Each republish runs `lod build` over the previous output as a user would (a separate process,
so the full build's caches do not help). Prints a Markdown table with each time's ratio to the
full build.
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.synth import generate  # noqa: E402

BASE = "http://127.0.0.1:8000/"


def lod_build(sources: Path, out: Path) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lod"), "build", str(sources), "--out", str(out)]
        + ["--base-uri", BASE, "--no-progress"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 3):
        raise SystemExit(f"lod build failed: {result.stderr[-2000:]}")
    summary = re.search(
        r"\((incremental|full build): (\d+) created, (\d+) updated, (\d+) deleted\)", result.stderr
    )
    if summary is None:
        raise SystemExit(f"no summary from lod build: {result.stderr[-2000:]}")
    how, *counts = summary.groups()
    return elapsed, {
        "how": how,
        "changes": dict(zip(("created", "updated", "deleted"), counts, strict=True)),
    }


def edit(path: Path, row_index: int, *, drop: bool = False) -> str:
    """Change the title of one row (or drop it); return its record ID."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    target = body[row_index]
    record_id = target[header.index("record_id")]
    if drop:
        del body[row_index]
    else:
        target[header.index("title")] += " (corrected)"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *body])
    return record_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=HERE / "out" / "incremental")
    args = parser.parse_args()
    sources = args.work / f"src-{args.records}"
    out = args.work / f"site-{args.records}"
    if not sources.exists():
        generate(args.records, sources)
    shutil.rmtree(out, ignore_errors=True)
    print(f"\n{args.records:,} synthetic records, output in {args.work}\n")
    print("| build | how | seconds | share of the full build | created / updated / deleted |")
    print("|---|---|---:|---:|---|", flush=True)
    full, report = lod_build(sources, out)
    show("full build", full, full, report)
    files = sorted(sources.glob("*.csv"))
    middle = files[len(files) // 2]
    for name, change in (
        ("1 record changed", lambda: edit(middle, 17)),
        ("1 more record changed", lambda: edit(middle, 5000)),
        ("1 record deleted", lambda: edit(middle, 23, drop=True)),
        ("nothing changed", lambda: ""),
    ):
        change()
        seconds, report = lod_build(sources, out)
        show(name, seconds, full, report)


def show(name: str, seconds: float, full: float, report: dict[str, object]) -> None:
    changes = report.get("changes", {})
    assert isinstance(changes, dict)
    counts = " / ".join(str(changes.get(k, 0)) for k in ("created", "updated", "deleted"))
    how = report["how"]
    print(f"| {name} | {how} | {seconds:.1f} | {seconds / full:.1%} | {counts} |", flush=True)


if __name__ == "__main__":
    main()
