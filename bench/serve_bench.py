"""Benchmark `lod serve` at scale: SPARQL latency through the endpoint against the same queries
on raw pyoxigraph (on disk and in memory) and on an rdflib in-memory graph, keyword search,
and record dereference throughput against nginx serving the same files.

    python bench/serve_bench.py                       # 100k synthetic records
    python bench/serve_bench.py --records 5000 --reps 5 --wrk-seconds 3   # quick run

The output folder is built once with `lod build` (kept in --work and reused when its size
matches). Latencies are medians (and p95) of --reps runs after one warm-up; the HTTP figures are
measured with a keep-alive client on 127.0.0.1. Throughput uses wrk (Debian package `wrk`) and
nginx (`nginx-light`) with deploy/nginx.conf; each is skipped with a note when missing. Prints a
Markdown report and writes it to bench/out/serve.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.synth import generate  # noqa: E402
from bench.timing import median_p95  # noqa: E402
from lod.config import Config  # noqa: E402
from lod.curated import load_curated  # noqa: E402
from lod.namespaces import prefixes_for  # noqa: E402

BASE = "http://127.0.0.1:8000/"
NAMED_QUERIES = {
    "lookup by identifier": 'SELECT ?record ?title WHERE { ?record dcterms:identifier "syn-4242" ; dcterms:title ?title }',
    "count by year": (
        "SELECT ?year (COUNT(?record) AS ?n) WHERE { ?record dcterms:identifier ?id ; "
        "dcterms:created ?date BIND(SUBSTR(STR(?date), 1, 4) AS ?year) } GROUP BY ?year ORDER BY ?year"
    ),
    "2-hop person -> records -> places": (
        "SELECT DISTINCT ?place ?name WHERE { ?person schema:name ?pname . "
        'FILTER(?pname = "Given7 Person7"@en || ?pname = "Given7 Person7") '
        "?record dcterms:creator ?person ; dcterms:spatial ?place . ?place schema:name ?name }"
    ),
    "titles CONTAINS (scan)": (
        'SELECT ?record ?title WHERE { ?record dcterms:title ?title FILTER(CONTAINS(?title, "treaty 4242")) }'
    ),
    "keyword search (SERVICE lod:search)": (
        'SELECT ?record ?title ?score WHERE { SERVICE lod:search { ?record lod:query "treaty 4242" ; '
        "lod:score ?score } ?record dcterms:title ?title } ORDER BY DESC(?score) LIMIT 20"
    ),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_build(work: Path, records: int) -> Path:
    site = work / f"site-{records}"
    info = site / "build.json"
    if info.exists() and json.loads(info.read_text())["records"] == records:
        return site
    src = work / f"src-{records}"
    if not src.exists():
        generate(records, src)
    from lod.publish.site import build

    started = time.monotonic()
    build([src], site, Config(base_uri=BASE, progress=False))
    print(f"built {records} records in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return site


class Server:
    def __init__(self, argv: list[str], ready: str) -> None:
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(ready, timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise SystemExit(f"server did not start: {argv}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def lod_server(site: Path, port: int, workers: int) -> Server:
    env_args = [sys.executable, "-m", "lod.cli", "serve", str(site), "--port", str(port)]
    return Server(env_args + ["--workers", str(workers)], f"http://127.0.0.1:{port}/robots.txt")


def nginx_server(site: Path, port: int, workers: int, work: Path) -> Server | None:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        return None
    folder = Path(tempfile.mkdtemp(prefix="nginx-", dir=work))
    server = (ROOT / "deploy" / "nginx.conf").read_text()
    server = server.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{port};")
    server = server.replace("root /srv/lod/site;", f"root {site};")
    (folder / "nginx.conf").write_text(
        f"daemon off; worker_processes {workers};\n"
        f"pid {folder}/nginx.pid; error_log {folder}/error.log;\n"
        "events { worker_connections 1024; }\n"
        f"http {{ access_log off; client_body_temp_path {folder}; proxy_temp_path {folder};\n"
        f"fastcgi_temp_path {folder}; uwsgi_temp_path {folder}; scgi_temp_path {folder};\n"
        f"{server}\n}}\n"
    )
    return Server(
        [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf")],
        f"http://127.0.0.1:{port}/index.html",
    )


def wrk(url: str, accept: str, ids: list[str], seconds: int, work: Path) -> float | None:
    """Requests/s of wrk dereferencing random record documents with an Accept header."""
    binary = shutil.which("wrk")
    if binary is None:
        return None
    script = work / "paths.lua"
    paths = ",".join(f'"/doc/record/{i}"' for i in ids)
    script.write_text(
        f"local paths = {{{paths}}}\n"
        "math.randomseed(1951)\n"
        f'wrk.headers["Accept"] = "{accept}"\n'
        "request = function() return wrk.format(nil, paths[math.random(#paths)]) end\n"
    )
    done = subprocess.run(
        [binary, "-t2", "-c32", f"-d{seconds}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in done.stdout.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=HERE / "out")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--rdflib-reps", type=int, default=3)
    parser.add_argument("--no-rdflib", action="store_true", help="skip the rdflib baseline")
    parser.add_argument("--wrk-seconds", type=int, default=10)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    site = ensure_build(args.work, args.records)
    info = json.loads((site / "build.json").read_text())
    prefixes = prefixes_for(BASE + "vocab/lod#")
    queries = dict(NAMED_QUERIES)
    queries.update({f"curated: {q.slug}": q.sparql for q in load_curated()})
    lines = [
        f"# lod serve benchmark, {args.records:,} synthetic records ({info['triples']:,} triples)",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}. Medians (p95) in ms of {args.reps} runs after a warm-up.",
        "",
    ]

    from pyoxigraph import QueryBoolean, QueryResultsFormat, QuerySolutions, RdfFormat, Store

    disk = Store.read_only(str(site / "store"))
    memory = Store()
    started = time.monotonic()
    with gzip.open(site / "dumps" / "dataset.nt.gz") as dump:
        memory.bulk_load(dump, RdfFormat.N_TRIPLES)
    memory_load = time.monotonic() - started
    memory.bulk_load((site / "doc" / "dataset.nt").read_bytes(), RdfFormat.N_TRIPLES)

    def raw(store: Store, text: str) -> Callable[[], object]:
        from lod.sparql import SEARCH_HITS, analyse, expand_search
        from lod.textindex import TextIndex

        index = TextIndex(site / "search.sqlite")

        def run() -> object:
            analysis = analyse(text, BASE + "vocab/lod#search", prefixes)
            expanded = expand_search(text, analysis, BASE + "vocab/lod#", index.uris, SEARCH_HITS)
            result = store.query(
                expanded, prefixes=prefixes, base_iri=BASE, use_default_graph_as_union=True
            )
            if isinstance(result, QuerySolutions):
                return result.serialize(format=QueryResultsFormat.JSON)
            if isinstance(result, QueryBoolean):
                return bool(result)
            return list(result)

        return run

    port = free_port()
    server = lod_server(site, port, 1)
    session = requests.Session()
    endpoint = f"http://127.0.0.1:{port}/sparql"

    def http(text: str) -> Callable[[], object]:
        def run() -> object:
            r = session.post(
                endpoint,
                data={"query": text},
                # no-cache: measure the query, not lod serve's answer cache
                headers={"Accept": "application/sparql-results+json", "Cache-Control": "no-cache"},
                timeout=120,
            )
            assert r.status_code == 200, r.text
            return r.content

        return run

    rows: list[tuple[str, tuple[float, float], tuple[float, float], tuple[float, float]]] = []
    for name, text in queries.items():
        rows.append(
            (
                name,
                median_p95(http(text), args.reps),
                median_p95(raw(disk, text), args.reps),
                median_p95(raw(memory, text), args.reps),
            )
        )
    search_http = median_p95(
        lambda: (
            session.get(
                f"http://127.0.0.1:{port}/search",
                params={"q": "treaty 4242", "format": "json"},
                timeout=30,
            ).content
        ),
        args.reps,
    )
    server.stop()

    rdflib_times: dict[str, float] = {}
    rdflib_load = 0.0
    if not args.no_rdflib:
        from rdflib import Graph

        started = time.monotonic()
        graph = Graph()
        with gzip.open(site / "dumps" / "dataset.nt.gz", "rt", encoding="utf-8") as dump:
            graph.parse(dump, format="nt")
        rdflib_load = time.monotonic() - started
        init = {p: ns for p, ns in prefixes.items()}
        for name, text in NAMED_QUERIES.items():  # the curated ones take minutes each on rdflib
            if "lod:search" in text:
                continue
            rdflib_times[name] = median_p95(
                lambda text=text: list(graph.query(text, initNs=init)), args.rdflib_reps
            )[0]

    lines += [
        "## SPARQL latency",
        "",
        f"Raw pyoxigraph: the same query and JSON serialization in-process, on the on-disk store "
        f"and on an in-memory store (loaded from the N-Triples dump in {memory_load:.0f} s). "
        + (
            f"rdflib: an in-memory Graph of the same triples (loaded in {rdflib_load:.0f} s), "
            f"median of {args.rdflib_reps} runs."
            if rdflib_times
            else "rdflib: skipped."
        ),
        "",
        "| query | HTTP /sparql | raw on disk | raw in memory | HTTP / raw disk | rdflib in memory | rdflib / HTTP |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, (h, hp), (d, dp), (m, mp) in rows:
        rd = rdflib_times.get(name)
        lines.append(
            f"| {name} | {h:.1f} ({hp:.1f}) | {d:.1f} ({dp:.1f}) | {m:.1f} ({mp:.1f}) | {h / d:.2f}x | "
            + (f"{rd:.1f} | {rd / h:.0f}x |" if rd is not None else "– | – |")
        )
    http_median = statistics.median(r[1][0] for r in rows)
    disk_median = statistics.median(r[2][0] for r in rows)
    lines += [
        "",
        f"Median over all queries: HTTP {http_median:.1f} ms, raw on disk {disk_median:.1f} ms "
        f"({http_median / disk_median:.2f}x). Keyword search API (/search, JSON, 20 hits with "
        f"snippets): {search_http[0]:.1f} ms median ({search_http[1]:.1f} p95).",
        "",
    ]

    ids = [f"syn-{i}" for i in range(0, args.records, max(1, args.records // 2000))]
    lines += [
        "## Record dereference throughput (wrk, 2 threads, 32 connections, loopback)",
        "",
        "| server | workers | Turtle req/s | JSON-LD req/s |",
        "|---|---:|---:|---:|",
    ]
    ratios = []
    for workers in (1, 2):
        results = {}
        for kind in ("lod", "nginx"):
            port = free_port()
            runner = (
                lod_server(site, port, workers)
                if kind == "lod"
                else nginx_server(site, port, workers, args.work)
            )
            if runner is None:
                lines.append(f"| nginx | {workers} | not installed | |")
                continue
            url = f"http://127.0.0.1:{port}"
            ttl = wrk(url, "text/turtle", ids, args.wrk_seconds, args.work)
            ld = wrk(url, "application/ld+json", ids, args.wrk_seconds, args.work)
            runner.stop()
            results[kind] = (ttl, ld)
            lines.append(
                f"| {kind} | {workers} | {ttl or 0:,.0f} | {ld or 0:,.0f} |"
                if ttl
                else f"| {kind} | {workers} | wrk not installed | |"
            )
        if "lod" in results and "nginx" in results and results["lod"][0] and results["nginx"][0]:
            lod_t, lod_j = results["lod"]
            ng_t, ng_j = results["nginx"]
            ratios.append(
                f"{workers} worker(s): Turtle {lod_t / ng_t:.2f}x, JSON-LD {lod_j / ng_j:.2f}x of nginx"
            )  # type: ignore[operator]
    lines += ["", "lod / nginx: " + ("; ".join(ratios) or "not measured"), ""]
    report = "\n".join(lines)
    print(report)
    (HERE / "out").mkdir(exist_ok=True)
    (HERE / "out" / "serve.md").write_text(report + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
