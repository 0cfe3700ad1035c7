"""Why the build's store loader compacts the store after its bulk load (lod/store.py).

    python bench/store_bench.py SITE/dumps/dataset.nq.gz --copies 10 --work /dev/shm/storebench

pyoxigraph's bulk load ingests every million quads as sorted files of their own; their key
ranges overlap, so a lookup reads one file per batch until the store is compacted, and a store
that is only read from afterwards is never compacted on its own. This loads a build's N-Quads
dump the way the loader does, once as the bulk load leaves it and once compacted
(`Store.optimize`), and times the curated queries (vocab/queries/) on both, taking turns.

`--copies N` loads the dump N times with the records renamed apart (`/record/syn-` becomes
`/record/syn{k}-`) and the entities shared, as N times the records would make them: a 10,000-
record build's dump gives a store of ~100,000 records in a minute or two instead of a 100k build.
Prints a Markdown table: load and compaction seconds, store files and size, and per query the
median milliseconds of each store and their ratio. The dump has no record counts (stats.ttl),
so the five curated count queries find nothing here; bench/stats_bench.py measures those.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.timing import alternated  # noqa: E402

RECORD = b"/record/syn-"


def copies(dump: Path, count: int, block: int = 1 << 24) -> Iterator[bytes]:
    """The dump's lines `count` times, the records of copy k renamed apart."""
    for k in range(count):
        renamed = b"/record/syn%d-" % k if count > 1 else RECORD
        with gzip.open(dump) as lines:
            rest = b""
            while data := lines.read(block):
                data = rest + data
                cut = data.rfind(b"\n") + 1
                rest = data[cut:]
                # A name cut at the block's end stays in `rest`: only whole lines are renamed.
                yield data[:cut].replace(RECORD, renamed)
            yield rest.replace(RECORD, renamed)


def write_stream(dump: Path, count: int, stream: Path) -> None:
    """copies() written to `stream`: one file that a single bulk load or the loader reads."""
    with stream.open("wb") as out:
        for data in copies(dump, count):
            out.write(data)


def bulk_loaded(dump: Path, count: int, work: Path, folder: Path) -> int:
    """The dump `count` times in a new store at `folder`, in one bulk load of one stream, as
    the loader reads its standard input (each bulk_load call would ingest files of its own,
    and the store would be split more than a build's is). Returns its number of quads."""
    from pyoxigraph import RdfFormat, Store

    stream = work / "stream.nq"
    write_stream(dump, count, stream)
    store = Store(str(folder))
    with stream.open("rb") as data:
        store.bulk_load(data, RdfFormat.N_QUADS, lenient=True)
    store.flush()
    quads = len(store)
    stream.unlink()
    return quads


def paired(calls: list[Callable[[], int]], reps: int) -> list[tuple[int, float]]:
    """Each call's row count and median milliseconds, the calls taking turns (bench.timing)."""
    rows = [0] * len(calls)

    def run(index: int) -> None:
        rows[index] = calls[index]()

    runs = alternated([lambda i=i: run(i) for i in range(len(calls))], reps)
    return [(rows[i], statistics.median(r)) for i, r in enumerate(runs)]


def size_of(folder: Path) -> tuple[int, float]:
    files = [p for p in folder.iterdir() if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files) / 2**30


def main() -> None:
    from pyoxigraph import Store

    from lod.curated import load_curated

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dump", type=Path, help="a build's dumps/dataset.nq.gz")
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--work", type=Path, default=HERE / "out" / "storebench")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()

    loaded, compacted = args.work / "as-loaded", args.work / "compacted"
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    started = time.perf_counter()
    quads = bulk_loaded(args.dump, args.copies, args.work, loaded)
    load_s = time.perf_counter() - started
    shutil.copytree(loaded, compacted)
    started = time.perf_counter()
    store = Store(str(compacted))
    store.optimize()
    store.flush()
    del store
    optimize_s = time.perf_counter() - started

    stores = [Store.read_only(str(loaded)), Store.read_only(str(compacted))]
    print(f"{quads:,} quads ({args.copies} x {args.dump}); bulk load {load_s:.1f} s, ", end="")
    print(f"compaction {optimize_s:.1f} s")
    for name, folder in (("as loaded", loaded), ("compacted", compacted)):
        files, gib = size_of(folder)
        print(f"- {name}: {files} files, {gib:.2f} GiB")
    print()
    print("| query | rows | as loaded ms | compacted ms | as loaded / compacted |")
    print("|---|---:|---:|---:|---:|")
    ratios = []
    for query in load_curated():

        def rows(index: int, text: str = query.sparql) -> int:
            return len(list(stores[index].query(text, use_default_graph_as_union=True)))

        (before_rows, before), (after_rows, after) = paired(
            [lambda i=i: rows(i) for i in range(len(stores))], args.reps
        )
        if before_rows != after_rows:
            raise SystemExit(f"{query.slug}: {before_rows} rows as loaded, {after_rows} compacted")
        ratios.append(before / after)
        print(
            f"| {query.slug} | {after_rows:,} | {before:,.1f} | {after:,.1f} | "
            f"{before / after:.2f}x |",
            flush=True,
        )
    print(f"| **median of the ratios** | | | | **{statistics.median(ratios):.2f}x** |")


if __name__ == "__main__":
    main()
