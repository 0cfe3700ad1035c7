"""The benchmark suite of issue 6: every figure the README quotes, measured side by side in one
run on one machine, written as one Markdown report.

    python bench/suite.py --sizes 10000,100000 --out bench/out/suite.md
    python bench/suite.py --sizes 2000 --reps 3 --wrk-seconds 2          # quick run
    make bench

For each size (synthetic records from bench/synth.py, kept in --work and reused):
- build: `lod build`, the plain rdflib pipeline (lod's readers and mapping, an rdflib Graph per
  resource with the same triples, Turtle per resource, one N-Triples dump) and the raw
  pyoxigraph floor (lod's N-Quads dump loaded into a pyoxigraph store and written out the same
  way), each in its own process (bench/build_bench.py): records/s, peak RSS, output size;
- lod's peak RSS from size to size: the streaming bound (1M within 1.5x of 100k).
At --serve-size (default: the largest size), on the lod build of that size:
- SPARQL latency of the curated queries (vocab/queries/) through `lod serve`'s /sparql on the
  embedded store, raw pyoxigraph in-process on the same store, and the Oxigraph server and
  Virtuoso (tests/store_servers.py starts them) both directly and through `lod serve --store`;
- record dereference requests/s of `lod serve` against nginx with deploy/nginx.conf (wrk).
A server or tool that is not installed leaves its column empty with a note.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.build_bench import measure  # noqa: E402
from bench.serve_bench import Server, free_port, lod_server, nginx_server, wrk  # noqa: E402
from bench.synth import generate  # noqa: E402
from bench.timing import alternated, p95  # noqa: E402
from lod.statistics import STATS_FILE  # noqa: E402

BASE = "http://127.0.0.1:8000/"
JSON_RESULTS = "application/sparql-results+json"
STREAMING_BOUND = 1.5
"""Issue 6: peak RSS at 1M records no more than 1.5x the peak at 100k."""


# -- the machine ---------------------------------------------------------------------------


def describe_machine(work: Path) -> str:
    """CPU, cores, RAM, the disk holding `work`, Python and the RDF libraries, the date and
    the code measured: what a reader needs to compare these figures with their own."""
    import pyoxigraph
    import rdflib

    cpu = platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    disk = subprocess.run(
        ["findmnt", "-n", "-o", "SOURCE,FSTYPE", "-T", str(work)], capture_output=True, text=True
    ).stdout.split()
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem_kb / 2**20:.0f} GiB RAM, work folder on "
        f"{' '.join(disk) or 'unknown disk'}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, pyoxigraph {pyoxigraph.__version__}, "
        f"rdflib {rdflib.__version__}; lod at {commit or 'unknown commit'}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average at start {load}."
    )


# -- building ------------------------------------------------------------------------------

PIPELINES = ("lod", "rdflib-plain", "pyoxigraph")


def sources_for(work: Path, size: int) -> Path:
    folder = work / f"src-{size}"
    if not folder.exists():
        print(f"generating {size:,} records", file=sys.stderr)
        generate(size, folder)
    return folder


def run_builds(
    work: Path, size: int, wanted: set[str], rdflib_max: int, keep: bool
) -> dict[str, dict[str, float] | None]:
    """The pipelines `wanted` on `size` records (lod always: the floor reads its N-Quads
    dump); lod's output stays when `keep`, for the serve part. Each result is printed as it
    comes, so a run cut short still leaves its figures."""
    sources = sources_for(work, size)
    site = work / f"site-{size}"
    results: dict[str, dict[str, float] | None] = dict.fromkeys(PIPELINES)

    def run(name: str, source: Path, out: Path) -> None:
        print(f"{size:,}: {name} ...", file=sys.stderr)
        results[name] = measure(name, source, out, keep=name == "lod")
        print(f"{size:,}: {name} {json.dumps(results[name])}", file=sys.stderr)

    run("lod", sources, site)
    if "pyoxigraph" in wanted:
        run("pyoxigraph", site / "dumps" / "dataset.nq.gz", work / "floor-site")
    if not keep:
        shutil.rmtree(site)
    if "rdflib-plain" in wanted and size <= rdflib_max:
        run("rdflib-plain", sources, work / "rdflib-site")
    return results


def build_tables(rows: dict[int, dict[str, dict[str, float] | None]]) -> list[str]:
    lines = [
        "| records | pipeline | s | records/s | CPU s | peak RSS MB (main / largest child) "
        "| output MB |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for size, results in rows.items():
        for name in PIPELINES:
            r = results[name]
            if r is None:
                lines.append(f"| {size:,} | {name} | not run | | | | |")
                continue
            lines.append(
                f"| {size:,} | {name} | {r['seconds']:.1f} | {size / r['seconds']:,.0f} | "
                f"{r.get('cpu_seconds', 0):.0f} | "
                f"{r['peak_rss_mb']:.0f} / {r['child_peak_rss_mb']:.0f} | {r['size_mb']:,.0f} |"
            )
    lines += [
        "",
        "| records | lod / rdflib records/s (goal >= 8x) | lod time / pyoxigraph floor time "
        "(goal <= 2x) |",
        "|---:|---:|---:|",
    ]
    for size, results in rows.items():
        lod, base, floor = (results[n] for n in ("lod", "rdflib-plain", "pyoxigraph"))
        assert lod is not None
        speedup = f"{base['seconds'] / lod['seconds']:.1f}x" if base else "not run"
        to_floor = f"{lod['seconds'] / floor['seconds']:.1f}x" if floor else "not run"
        lines.append(f"| {size:,} | {speedup} | {to_floor} |")
    return lines


def memory_table(rows: dict[int, dict[str, dict[str, float] | None]]) -> list[str]:
    """lod's peak RSS at each size and its growth from the size before: the streaming bound."""
    lines = [
        "| records | lod main process peak MB | largest child peak MB | growth from previous size |",
        "|---:|---:|---:|---:|",
    ]
    previous: tuple[int, float, float] | None = None
    for size, results in rows.items():
        lod = results["lod"]
        assert lod is not None
        main, child = lod["peak_rss_mb"], lod["child_peak_rss_mb"]
        growth = ""
        if previous:
            growth = (
                f"x{size / previous[0]:g} records: main {main / previous[1]:.2f}x, "
                f"child {child / previous[2]:.2f}x"
            )
        lines.append(f"| {size:,} | {main:.0f} | {child:.0f} | {growth} |")
        previous = (size, main, child)
    small, large = rows.get(100_000, {}).get("lod"), rows.get(1_000_000, {}).get("lod")
    if small and large:
        worst = max(
            large["peak_rss_mb"] / small["peak_rss_mb"],
            large["child_peak_rss_mb"] / small["child_peak_rss_mb"],
        )
        verdict = "met" if worst <= STREAMING_BOUND else "not met"
        lines += [
            "",
            f"1M against 100k: {worst:.2f}x at most (bound {STREAMING_BOUND}x): {verdict}.",
        ]
    return lines


