"""Load run on loopback (issue 7, Load): N clients for a while, each a steady mix of record
dereferences in every format (80%) and curated SPARQL queries (20%: half as written, which
the server answers from its kept answers after the first time, half with a comment that makes
each text new, so it runs every time), plus one abusive client
that ignores 429 and Retry-After; then the same run without the abusive client, side by side.

Each client binds its own loopback address (127.0.0.N), as distinct users do, so the server's
per-client limits tell them apart. The figures: per kind of request, count, median, p95, p99
and max latency, 5xx and 429 counts; for the abusive client, its answers by status and whether
every 429 carried Retry-After.

    python stress/load.py [--records 10000] [--clients 16] [--seconds 600] [--out stress/out/load.md]

`tests/test_load.py` runs the same code for a few seconds in CI.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import quote, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from lod.curated import load_curated  # noqa: E402

ACCEPTS = (
    "text/html",
    "text/turtle",
    "application/ld+json",
    "application/n-triples",
    "application/rdf+xml",
)
RESULTS = "application/sparql-results+json"
ABUSIVE = "127.0.0.250"
ABUSIVE_THREADS = 4
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
DEREF_P99 = 500.0
QUERY_P99 = 2000.0
SHORT_RUN_FLOOR = 10.0
"""Milliseconds a short run's p99 is taken as at least, before the 2x comparison. In 12 s its
dereferences' p99 is the third-slowest of ~300 (2 ms), and the abusive client adds 3-5 ms to a
few of them on 2 CPUs whatever the queries' priority (measured with all at nice 19, and with the
long ones at SCHED_IDLE): 2.2-3x of almost nothing. The 10-minute run compares every p99 as
measured."""
TAIL_ABOVE = 2
"""Requests a quantile leaves above it at the least (Tally.quantile)."""


@dataclass
class Tally:
    """Latencies (ms) and statuses of one kind of request."""

    times: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    retry_after: int = 0
    """429s that carried Retry-After."""

    def add(self, status: int, ms: float, retry_after: bool) -> None:
        self.times.append(ms)
        self.statuses[status] += 1
        self.retry_after += status == 429 and retry_after

    def merge(self, other: Tally) -> None:
        self.times += other.times
        self.statuses += other.statuses
        self.failures += other.failures
        self.retry_after += other.retry_after

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def quantile(self, q: float) -> float:
        """Never one of the two slowest requests: in a tally of under 300 the p99 would be its
        very slowest, and a single scheduling hiccup would decide a bound (a p95 under 60).
        The 10-minute run's tallies are thousands long, where this is the plain quantile."""
        if not self.times:
            return 0.0
        ordered = sorted(self.times)
        return ordered[max(0, min(int(q * len(ordered)), len(ordered) - 1 - TAIL_ABOVE))]

    def row(self, name: str) -> str:
        if not self.times:
            return f"| {name} | 0 | | | | | | |"
        return (
            f"| {name} | {len(self.times)} | {statistics.median(self.times):.1f} | "
            f"{self.quantile(0.95):.1f} | {self.quantile(0.99):.1f} | {max(self.times):.1f} | "
            f"{self.errors} | {self.statuses[429]} |"
        )


@dataclass
class Result:
    seconds: float
    deref: Tally = field(default_factory=Tally)
    query: Tally = field(default_factory=Tally)
    fresh: Tally = field(default_factory=Tally)
    """Curated queries made new by a comment: never answered from kept answers."""
    abusive: Tally | None = None

    def problems(self, baseline: Result | None = None, floor: float = 1.0) -> list[str]:
        """What breaks the issue's bounds (empty: the run passes). Against a `baseline` run,
        each kind's p99 may be at most 2x its p99 there, one under `floor` ms counting as
        `floor` (SHORT_RUN_FLOOR for a short run)."""
        found = [
            f"{t.failures[0]} ({len(t.failures)} failures)" for t in self.tallies if t.failures
        ]
        for name, tally, bound in (
            ("deref", self.deref, DEREF_P99),
            ("query", self.query, QUERY_P99),
            ("fresh", self.fresh, QUERY_P99),
        ):
            if tally.errors:
                found.append(f"{name}: {tally.errors} 5xx")
            if tally.statuses[429]:
                found.append(f"{name}: a well-behaved client got {tally.statuses[429]} 429s")
            if tally.quantile(0.99) >= bound:
                found.append(f"{name}: p99 {tally.quantile(0.99):.0f} ms >= {bound:.0f} ms")
            if baseline is not None:
                before = getattr(baseline, name).quantile(0.99)
                if tally.quantile(0.99) > 2 * max(before, floor):
                    found.append(
                        f"{name}: p99 {tally.quantile(0.99):.0f} ms is over 2x "
                        f"{max(before, floor):.0f} ms (without the abusive client: {before:.0f} ms)"
                    )
        if self.abusive is not None:
            limited = self.abusive.statuses[429]
            if not limited:
                found.append("the abusive client never got 429")
            elif self.abusive.retry_after != limited:
                found.append(f"{limited - self.abusive.retry_after} 429s without Retry-After")
        return found

    @property
    def tallies(self) -> list[Tally]:
        return [self.deref, self.query, self.fresh] + ([self.abusive] if self.abusive else [])


