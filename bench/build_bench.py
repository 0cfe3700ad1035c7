"""Benchmark `lod build` against a plain rdflib pipeline doing the same per-record work.

    python bench/build_bench.py                  # 10k and 100k records (rdflib baseline on 10k)
    python bench/build_bench.py --sizes 2000     # quick run

Each run is a separate process so peak RSS is its own. The rdflib pipeline reads and maps with
lod's own code, then builds an rdflib Graph per record and per entity and writes Turtle, JSON-LD,
N-Triples, RDF/XML and HTML with rdflib's serializers, plus N-Triples and JSON-LD dumps; it loads
no store and writes no Turtle dump, so the comparison favours the baseline. Prints a Markdown
table; `--work` on a tmpfs (/dev/shm) measures compute without the disk.

bench/suite.py runs two more pipelines from here: `rdflib-plain` (the same Graphs, Turtle per
resource and one N-Triples dump only) and `pyoxigraph` (the floor: lod's N-Quads dump loaded
into a pyoxigraph store and written out the same way, with no reading or mapping).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def lod_pipeline(sources: Path, out: Path) -> dict[str, float]:
    from lod.config import Config
    from lod.publish.site import build

    report = build([sources], out, Config(base_uri="http://127.0.0.1:8000/", progress=False))
    return {"records": report.published, "triples": report.triples}


def rdflib_pipeline(sources: Path, out: Path, *, full: bool = True) -> dict[str, float]:
    """Same per-resource work as lod (records and entities, five formats each, N-Triples and
    JSON-LD dumps), with an rdflib Graph per resource and rdflib's serializers. Not `full`: the
    plain pipeline the issue names, Turtle per resource and one uncompressed N-Triples dump, so
    the baseline pays for rdflib's graphs and serializer and nothing lod adds on top."""
    import gzip

    from rdflib import Graph, Literal, URIRef

    from lod.jsonld import Compactor
    from lod.mapping import Entity, Mapper
    from lod.model import Record
    from lod.publish.html import Page, render
    from lod.sources import read_sources
    from lod.uris import Minter
    from lod.vocab import load_vocab

    vocab = load_vocab()
    minter = Minter("http://127.0.0.1:8000/")
    mapper = Mapper(vocab, minter)
    context = dict(vocab.context["@context"])
    context["lod"] = minter.vocab
    compactor = Compactor(context)
    entities: dict[str, Entity] = {}
    counts = {"records": 0, "triples": 0}

    def write(uri: str, triples: list, title: str, dump: IO[bytes], jsonl: IO[str] | None) -> None:
        graph = Graph()
        for name, ns in context.items():
            if isinstance(ns, str) and ns.endswith(("/", "#")):
                graph.bind(name, ns)
        for t in triples:
            obj = t.object
            if hasattr(obj, "datatype"):
                # A plain string stays plain, as RDF 1.1 and lod write it, so the dumps match.
                if obj.language:
                    term = Literal(obj.value, lang=obj.language)
                elif obj.datatype.value == XSD_STRING:
                    term = Literal(obj.value)
                else:
                    term = Literal(obj.value, datatype=URIRef(obj.datatype.value))
            else:
                term = URIRef(obj.value)
            graph.add((URIRef(t.subject.value), URIRef(t.predicate.value), term))
        path = "doc/" + minter.path(uri)
        stem = out / path
        stem.parent.mkdir(parents=True, exist_ok=True)
        stem.with_name(stem.name + ".ttl").write_text(graph.serialize(format="turtle"))
        nt = graph.serialize(format="nt")
        dump.write(nt.encode())
        counts["triples"] += len(graph)
        if jsonl is None:
            return
        jsonld = graph.serialize(format="json-ld", context=context)
        stem.with_name(stem.name + ".jsonld").write_text(jsonld)
        stem.with_name(stem.name + ".nt").write_text(nt)
        stem.with_name(stem.name + ".rdf").write_text(graph.serialize(format="xml"))
        document = json.loads(jsonld)
        page = Page(minter.base, compactor, path)
        stem.with_name(stem.name + ".html").write_text(render(triples, page, title, uri, jsonld))
        jsonl.write(json.dumps(document) + "\n")

    with ExitStack() as stack:
        if full:
            dump: IO[bytes] = stack.enter_context(gzip.open(out / "dump.nt.gz", "wb"))
            jsonl: IO[str] | None = stack.enter_context((out / "dump.jsonl").open("w"))
        else:
            dump, jsonl = stack.enter_context((out / "dump.nt").open("wb")), None
        for item in read_sources([sources]):
            if not isinstance(item, Record):
                continue
            mapped = mapper.map(item)
            write(mapped.uri, mapped.triples, mapped.title, dump, jsonl)
            for entity in mapped.entities:
                if entity.uri in entities:
                    entities[entity.uri].merge(entity)
                else:
                    entities[entity.uri] = entity
            counts["records"] += 1
        for uri in sorted(entities):
            write(uri, mapper.entity_triples(entities[uri]), entities[uri].label, dump, jsonl)
    return counts


