"""The streaming bound through every phase of `lod build`, on a disk too small for the site.

    python bench/bound_bench.py --sizes 100000 1000000 --work /big/disk

A full build of 1M synthetic records writes ~150 GB, most of it the per-resource documents
(~85 GB) and the dumps (~27 GB); the memory bound (peak RSS at 1M within 1.5x the peak at
100k) is about the build's processes, which write those files and keep nothing of them. So
this script runs the real `lod build` in a child process with two writes left out: record
documents go to no file (`writer.write_files`; entity and dataset documents are written), and
dump bytes are hashed and counted but not stored (`dumps._Out._emit`). Everything else is the
real build on the real disk: reading, mapping, serializing every format, SHACL, the store
loader and its compaction, the keyword index, the state file, the change log, the index pages
and sitemaps, the dataset description and the record counts over the whole store
(tests/test_bound_bench.py checks that the two builds differ in nothing else).

Every 15 s it logs how many records have streamed and the build's processes (RSS and
high-water mark, from /proc) to WORK/bound-SIZE.log, so a run cut short still tells how far it
got and what it held; the line where the store loader has exited marks the end of the record
phase. It ends with each size's peaks (getrusage: the main process, and the largest child) and
their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from bench.build_bench import timed  # noqa: E402
from bench.suite import sources_for  # noqa: E402

SAMPLE_SECONDS = 15.0
RECORD_DOCUMENTS = "doc/record/"
"""Left out: the five documents of each record. Entity and dataset documents (a few
thousand, read again by the end phases) are written."""


def progress_file(out: Path) -> Path:
    """Where the lean build writes how many records have streamed, for the sampler."""
    return out.parent / f"{out.name}.records"


def step_file(out: Path) -> Path:
    """Where the lean build names the step it is in, for the step sampler."""
    return out.parent / f"{out.name}.step"


STEP_SECONDS = 0.25
STEPS = (
    ("lod.publish.site", "index_entity", "entities"),
    ("lod.publish.dumps", "DumpWriter.close", "dumps: close"),
    ("lod.store", "StreamLoader.close", "store loader: finish and compact"),
    ("lod.textindex", "TextIndexWriter.__exit__", "keyword index: close"),
    ("lod.publish.site", "_write_static", "static files"),
    ("lod.publish.site", "carry_log", "change log: carry"),
    ("lod.changelog", "ChangeLog.record", "change log: record"),
    ("lod.publish.site", "Store", "store: open"),
    ("lod.publish.site", "describe", "dataset description"),
    ("lod.publish.site", "write_statistics", "record counts"),
    ("lod.publish.site", "write_pages", "index pages and sitemaps"),
    ("lod.changelog", "ChangeLog.close", "change log: close"),
    ("lod.publish.state", "BuildState.commit", "state file: commit"),
    ("lod.publish.site", "publish_log", "change log: publish"),
)
"""The steps of the build after its records, as (module, attribute, label): each call names its
step while it runs, and what follows until the next step is "after" it (after "store: open" is
counting the quads; after "record counts", adding them to the store)."""
PHASES = {"entities"}
"""Steps that start a phase: named at their call, not ended by its return (the entities' pages
are written after their keyword entries)."""


def name_steps(path: Path) -> None:
    """Wrap the STEPS so that the build writes which one it is in to `path`, for a sampler in
    another process (a thread here would stall in any call that holds the interpreter lock)."""
    import functools
    import importlib

    current = [""]

    def mark(label: str) -> None:
        if label != current[0]:
            current[0] = label
            path.with_suffix(".next").write_text(label + "\n")
            os.replace(path.with_suffix(".next"), path)

    def wrapped(call: Any, label: str) -> Any:
        @functools.wraps(call)
        def step(*args: Any, **kwargs: Any) -> Any:
            mark(label)
            try:
                return call(*args, **kwargs)
            finally:
                if label not in PHASES:
                    mark(f"after {label}")

        return step

    mark("records")
    for module, attribute, label in STEPS:
        owner: Any = importlib.import_module(module)
        *outer, name = attribute.split(".")
        for part in outer:
            owner = getattr(owner, part)
        setattr(owner, name, wrapped(getattr(owner, name), label))


def counting_bar(path: Path) -> type:
    """The build's progress bar, counting records into `path` (a disabled bar counts nothing,
    and the build's own counts are in a process the sampler cannot read)."""
    from tqdm import tqdm

    class Counting(tqdm):  # type: ignore[type-arg]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.records = 0
            self.written = time.monotonic()

        def update(self, n: float | None = 1) -> bool | None:
            self.records += int(n or 0)
            if time.monotonic() - self.written >= SAMPLE_SECONDS / 3:
                self.write_count()
            return super().update(n)

        def close(self) -> None:
            self.write_count()
            super().close()

        def write_count(self) -> None:
            path.write_text(f"{self.records}\n")
            self.written = time.monotonic()

    return Counting


