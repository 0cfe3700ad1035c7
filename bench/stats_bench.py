"""What the build's record counts (lod/statistics.py) cost and what they save.

    python bench/stats_bench.py SITE/dumps/dataset.nq.gz --copies 10 --work /dev/shm/statsbench

Loads a build's N-Quads dump into a store as the build's loader does (one bulk load, then
compaction; `--copies N` renames the records apart N times, as bench/store_bench.py does, so a
10k build's dump gives a store of ~100k records). Then, in a fresh process so that its memory
is its own, computes the counts as the build does at its end, and in another one with
COUNT(DISTINCT ?record) whatever the store holds, printing the seconds per question and the
process's anonymous memory before the step and at most during it. Last, with
the counts in the store, times each curated count query (vocab/queries/) against the direct
aggregation it replaced (tests/direct_queries/), taking turns, and checks both return the same
number of rows.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.store_bench import bulk_loaded, paired  # noqa: E402

BASE = "http://127.0.0.1:8000/"
DIRECT = ROOT / "tests" / "direct_queries"


def anon_mb() -> float:
    """The process's anonymous resident memory: a store on tmpfs is mapped into the process,
    and its pages, counted in the RSS, are no allocation of the step's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    return 0.0


class AnonPeak:
    """Samples anon_mb() every 20 ms in a thread; `peak` is the highest seen."""

    def __init__(self) -> None:
        self.peak = anon_mb()
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, anon_mb())
            time.sleep(0.02)

    def stop(self) -> float:
        self.running = False
        self.thread.join()
        return max(self.peak, anon_mb())


def count(store_dir: str, form: str) -> None:
    """The child: the build's statistics step on the store, as JSON on stdout. `form` "build"
    counts as the build does (lod.statistics.counting_queries); "distinct" keeps
    COUNT(DISTINCT ?record) whatever the store holds, as every build did before, and runs the
    questions only."""
    from pyoxigraph import NamedNode, Store

    from lod.publish.finish import in_graph
    from lod.statistics import (
        CUBES,
        REPEATS,
        counting_queries,
        cube_query,
        statistics_graph,
        write_statistics,
    )

    store = Store(store_dir)
    opened = anon_mb()
    sampler = AnonPeak()
    started = time.perf_counter()
    seconds: dict[str, tuple[float, int]] = {}
    if form == "build":
        queries = counting_queries(store)
        seconds[REPEATS] = (time.perf_counter() - started, 1)
    else:
        queries = {cube.slug: cube_query(cube.slug) for cube in CUBES}
    for cube in CUBES:
        started = time.perf_counter()
        rows = len(list(store.query(queries[cube.slug], use_default_graph_as_union=True)))
        seconds[cube.slug] = (time.perf_counter() - started, rows)
    total, triples = 0.0, 0
    if form == "build":
        started = time.perf_counter()
        site = Path(store_dir).parent
        written = write_statistics(site, BASE, BASE + "vocab/lod#", BASE + "dataset", store)
        store.bulk_extend(in_graph(written, NamedNode(statistics_graph(BASE))))
        store.flush()
        total, triples = time.perf_counter() - started, len(written)
    peak = sampler.stop()
    json.dump(
        {
            "seconds": seconds,
            "total": total,
            "triples": triples,
            "opened": opened,
            "peak": peak,
            "distinct": any("DISTINCT" in text for text in queries.values()),
        },
        sys.stdout,
    )


def main() -> None:
    from pyoxigraph import Store

    from lod.curated import load_curated

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dump", type=Path, help="a build's dumps/dataset.nq.gz")
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--work", type=Path, default=HERE / "out" / "statsbench")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--count-only", metavar="STORE", help=argparse.SUPPRESS)
    parser.add_argument("--form", choices=("build", "distinct"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count_only:
        count(args.count_only, args.form)
        return

    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    folder = args.work / "store"
    started = time.perf_counter()
    quads = bulk_loaded(args.dump, args.copies, args.work, folder)
    store = Store(str(folder))
    store.optimize()
    store.flush()
    del store
    print(
        f"{quads:,} quads ({args.copies} x {args.dump}), loaded and compacted in "
        f"{time.perf_counter() - started:.0f} s"
    )

    found = {
        form: json.loads(
            subprocess.run(
                [sys.executable, __file__, str(args.dump), "--count-only", str(folder)]
                + ["--form", form],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        for form in ("distinct", "build")
    }
    build, distinct = found["build"], found["distinct"]
    print()
    print(
        "| question | observations | seconds, COUNT(DISTINCT) | seconds, as the build counts "
        f"({'DISTINCT' if build['distinct'] else 'no DISTINCT'}) |"
    )
    print("|---|---:|---:|---:|")
    for slug, (seconds, rows) in build["seconds"].items():
        before, before_rows = distinct["seconds"].get(slug, (None, rows))
        if before_rows != rows:
            raise SystemExit(f"{slug}: {before_rows} observations with DISTINCT, {rows} without")
        asked = "not asked" if before is None else f"{before:.2f}"
        print(f"| {slug} | {rows:,} | {asked} | {seconds:.2f} |")
    print(
        f"\nThe process's anonymous memory with the store open, then at most during the step: "
        f"{distinct['opened']:.0f} / {distinct['peak']:.0f} MB with COUNT(DISTINCT) (the "
        f"questions only), {build['opened']:.0f} / {build['peak']:.0f} MB as the build counts "
        f"(the whole step: the questions, stats.ttl, into the store, {build['total']:.1f} s, "
        f"{build['triples']:,} triples).\n"
    )

    store = Store.read_only(str(folder))
    curated = {q.slug: q.sparql for q in load_curated()}
    print("| curated query | rows | every record, ms | the counts, ms | ratio |")
    print("|---|---:|---:|---:|---:|")
    for path in sorted(DIRECT.glob("*.rq")):

        def rows(text: str) -> int:
            return len(list(store.query(text, use_default_graph_as_union=True)))

        direct_text, counted_text = path.read_text(encoding="utf-8"), curated[path.stem]
        (direct_rows, direct), (counted_rows, counted) = paired(
            [lambda t=direct_text: rows(t), lambda t=counted_text: rows(t)], args.reps
        )
        if direct_rows != counted_rows:
            raise SystemExit(f"{path.stem}: {direct_rows} rows directly, {counted_rows} counted")
        print(
            f"| {path.stem} | {counted_rows:,} | {direct:,.1f} | {counted:,.1f} | "
            f"{direct / counted:,.1f}x |",
            flush=True,
        )


if __name__ == "__main__":
    main()