def oxigraph_floor(dump: Path, out: Path) -> dict[str, float]:
    """The raw floor under any publisher: the N-Quads dump of a lod build bulk-loaded into an
    on-disk pyoxigraph store, then each named graph (one per resource) written as a Turtle file
    and the whole store as one N-Quads file: the plain rdflib pipeline's output, with no source
    reading, mapping or Python per triple."""
    import gzip

    from pyoxigraph import RdfFormat, Store

    from lod.namespaces import prefixes_for

    prefixes = prefixes_for("http://127.0.0.1:8000/vocab/lod#")
    store = Store(str(out / "store"))
    with gzip.open(dump) as data:
        store.bulk_load(data, RdfFormat.N_QUADS)
    graphs = 0
    for graph in store.named_graphs():
        folder = out / "doc" / f"{graphs // 1000:05d}"
        if graphs % 1000 == 0:
            folder.mkdir(parents=True)
        store.dump(folder / f"{graphs}.ttl", RdfFormat.TURTLE, from_graph=graph, prefixes=prefixes)
        graphs += 1
    store.dump(out / "dump.nq", RdfFormat.N_QUADS)
    return {"graphs": graphs, "triples": len(store)}


PIPELINES: dict[str, Any] = {
    "lod": lod_pipeline,
    "rdflib": rdflib_pipeline,
    "rdflib-plain": functools.partial(rdflib_pipeline, full=False),
    "pyoxigraph": oxigraph_floor,
}


def child(pipeline: str, sources: str, out: str) -> None:
    print(json.dumps(timed(PIPELINES[pipeline], Path(sources), Path(out))))


def timed(pipeline: Any, sources: Path, out: Path) -> dict[str, float]:
    """A pipeline's own figures, plus its wall time, peak RSS and CPU (this process and its
    children, so call it in a process of its own)."""
    started = time.perf_counter()
    result: dict[str, float] = pipeline(sources, out)
    result["seconds"] = time.perf_counter() - started
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    result["peak_rss_mb"] = own.ru_maxrss / 1024
    # Workers and the store loader are children: their largest peak, reported apart.
    result["child_peak_rss_mb"] = children.ru_maxrss / 1024
    # CPU of the whole tree: wall time well above CPU / cores means waiting (disk, load).
    result["cpu_seconds"] = sum(u.ru_utime + u.ru_stime for u in (own, children))
    return result


def measure(pipeline: str, sources: Path, out: Path, *, keep: bool = False) -> dict[str, float]:
    """Run one pipeline in its own process; `keep` leaves its output for later benchmarks."""
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    if pipeline != "lod":
        out.mkdir()
    # The child's messages go to a file as they come: a run killed or failed hours in (the
    # 1M build) still tells why, where a captured pipe would have been lost with the run.
    log = out.parent / f"{out.name}.{pipeline}.log"
    with log.open("w") as errors:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", pipeline, str(sources), str(out)],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(
            f"the {pipeline} build of {sources} failed (exit {proc.returncode}); "
            f"its last messages:\n{tail}\nall of them: {log}"
        )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["size_mb"] = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
    if not keep:
        shutil.rmtree(out, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--baseline-max",
        type=int,
        default=10_000,
        help="run the rdflib pipeline only up to this size (it is linear and slow)",
    )
    parser.add_argument("--work", type=Path, default=HERE / "out")
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    from bench.synth import generate

    rows = []
    for size in args.sizes:
        sources = args.work / f"src-{size}"
        if not sources.exists():
            generate(size, sources)
        lod = measure("lod", sources, args.work / "lod-site")
        base = (
            measure("rdflib", sources, args.work / "rdflib-site")
            if size <= args.baseline_max
            else None
        )
        rows.append((size, lod, base))
        print(f"{size}: lod {lod}  rdflib {base}", file=sys.stderr)
    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}\n"
    )
    print(
        "| records | lod s | lod rec/s | lod peak RSS MB (main / largest child) | output MB "
        "| rdflib s | rdflib rec/s | rdflib peak RSS MB | speed-up |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size, lod, base in rows:
        lod_rate = lod["records"] / lod["seconds"]
        cells = [
            f"{size:,}",
            f"{lod['seconds']:.1f}",
            f"{lod_rate:.0f}",
            f"{lod['peak_rss_mb']:.0f} / {lod['child_peak_rss_mb']:.0f}",
            f"{lod['size_mb']:.0f}",
        ]
        if base:
            base_rate = base["records"] / base["seconds"]
            cells += [
                f"{base['seconds']:.1f}",
                f"{base_rate:.0f}",
                f"{base['peak_rss_mb']:.0f}",
                f"{lod_rate / base_rate:.1f}x",
            ]
        else:
            cells += ["—", "—", "—", "—"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
