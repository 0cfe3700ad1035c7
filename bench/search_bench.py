"""Benchmark the keyword index (lod.textindex): indexing rate and query latency.

    python bench/search_bench.py                    # 10k and 100k records
    python bench/search_bench.py --sizes 2000 --repeat 5

Generates synthetic records with bench/synth.py (the same CSV rows `make bench` builds, cached
under --work), reads them with lod's readers, and indexes title, summary, full text and the
names of linked people, places and subjects as `lod build` does, plus one entry per person,
place and subject. Only the TextIndexWriter calls are timed. Then runs QUERIES, each --repeat
times after one warm-up, through `TextIndex.search(q, limit=20)` (count + ranked page with
snippets) and `TextIndex.uris(q, limit=1000)`, and prints Markdown tables of median and p95.

The synthetic text draws every word from a vocabulary of 28, so a "common" word occurs in
every record: the worst case for ranking, which must score every match.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

QUERIES: list[tuple[str, str]] = [
    ("common word", "telegram"),
    ("common word", "embassy"),
    ("common word", "Comrade"),
    ("common word", "treaty"),
    ("rare word", "4711"),
    ("rare word", "Person1234"),
    ("rare word", "Given77"),
    ("rare word", "zanzibar"),
    ("two words", "border troops"),
    ("two words", "urgent minister"),
    ("two words", "Person12 treaty"),
    ("two words", "Memorandum 1999"),
    ("phrase", '"economic cooperation"'),
    ("phrase", '"foreign relations"'),
    ("phrase", '"secret telegram"'),
    ("phrase", '"Telegram from Person7"'),
    ("prefix", "negot*"),
    ("prefix", "tele*"),
    ("prefix", "Person12*"),
    ("prefix", "Given1*"),
]
"""(class, query): classes from a word in every record to one in none."""


Row = tuple[str, str, str, str, list[tuple[str, str]]]


def load(sources: Path) -> list[Row]:
    """(id, title, summary, text, [(kind, label) of linked entities]) per record."""
    from lod.authorities import display_name
    from lod.model import Record
    from lod.sources import read_sources

    rows = []
    for item in read_sources([sources]):
        if isinstance(item, Record):
            linked = [("agent", display_name(n)) for n in (*item.authors, *item.people)]
            linked += [("place", n) for n in item.places]
            linked += [("subject", n) for n in item.subjects]
            rows.append((item.id, item.title, item.summary, item.text, linked))
    return rows


def index(rows: list[Row], path: Path) -> float:
    """Seconds spent in TextIndexWriter for the records and their entities."""
    from lod.textindex import TextIndexWriter

    base = "http://127.0.0.1:8000/"
    entities: dict[tuple[str, str], None] = {}
    started = time.perf_counter()
    writer = TextIndexWriter(path)
    for record_id, title, summary, text, linked in rows:
        labels = [label for _kind, label in linked]
        writer.add(
            f"{base}record/{record_id}", "record", title, summary=summary, text=text, labels=labels
        )
        entities.update(dict.fromkeys(linked))
    for kind, label in sorted(entities):
        writer.add(f"{base}{kind}/{label}", kind, label, labels=[label])
    writer.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--work", type=Path, default=HERE / "out")
    args = parser.parse_args()
    from bench.synth import generate
    from bench.timing import p95, timings
    from lod.textindex import TextIndex

    summary = []
    per_query: dict[tuple[str, str], dict[int, tuple[int, float, float]]] = {}
    for size in args.sizes:
        sources = args.work / f"src-{size}"
        if not sources.exists():
            generate(size, sources)
        rows = load(sources)
        folder = args.work / f"search-{size}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        path = folder / "search.sqlite"
        seconds = index(rows, path)
        del rows
        text_index = TextIndex(path)
        all_search: list[float] = []
        all_uris: list[float] = []
        for cls, q in QUERIES:
            search = timings(lambda q=q, t=text_index: t.search(q, limit=20), args.repeat)
            uris = timings(lambda q=q, t=text_index: t.uris(q, limit=1000), args.repeat)
            all_search += search
            all_uris += uris
            total = text_index.search(q, limit=0).total
            per_query.setdefault((cls, q), {})[size] = (
                total,
                statistics.median(search),
                statistics.median(uris),
            )
        summary.append((size, seconds, path.stat().st_size / 2**20, all_search, all_uris))
        print(f"{size}: indexed in {seconds:.1f} s", file=sys.stderr)
        shutil.rmtree(folder, ignore_errors=True)

    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}; "
        f"{len(QUERIES)} queries x {args.repeat} runs; load average at the end "
        f"{os.getloadavg()[0]:.1f} (other processes slow the timings)\n"
    )
    print(
        "| records | index s | records/s | index MB | search ms median | search ms p95 "
        "| uris(1000) ms median | uris(1000) ms p95 |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, seconds, megabytes, search, uris in summary:
        print(
            f"| {size:,} | {seconds:.1f} | {size / seconds:,.0f} | {megabytes:.0f} "
            f"| {statistics.median(search):.1f} | {p95(search):.1f} "
            f"| {statistics.median(uris):.1f} | {p95(uris):.1f} |"
        )
    print()
    head = " | ".join(f"{s:,}: hits / search ms / uris ms" for s in args.sizes)
    print(f"| class | query | {head} |")
    print("|---|---|" + "---:|" * len(args.sizes))
    for (cls, q), by_size in per_query.items():
        cells = [
            f"{by_size[s][0]:,} / {by_size[s][1]:.1f} / {by_size[s][2]:.1f}" for s in args.sizes
        ]
        print(f"| {cls} | `{q}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