# -- SPARQL --------------------------------------------------------------------------------


@dataclass
class Column:
    """One way of answering the queries: its name, and per query (median, p95, rows) or why
    not; `skipped` says why the whole column is empty."""

    name: str
    cells: dict[str, tuple[float, float, int] | str] = field(default_factory=dict)
    skipped: str = ""


def time_query(call: Callable[[], int], reps: int) -> tuple[float, float, int] | str:
    """Median and p95 in ms of `reps` runs after a warm-up, and the row count the last run
    returned; an error's first line instead, so one failing query does not end the run."""
    return time_together([call], reps)[0]


def time_together(
    calls: list[Callable[[], int]], reps: int
) -> list[tuple[float, float, int] | str]:
    """time_query for calls that answer the same query in different ways, run in turns."""
    rows: list[list[int]] = [[] for _ in calls]
    counted = [
        (lambda call=call, out=out: out.append(call()))
        for call, out in zip(calls, rows, strict=True)
    ]
    try:
        runs = alternated(counted, reps)
    except (http.client.HTTPException, RuntimeError, OSError, ValueError) as exc:
        why = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
        return [why for _ in calls]
    return [(statistics.median(r), p95(r), out[-1]) for r, out in zip(runs, rows, strict=True)]


def count_rows(body: bytes) -> int:
    data = json.loads(body)
    return len(data["results"]["bindings"]) if "results" in data else 1