class Client:
    """One user: a keep-alive connection from its own loopback address."""

    def __init__(self, url: str, source: str) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.source = parts.hostname or "", parts.port or 80, source
        self.connection: http.client.HTTPConnection | None = None

    def get(self, path: str, accept: str) -> tuple[int, dict[str, str], bytes]:
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=60, source_address=(self.source, 0)
                )
            try:
                self.connection.request("GET", path, headers={"Accept": accept})
                response = self.connection.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
                continue
            headers = {k.lower(): v for k, v in response.getheaders()}
            if headers.get("connection", "").lower() == "close":
                self.close()
            return response.status, headers, body
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def dereference(client: Client, record: str, accept: str) -> tuple[int, bool]:
    """The thing URI, then the document its 303 names, as a linked-data client does."""
    status, headers, _ = client.get(f"/record/{quote(record)}", accept)
    if status == 303:
        status, headers, _ = client.get(urlsplit(headers["location"]).path, accept)
    return status, "retry-after" in headers


def ask(client: Client, sparql: str) -> tuple[int, bool]:
    status, headers, body = client.get(f"/sparql?query={quote(sparql)}", RESULTS)
    if status == 200:
        json.loads(body)
    return status, "retry-after" in headers


def timed(tally: Tally, call: Callable[[], tuple[int, bool]]) -> None:
    started = time.perf_counter()
    try:
        status, retry_after = call()
    except (OSError, http.client.HTTPException, ValueError) as exc:
        tally.failures.append(f"{type(exc).__name__}: {exc}")
        return
    tally.add(status, (time.perf_counter() - started) * 1000, retry_after)


def steady(
    url: str, n: int, records: list[str], queries: list[str], rate: float, until: float
) -> Result:
    """One well-behaved client at `rate` requests a second (each request on a schedule)."""
    rng = random.Random(n)
    client = Client(url, f"127.0.0.{10 + n}")
    result = Result(0.0)
    due = time.monotonic() + rng.random() / rate
    try:
        while due < until:
            time.sleep(max(0.0, due - time.monotonic()))
            draw = rng.random()
            if draw < 0.8:
                timed(
                    result.deref,
                    partial(dereference, client, rng.choice(records), rng.choice(ACCEPTS)),
                )
            elif draw < 0.9:
                timed(result.query, partial(ask, client, rng.choice(queries)))
            else:
                fresh = f"# client {n}, {time.monotonic()}\n{rng.choice(queries)}"
                timed(result.fresh, partial(ask, client, fresh))
            due += 1 / rate
    finally:
        client.close()
    return result


def abuse(url: str, n: int, records: list[str], until: float) -> Tally:
    """The abusive client: runaway queries and documents as fast as it can, ignoring 429."""
    rng = random.Random(1000 + n)
    client = Client(url, ABUSIVE)
    tally = Tally()
    try:
        while time.monotonic() < until:
            if rng.random() < 0.5:
                timed(tally, partial(ask, client, RUNAWAY))
            else:
                timed(tally, partial(dereference, client, rng.choice(records), rng.choice(ACCEPTS)))
    finally:
        client.close()
    return tally


