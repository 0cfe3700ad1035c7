"""PROV-O for each published resource: which source file and row, when, by which lod and mapping.

Every resource's triples live in a named graph of their own, named by its description
document's URI ({base}doc/record/112095), so the graph and the document are one thing and these
statements about the document say where its graph came from:

    <doc> prov:wasDerivedFrom <doc#source> ; prov:wasGeneratedBy <doc#generation> ;
          prov:generatedAtTime T .
    <doc#source> a prov:Entity ; lod:sourceFile "records/x.csv" ; lod:sourceLine 12 .
    <doc#generation> a prov:Activity ; prov:endedAtTime T ; prov:used <doc#source> ;
          prov:wasAssociatedWith <{base}dataset#lod-0.1.0> ; lod:mappingVersion "…" .

The software agent is described once, with the dataset (the default graph).

They go to the store and the N-Quads dump only, not into the per-resource documents: those are
hashed for the change feeds, and a build time in them would announce every record as changed
on every full build. Entities are merged from many records, so their graphs name no source.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Triple

from lod import __version__
from lod.model import Origin
from lod.namespaces import expand
from lod.vocab import UNREAD

PACKAGE = Path(__file__).resolve().parent
XSD_INTEGER = NamedNode(expand("xsd:integer"))
XSD_DATETIME = NamedNode(expand("xsd:dateTime"))


@dataclass(frozen=True, slots=True)
class Generation:
    """One build's part in every graph it writes: its time and what produced the triples."""

    time: str
    """xsd:dateTime in UTC, to the second."""
    software: str
    """The lod release, e.g. '0.1.0'."""
    mapping: str
    """A digest of the vocabularies and of the code that maps records to RDF."""


def generation(epoch: int | None, vocab_dir: Path) -> Generation:
    """The build's generation: SOURCE_DATE_EPOCH when set (reproducible builds), else now."""
    moment = datetime.fromtimestamp(epoch, UTC) if epoch is not None else datetime.now(UTC)
    return Generation(
        moment.strftime("%Y-%m-%dT%H:%M:%SZ"), __version__, mapping_version(vocab_dir)
    )


def mapping_version(vocab_dir: Path) -> str:
    """The first 16 hex digits of SHA-256 over vocab/ and the modules lod.mapping imports,
    directly or not: what decides the triples a record becomes (not the serializers or the
    server, which change no statement)."""
    digest = hashlib.sha256()
    for path in sorted(vocab_dir.rglob("*")):
        if path.is_file() and path.name not in UNREAD:
            digest.update(str(path.relative_to(vocab_dir)).encode())
            digest.update(path.read_bytes())
    for path in _mapping_modules():
        digest.update(str(path.relative_to(PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _mapping_modules() -> list[Path]:
    seen: set[Path] = set()
    todo = [PACKAGE / "mapping.py"]
    while todo:
        path = todo.pop()
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lod."):
                parts = node.module.split(".")[1:]
                module = PACKAGE.joinpath(*parts)
                todo.append(
                    module / "__init__.py" if module.is_dir() else module.with_suffix(".py")
                )
    return sorted(seen)


class Provenance:
    """Makes the provenance triples of a build's graphs; one per process, terms made once."""

    def __init__(self, base: str, vocab_ns: str, generation: Generation) -> None:
        self.generation = generation
        self.agent = NamedNode(f"{base}dataset#lod-{generation.software}")
        self.time = Literal(generation.time, datatype=XSD_DATETIME)
        self.p = {
            curie: NamedNode(expand(curie, vocab_ns))
            for curie in (
                "rdf:type",
                "rdfs:label",
                "prov:Entity",
                "prov:Activity",
                "prov:SoftwareAgent",
                "schema:SoftwareApplication",
                "prov:wasDerivedFrom",
                "prov:wasGeneratedBy",
                "prov:generatedAtTime",
                "prov:endedAtTime",
                "prov:used",
                "prov:wasAssociatedWith",
                "schema:softwareVersion",
                "lod:sourceFile",
                "lod:sourceLine",
                "lod:mappingVersion",
            )
        }

    def record(self, doc: str, origin: Origin) -> list[Triple]:
        """A record's graph: derived from one row (or line) of one source file. (The record's
        ID is on the record itself; repeating it here would make a query by identifier find
        the source node too.)"""
        p = self.p
        graph = NamedNode(doc)
        source = NamedNode(f"{doc}#source")
        where = origin.file + (f", line {origin.line}" if origin.line else "")
        out = [
            Triple(graph, p["prov:wasDerivedFrom"], source),
            Triple(source, p["rdf:type"], p["prov:Entity"]),
            Triple(source, p["rdfs:label"], Literal(where)),
            Triple(source, p["lod:sourceFile"], Literal(origin.file)),
        ]
        if origin.line:
            out.append(
                Triple(source, p["lod:sourceLine"], Literal(str(origin.line), datatype=XSD_INTEGER))
            )
        return out + self._generated(graph, source)

    def entity(self, doc: str) -> list[Triple]:
        return self._generated(NamedNode(doc), None)

    def agent_triples(self) -> list[Triple]:
        """The software agent, described once with the dataset rather than in every graph; a
        schema:SoftwareApplication too, the type schema:softwareVersion is a property of."""
        p, version = self.p, self.generation.software
        return [
            Triple(self.agent, p["rdf:type"], p["prov:SoftwareAgent"]),
            Triple(self.agent, p["rdf:type"], p["schema:SoftwareApplication"]),
            Triple(self.agent, p["rdfs:label"], Literal(f"lod {version}")),
            Triple(self.agent, p["schema:softwareVersion"], Literal(version)),
        ]

    def _generated(self, graph: NamedNode, source: NamedNode | None) -> list[Triple]:
        p, g = self.p, self.generation
        activity = NamedNode(f"{graph.value}#generation")
        out = [
            Triple(graph, p["rdf:type"], p["prov:Entity"]),
            Triple(graph, p["prov:wasGeneratedBy"], activity),
            Triple(graph, p["prov:generatedAtTime"], self.time),
            Triple(activity, p["rdf:type"], p["prov:Activity"]),
            Triple(activity, p["prov:endedAtTime"], self.time),
            Triple(activity, p["prov:wasAssociatedWith"], self.agent),
            Triple(activity, p["lod:mappingVersion"], Literal(g.mapping)),
        ]
        if source is not None:
            out.append(Triple(activity, p["prov:used"], source))
        return out


def quads(ntriples: bytes, graph: str) -> bytes:
    """N-Triples lines (each ending ' .\\n', as pyoxigraph writes them) as N-Quads in `graph`."""
    tail = f" <{graph}> .\n".encode()
    return b"".join(line[:-3] + tail for line in ntriples.splitlines(keepends=True) if line.strip())


__all__ = ["Generation", "Provenance", "generation", "mapping_version", "quads"]