class Client:
    """A keep-alive HTTP/1.1 client as thin as the standard library allows, for every HTTP
    column alike: requests spends about a millisecond of Python per call, which the tables
    would count as the server's."""

    def __init__(self, url: str, fresh: bool = False) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "", parts.port or 80, parts.path
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
        self.fresh = fresh
        """A new connection per request: Virtuoso answers some queries ~40 ms later on a
        kept-alive connection than on a new one, a delay of its sending, not of the query."""

    def post(self, form: dict[str, str], headers: dict[str, str]) -> tuple[int, bytes]:
        body = urlencode(form)
        headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        for attempt in (1, 2):
            try:
                if self.fresh:
                    self.connection.close()
                self.connection.request("POST", self.path, body, headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionError):
                # The server closed the kept-alive connection: once more on a new one.
                self.connection.close()
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def http_runner(client: Client, query: str) -> Callable[[], int]:
    def run() -> int:
        # no-cache: lod serve would otherwise answer a repeated query from its answer cache
        headers = {"Accept": JSON_RESULTS, "Cache-Control": "no-cache"}
        status, body = client.post({"query": query}, headers)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body[:200]!r}")
        return count_rows(body)

    return run


def raw_runner(store: Any, query: str) -> Callable[[], int]:
    """The query on pyoxigraph in-process, seeing the union of the named graphs as lod's
    endpoint does, its results written as SPARQL JSON: the floor under the endpoint."""
    from pyoxigraph import QueryResultsFormat, QuerySolutions

    def run() -> int:
        result = store.query(query, base_iri=BASE, use_default_graph_as_union=True)
        if isinstance(result, QuerySolutions):
            return count_rows(result.serialize(format=QueryResultsFormat.JSON))
        return 1

    return run


@contextmanager
def lod_serving(site: Path, store: str | None = None) -> Iterator[str]:
    """`lod serve` on a free port (from --store when given); yields its /sparql URL."""
    port = free_port()
    argv = [sys.executable, "-m", "lod.cli", "serve", str(site), "--port", str(port)]
    if store:
        argv += ["--store", store]
    server = Server(argv, f"http://127.0.0.1:{port}/robots.txt")
    try:
        yield f"http://127.0.0.1:{port}/sparql"
    finally:
        server.stop()


def load_virtuoso(folder: Path, site: Path) -> None:
    """Virtuoso's bulk loader on lod's N-Quads dump (a graph per resource, as `lod push`
    writes them) and the build's record counts (stats.ttl, in its graph, as `lod push` sends
    it); the files go into the server's folder, the one directory it may read."""
    os.link(site / "dumps" / "dataset.nq.gz", folder / "dataset.nq.gz")
    os.link(site / STATS_FILE, folder / STATS_FILE)
    ini = (folder / "virtuoso.ini").read_text()
    sql_port = ini.split("[Parameters]")[1].split("ServerPort = ")[1].split()[0]
    isql = shutil.which("isql-vt") or shutil.which("isql") or "isql-vt"
    script = (
        f"ld_dir('.', 'dataset.nq.gz', '{BASE}'); ld_dir('.', '{STATS_FILE}', "
        f"'{BASE}{STATS_FILE}'); rdf_loader_run(); checkpoint;"
    )
    subprocess.run(
        [isql, sql_port, "dba", "dba", "exec=" + script],
        check=True,
        capture_output=True,
        timeout=3600,
    )