def run_load(
    url: str,
    records: list[str],
    queries: list[str],
    clients: int = 16,
    seconds: float = 600.0,
    rate: float = 2.0,
    abusive: bool = True,
) -> Result:
    """`clients` steady clients (and the abusive one) against `url` for `seconds`."""
    until = time.monotonic() + seconds
    outcomes: list[Result] = []
    abused: list[Tally] = []
    threads = [
        threading.Thread(
            target=lambda n=n: outcomes.append(steady(url, n, records, queries, rate, until))
        )
        for n in range(clients)
    ]
    if abusive:
        threads += [
            threading.Thread(target=lambda n=n: abused.append(abuse(url, n, records, until)))
            for n in range(ABUSIVE_THREADS)
        ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Result(seconds, abusive=Tally() if abusive else None)
    for outcome in outcomes:
        total.deref.merge(outcome.deref)
        total.query.merge(outcome.query)
        total.fresh.merge(outcome.fresh)
    for tally in abused:
        assert total.abusive is not None
        total.abusive.merge(tally)
    return total


def curated_queries() -> list[str]:
    return [query.sparql for query in load_curated()]


def warm_up(url: str, records: list[str], queries: list[str]) -> None:
    """What a server that has been up a while has done: its query processes started (on the
    first query) and each curated query asked once; not measured."""
    client = Client(url, "127.0.0.1")
    try:
        for sparql in queries:
            ask(client, sparql)
        for record in records[:20]:
            for accept in ACCEPTS:
                dereference(client, record, accept)
    finally:
        client.close()


HEAD = [
    "| requests | count | median ms | p95 ms | p99 ms | max ms | 5xx | 429 |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
]


def table(result: Result, title: str) -> list[str]:
    return [
        f"## {title} ({result.seconds:.0f} s)",
        "",
        *HEAD,
        result.deref.row("dereference (all formats)"),
        result.query.row("curated SPARQL, kept answers"),
        result.fresh.row("curated SPARQL, run each time"),
    ]


def report(without: Result, with_abuse: Result, setup: str, floor: float = 1.0) -> str:
    lines = [
        "# Load run",
        "",
        setup,
        "",
        *table(without, "Without the abusive client"),
        "",
        *table(with_abuse, "With the abusive client"),
    ]
    if with_abuse.abusive is not None:
        lines.append(with_abuse.abusive.row("abusive client (all)"))
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(with_abuse.abusive.statuses.items()))
        lines += [
            "",
            f"Abusive client's answers by status: {statuses}; "
            f"429s with Retry-After: {with_abuse.abusive.retry_after}.",
        ]
    ratios = ", ".join(
        f"{name} {getattr(with_abuse, kind).quantile(0.99) / max(getattr(without, kind).quantile(0.99), 1e-9):.2f}x"
        for name, kind in (
            ("dereferences", "deref"),
            ("kept answers", "query"),
            ("queries run each time", "fresh"),
        )
    )
    lines += [
        "",
        f"Steady clients' p99 with the abusive client / without: {ratios}.",
    ]
    problems = without.problems() + with_abuse.problems(without, floor)
    lines += ["", "Bounds: " + ("all met." if not problems else "; ".join(problems)), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000, help="synthetic records")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=600.0, help="length of each run")
    parser.add_argument("--rate", type=float, default=2.0, help="requests/s of each client")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "lod-load")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "load.md")
    args = parser.parse_args()

    from bench.serve_bench import ensure_build, free_port, lod_server

    args.work.mkdir(parents=True, exist_ok=True)
    site = ensure_build(args.work, args.records)
    records = [f"syn-{i}" for i in range(args.records)]
    queries = curated_queries()
    port = free_port()
    setup = (
        f"{args.clients} clients at {args.rate:g} requests/s each (80% dereferences in 5 formats, "
        f"20% of the {len(queries)} curated queries, half as written, half made new), "
        f"{args.records:,} synthetic records, "
        f"`lod serve` with its defaults; the abusive client runs {ABUSIVE_THREADS} connections "
        f"of runaway queries and documents as fast as it can. {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}. Reproduce: `python stress/load.py --records "
        f"{args.records} --clients {args.clients} --seconds {args.seconds:g} --rate {args.rate:g}`."
    )
    server = lod_server(site, port, 1)
    url = f"http://127.0.0.1:{port}"
    try:
        warm_up(url, records, queries)
        without = run_load(url, records, queries, args.clients, args.seconds, args.rate, False)
        print("\n".join(table(without, "Without the abusive client")), flush=True)
        with_abuse = run_load(url, records, queries, args.clients, args.seconds, args.rate, True)
    finally:
        server.stop()
    text = report(without, with_abuse, setup)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    sys.exit(1 if without.problems() + with_abuse.problems(without) else 0)


if __name__ == "__main__":
    main()
