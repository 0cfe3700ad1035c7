"""Benchmark SHACL validation (lod.shacl) per resource graph, against pyshacl on the same graphs.

    python bench/shacl_bench.py                  # the shared corpus and records/, 200 rounds
    python bench/shacl_bench.py --rounds 50 --pyshacl

Reads the records with lod's readers and maps them with lod's Mapper, as `lod build` does, then
validates every record graph and every entity graph (people, places, subjects, archives, record
sets, concepts) against vocab/shapes.ttl. Prints a Markdown table of milliseconds per graph:
median, p95 and mean, records and entities apart, plus the one-off cost of compiling the shapes.
`--pyshacl` also times pyshacl (inference off) on each graph once.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.timing import p95  # noqa: E402

BASE = "http://127.0.0.1:8000/"


def graphs(sources: list[Path]) -> dict[str, list[list[object]]]:
    """Record graphs and entity graphs, as lists of pyoxigraph Triples."""
    from lod.mapping import Mapper
    from lod.model import Record
    from lod.sources import read_sources
    from lod.uris import Minter
    from lod.vocab import load_vocab

    mapper = Mapper(load_vocab(), Minter(BASE))
    records, entities = [], {}
    for item in read_sources(sources):
        if isinstance(item, Record):
            mapped = mapper.map(item)
            records.append(mapped.triples)
            for entity in mapped.entities:
                entities.setdefault(entity.uri, entity)
    for entity in mapper.concepts.entities():
        entities.setdefault(entity.uri, entity)
    return {
        "records": records,
        "entities": [mapper.entity_triples(e) for e in entities.values()],
    }


def time_each(graphs: list[list[object]], call: object, rounds: int) -> list[float]:
    """Milliseconds per graph, each graph's best of `rounds` calls dropped to its median."""
    out = []
    for triples in graphs:
        runs = []
        for _ in range(rounds):
            started = time.perf_counter()
            call(triples)  # type: ignore[operator]
            runs.append((time.perf_counter() - started) * 1000)
        out.append(statistics.median(runs))
    return out


def row(label: str, ms: list[float], sizes: list[int]) -> str:
    return (
        f"| {label} | {len(ms)} | {statistics.median(sizes):.0f} | {statistics.median(ms):.3f} "
        f"| {p95(ms):.3f} | {statistics.mean(ms):.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "sources",
        nargs="*",
        type=Path,
        default=[ROOT.parent / "shared" / "corpus", ROOT / "records"],
    )
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--pyshacl", action="store_true", help="also time pyshacl")
    args = parser.parse_args()

    from lod.shacl import Shapes, shapes_turtle

    text = shapes_turtle(BASE)
    started = time.perf_counter()
    shapes = Shapes(text)
    compile_ms = (time.perf_counter() - started) * 1000
    found = graphs([s for s in args.sources if s.exists()])
    print(
        f"Python {platform.python_version()} on {platform.machine()}; shapes compiled in {compile_ms:.1f} ms\n"
    )
    print("| graphs | count | triples (median) | median ms | p95 ms | mean ms |")
    print("|---|---|---|---|---|---|")
    for kind, triples in found.items():
        sizes = [len(t) for t in triples]
        print(row(f"lod.shacl, {kind}", time_each(triples, shapes.validate, args.rounds), sizes))
    if args.pyshacl:
        import pyshacl
        from pyoxigraph import RdfFormat, serialize
        from rdflib import Graph

        shapes_graph = Graph().parse(data=text, format="turtle")

        def reference(triples: list[object]) -> None:
            data = Graph().parse(data=serialize(triples, format=RdfFormat.N_TRIPLES), format="nt")
            pyshacl.validate(data, shacl_graph=shapes_graph, inference="none")

        for kind, triples in found.items():
            sizes = [len(t) for t in triples]
            print(row(f"pyshacl, {kind}", time_each(triples, reference, 1), sizes))


if __name__ == "__main__":
    main()