def lean_build(sources: Path, out: Path) -> dict[str, float]:
    """`lod build` with record documents and dump bytes not stored (the module docstring says
    why)."""
    from lod.config import load_config
    from lod.publish import dumps, site, writer
    from lod.publish.site import build

    def hash_only(self: dumps._Out, data: bytes | memoryview) -> None:
        self.digest.update(data)
        self.offset += len(data)

    write_files = writer.write_files

    def entity_documents_only(
        root: Path, files: Iterable[tuple[str, bytes]], made: set[str]
    ) -> None:
        write_files(root, [f for f in files if not f[0].startswith(RECORD_DOCUMENTS)], made)

    # Patched before the build forks its workers, so they inherit it.
    writer.write_files = entity_documents_only  # type: ignore[assignment]
    dumps._Out._emit = hash_only  # type: ignore[method-assign]
    site.tqdm = counting_bar(progress_file(out))  # type: ignore[attr-defined]
    name_steps(step_file(out))
    # Settings as `lod build` reads them (lod.toml, LOD_*, SOURCE_DATE_EPOCH); the base URI fixed.
    config = load_config(overrides={"base_uri": "http://127.0.0.1:8000/", "progress": False})
    report = build([sources], out, config)
    return {"records": report.published, "triples": report.triples}


def _status(pid: int) -> tuple[str, int, int]:
    """(command, RSS MB, high-water mark MB) of a process, from /proc."""
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        command = handle.read().replace(b"\0", b" ").decode(errors="replace")
    fields = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            fields[key] = value.split()[0] if value.split() else "0"
    return command, int(fields.get("VmRSS", 0)) // 1024, int(fields.get("VmHWM", 0)) // 1024


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    todo.extend(int(c) for c in handle.read().split())
        except OSError:
            continue
    return found


def _sample(pid: int, log: Path, counted: Path, done: threading.Event) -> None:
    """One line per SAMPLE_SECONDS: elapsed seconds, records streamed, then role=RSS/HWM MB of
    each process."""
    started = time.monotonic()
    with log.open("a") as out:
        while not done.wait(SAMPLE_SECONDS):
            try:
                records = counted.read_text().strip() or "0"
            except OSError:
                records = "0"
            cells = [f"records={records}"]
            for number in _tree(pid):
                try:
                    command, rss, hwm = _status(number)
                except OSError:
                    continue
                role = "main" if number == pid else "loader" if "lod.store" in command else "child"
                cells.append(f"{role}={rss}/{hwm}")
            out.write(f"{time.monotonic() - started:7.0f}s {' '.join(cells)}\n")
            out.flush()


def _sample_steps(pid: int, named: Path, table: Path, done: threading.Event) -> None:
    """Every STEP_SECONDS, the main process's RSS against the step the build names; each step's
    seconds, RSS at its start, peak and RSS at its end go to `table` as the steps change."""
    rows: dict[str, list[float]] = {}
    order: list[str] = []
    started = time.monotonic()
    while not done.wait(STEP_SECONDS):
        try:
            label = named.read_text().strip()
            rss = float(_status(pid)[1])
        except OSError:
            continue
        now = time.monotonic() - started
        if label not in rows:
            rows[label] = [now, now, rss, rss, rss]
            order.append(label)
            _write_steps(table, order, rows)
        row = rows[label]
        row[1], row[3], row[4] = now, max(row[3], rss), rss
    _write_steps(table, order, rows)


def _write_steps(table: Path, order: list[str], rows: dict[str, list[float]]) -> None:
    lines = [
        "| step | from s | to s | main RSS at start MB | peak MB | at end MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label in order:
        first, last, start, peak, end = rows[label]
        lines.append(
            f"| {label} | {first:.1f} | {last:.1f} | {start:.0f} | {peak:.0f} | {end:.0f} |"
        )
    table.write_text("\n".join(lines) + "\n")


def measure(size: int, work: Path) -> dict[str, float]:
    sources = sources_for(work, size)
    out = work / f"bound-{size}"
    shutil.rmtree(out, ignore_errors=True)
    progress_file(out).unlink(missing_ok=True)
    step_file(out).unlink(missing_ok=True)
    log = work / f"bound-{size}.log"
    log.write_text(
        f"lean lod build of {size:,} records, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n"
    )
    with (work / f"bound-{size}.stderr").open("w") as errors:
        child = subprocess.Popen(
            [sys.executable, __file__, "--child", str(sources), str(out)],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        done = threading.Event()
        sampler = threading.Thread(
            target=_sample, args=(child.pid, log, progress_file(out), done), daemon=True
        )
        stepper = threading.Thread(
            target=_sample_steps,
            args=(child.pid, step_file(out), work / f"bound-{size}.steps.md", done),
            daemon=True,
        )
        sampler.start()
        stepper.start()
        stdout, _ = child.communicate()
        done.set()
        sampler.join()
        stepper.join()
    if child.returncode != 0:
        raise RuntimeError(
            f"the {size:,} build failed (exit {child.returncode}): see {errors.name}"
        )
    result: dict[str, float] = json.loads(stdout.strip().splitlines()[-1])
    with log.open("a") as handle:
        handle.write(json.dumps(result) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--work", type=Path, default=HERE / "out")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(timed(lean_build, Path(args.child[0]), Path(args.child[1]))))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    results = {size: measure(size, args.work) for size in args.sizes}
    print("| records | s | CPU s | peak RSS MB, main | largest child | main / first size |")
    print("|---:|---:|---:|---:|---:|---:|")
    first = results[args.sizes[0]]
    for size, r in results.items():
        ratio = r["peak_rss_mb"] / first["peak_rss_mb"]
        print(
            f"| {size:,} | {r['seconds']:,.0f} | {r['cpu_seconds']:,.0f} | "
            f"{r['peak_rss_mb']:,.0f} | {r['child_peak_rss_mb']:,.0f} | {ratio:.2f}x |"
        )


if __name__ == "__main__":
    main()