def sparql_columns(site: Path, work: Path, reps: int) -> tuple[list[Column], dict[str, str]]:
    from pyoxigraph import Store

    from lod.curated import load_curated
    from tests.store_servers import oxigraph, oxigraph_command, virtuoso, virtuoso_binaries

    queries = {q.slug: q.sparql for q in load_curated()}

    def run_all(column: Column, make: Callable[[str], Callable[[], int]]) -> Column:
        for slug, text in queries.items():
            column.cells[slug] = time_query(make(text), reps)
        print(f"sparql: {column.name} done", file=sys.stderr)
        return column

    # The endpoint and the floor it is held to run each query in turns, on the same store.
    embedded, raw = Column("lod serve, embedded"), Column("raw pyoxigraph")
    store = Store.read_only(str(site / "store"))
    with lod_serving(site) as url:
        client = Client(url)
        for slug, text in queries.items():
            embedded.cells[slug], raw.cells[slug] = time_together(
                [http_runner(client, text), raw_runner(store, text)], reps
            )
    print("sparql: lod serve, embedded and raw pyoxigraph done", file=sys.stderr)
    columns = [embedded, raw]

    servers: list[tuple[str, Callable[[Path], Any], bool]] = [
        ("Oxigraph server", oxigraph, oxigraph_command() is not None),
        ("Virtuoso", virtuoso, virtuoso_binaries() is not None),
    ]
    for name, start, present in servers:
        direct, proxied = Column(f"{name} direct"), Column(f"lod serve --store {name}")
        fresh = Column(f"{name} direct, a new connection each query")
        if not present:
            direct.skipped = proxied.skipped = fresh.skipped = f"{name} is not installed"
            columns += [direct, fresh, proxied]
            continue
        folder = work / f"{name.split()[0].lower()}-server"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        started = time.monotonic()
        if name.startswith("Oxigraph"):
            # The same RocksDB files lod serves from, so both answer from identical data.
            shutil.copytree(site / "store", folder / "data")
        with start(folder) as server:
            if name == "Virtuoso":
                load_virtuoso(folder, site)
            print(f"sparql: {name} loaded in {time.monotonic() - started:.0f} s", file=sys.stderr)
            straight = Client(server.query)
            run_all(direct, lambda q, c=straight: http_runner(c, q))
            anew = Client(server.query, fresh=True)
            run_all(fresh, lambda q, c=anew: http_runner(c, q))
            with lod_serving(site, server.query) as url:
                through = Client(url)
                run_all(proxied, lambda q, c=through: http_runner(c, q))
        shutil.rmtree(folder, ignore_errors=True)
        columns += [direct, fresh, proxied]
    return columns, {q.slug: q.title for q in load_curated()}


