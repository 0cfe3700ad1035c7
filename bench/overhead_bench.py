"""What a SPARQL request costs lod beyond its own query path: each curated query through
`lod serve`'s /sparql and through lod.sparql.answer_query in this process on the same store
(what a query process runs: the token check, the capped query, pyoxigraph's writer), in turns.
The difference is HTTP, the hand-over to the query process and back, and the wake-ups between.

    python bench/overhead_bench.py SITE [--reps 15]

SITE is a `lod build` output (the suite keeps its 10k build in --work as site-10000).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.suite import Client, count_rows, http_runner, lod_serving, time_together  # noqa: E402
from lod.config import Config  # noqa: E402
from lod.curated import load_curated  # noqa: E402
from lod.sparql import LocalBuild  # noqa: E402


def in_process(site: Path) -> Callable[[str], Callable[[], int]]:
    """A runner per query doing what a query process does, on the build's store and index."""
    build = LocalBuild.open(site)
    row_limit = Config().query_row_limit

    def make(query: str) -> Callable[[], int]:
        def run() -> int:
            # the HTTP runner parses its answer too
            return count_rows(build.answer(query, "json", row_limit).body)

        return run

    return make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--reps", type=int, default=15)
    args = parser.parse_args()
    make = in_process(args.site)
    rows = []
    with lod_serving(args.site) as url:
        client = Client(url)
        for query in load_curated():
            cells = time_together(
                [http_runner(client, query.sparql), make(query.sparql)], args.reps
            )
            if any(isinstance(c, str) for c in cells):
                print(f"| {query.slug} | error: {cells} | | |")
                continue
            (http_ms, _, n), (local_ms, _, m) = cells  # type: ignore[misc]
            assert n == m, f"{query.slug}: {n} rows over HTTP, {m} in process"
            rows.append((query.slug, n, http_ms, local_ms))
    print("| query | rows | /sparql ms | in process ms | difference ms |")
    print("|---|---:|---:|---:|---:|")
    for slug, n, http_ms, local_ms in rows:
        print(f"| {slug} | {n} | {http_ms:.2f} | {local_ms:.2f} | {http_ms - local_ms:.2f} |")
    differences = [h - loc for _, _, h, loc in rows]
    print(
        f"| **median** | | **{statistics.median(r[2] for r in rows):.2f}** | "
        f"**{statistics.median(r[3] for r in rows):.2f}** | "
        f"**{statistics.median(differences):.2f}** |"
    )


if __name__ == "__main__":
    main()