def cell(value: tuple[float, float, int] | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return f"error: {value}"
    return f"{value[0]:,.1f} ({value[1]:,.1f})"


def medians(column: Column) -> float | None:
    """The median over queries of each query's median: the issue's one figure per store."""
    values = [v[0] for v in column.cells.values() if not isinstance(v, str)]
    return statistics.median(values) if values and len(values) == len(column.cells) else None


def sums(column: Column) -> float | None:
    values = [v[0] for v in column.cells.values() if not isinstance(v, str)]
    return sum(values) if values and len(values) == len(column.cells) else None


def sparql_table(columns: list[Column], titles: dict[str, str]) -> list[str]:
    embedded, raw = columns[0], columns[1]
    lines = [
        "| query | rows | " + " | ".join(c.name for c in columns) + " | embedded / raw |",
        "|---|---:|" + "---:|" * len(columns) + "---:|",
    ]
    mismatches = []
    for slug in titles:
        reference = raw.cells.get(slug)
        rows = reference[2] if isinstance(reference, tuple) else "?"
        values = [c.cells.get(slug) for c in columns]
        for c, v in zip(columns, values, strict=True):
            if isinstance(v, tuple) and v[2] != rows:
                mismatches.append(f"{c.name} on {slug}: {v[2]} rows, raw {rows}")
        e, r = embedded.cells.get(slug), reference
        ratio = f"{e[0] / r[0]:.2f}x" if isinstance(e, tuple) and isinstance(r, tuple) else ""
        lines.append(
            f"| {slug} | {rows} | " + " | ".join(cell(v) for v in values) + f" | {ratio} |"
        )
    # The median lands on one query; the sum (the whole set run once) weighs every query by
    # its time, so the two together show fixed costs and costs that grow with the work.
    for label, aggregate in (("median of the medians", medians), ("sum of the medians", sums)):
        summary = [aggregate(c) for c in columns]
        lines.append(
            f"| **{label}** | | "
            + " | ".join(f"**{m:,.1f}**" if m is not None else "" for m in summary)
            + (f" | **{summary[0] / summary[1]:.2f}x** |" if summary[0] and summary[1] else " | |")
        )
    lines.append("")
    for c in columns:
        if c.skipped:
            lines.append(f"- {c.name}: skipped, {c.skipped}.")
    for m in mismatches:
        lines.append(f"- Row counts differ: {m}.")
    return lines


# -- dereferencing -------------------------------------------------------------------------


def deref_table(site: Path, size: int, work: Path, seconds: int) -> list[str]:
    """Requests/s dereferencing random records with an Accept header, lod serve against
    nginx on the same files, with one and with two worker processes each."""
    if shutil.which("wrk") is None:
        return ["wrk is not installed (Debian package `wrk`): not measured."]
    ids = [f"syn-{i}" for i in range(0, size, max(1, size // 2000))]
    lines = [
        "| server | processes | Turtle req/s | JSON-LD req/s | lod / static |",
        "|---|---:|---:|---:|---:|",
    ]
    for workers in (1, 2):
        got: dict[str, tuple[float, float]] = {}
        for kind in ("lod serve", "nginx"):
            port = free_port()
            server = (
                lod_server(site, port, workers)
                if kind == "lod serve"
                else nginx_server(site, port, workers, work)
            )
            if server is None:
                lines.append(f"| nginx | {workers} | not installed | | |")
                continue
            url = f"http://127.0.0.1:{port}"
            try:
                ttl = wrk(url, "text/turtle", ids, seconds, work) or 0.0
                ld = wrk(url, "application/ld+json", ids, seconds, work) or 0.0
            finally:
                server.stop()
            got[kind] = (ttl, ld)
        for kind, (ttl, ld) in got.items():
            ratio = ""
            if kind == "lod serve" and "nginx" in got and all(got["nginx"]):
                ratio = f"{ttl / got['nginx'][0]:.2f}x / {ld / got['nginx'][1]:.2f}x"
            lines.append(f"| {kind} | {workers} | {ttl:,.0f} | {ld:,.0f} | {ratio} |")
    return lines


# -- the run -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="10000,100000",
        type=lambda text: [int(x) for x in text.split(",")],
        help="comma-separated record counts, e.g. 10000,100000,1000000",
    )
    parser.add_argument("--out", type=Path, default=HERE / "out" / "suite.md")
    parser.add_argument("--work", type=Path, default=HERE / "out")
    parser.add_argument("--rdflib-max", type=int, default=100_000, help="largest rdflib run")
    parser.add_argument(
        "--pipelines",
        default=",".join(PIPELINES),
        type=lambda text: set(text.split(",")),
        help="build pipelines to run (lod always runs)",
    )
    parser.add_argument("--serve-size", type=int, help="default: the largest of --sizes")
    parser.add_argument("--reps", type=int, default=10, help="runs per query after a warm-up")
    parser.add_argument("--wrk-seconds", type=int, default=5)
    parser.add_argument("--no-serve", action="store_true", help="builds and memory only")
    args = parser.parse_args()
    # Subprocesses (lod serve, the pipelines) import the same lod as this process.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    args.work.mkdir(parents=True, exist_ok=True)
    sizes = sorted(args.sizes)
    serve_size = args.serve_size or sizes[-1]
    machine = describe_machine(args.work)
    started = time.monotonic()

    rows = {
        size: run_builds(
            args.work,
            size,
            args.pipelines,
            args.rdflib_max,
            keep=size == serve_size and not args.no_serve,
        )
        for size in sizes
    }
    lines = [
        "# lod benchmark suite",
        "",
        f"Machine: {machine}",
        "",
        "Reproduce: `python bench/suite.py " + " ".join(sys.argv[1:]) + "`",
        "",
        "## Build",
        "",
        *build_tables(rows),
        "",
        "## Peak memory of lod build (streaming bound: 1M records <= "
        f"{STREAMING_BOUND}x the peak at 100k)",
        "",
        *memory_table(rows),
        "",
    ]
    if not args.no_serve:
        site = args.work / f"site-{serve_size}"
        if not (site / "build.json").exists():
            raise SystemExit(f"--serve-size {serve_size}: no build in {site}; add it to --sizes")
        triples = json.loads((site / "build.json").read_text()).get("triples", "?")
        columns, titles = sparql_columns(site, args.work, args.reps)
        lines += [
            f"## SPARQL latency, {serve_size:,} records ({triples:,} triples)",
            "",
            f"Milliseconds, median (p95) of {args.reps} runs after a warm-up; HTTP through a "
            "keep-alive client on 127.0.0.1, results as SPARQL JSON; rows from raw pyoxigraph.",
            "",
            *sparql_table(columns, titles),
            "",
            f"## Record dereference, {serve_size:,} records (wrk, 2 threads, 32 connections, "
            f"{args.wrk_seconds} s, random records)",
            "",
            *deref_table(site, serve_size, args.work, args.wrk_seconds),
            "",
        ]
    lines.append(f"Suite run time: {(time.monotonic() - started) / 60:.1f} min.")
    report = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
