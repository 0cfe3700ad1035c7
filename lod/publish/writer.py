"""Per-resource work of a build: map a record and write it in every format; write an entity.

This is the part of `lod build` that shards by record, so it runs in worker processes (one per
core) and returns to the parent only what the parent merges or streams into the dumps. On a Dask
cluster (lod.publish.runners) the workers may be other machines, so they hold the documents and
return them for the client to write (`hold`, `do_batch`).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pyoxigraph import RdfFormat, Triple, serialize

from lod import __version__
from lod.authorities import Entity
from lod.errors import PublishError, SourceError
from lod.formats import RDF_FORMATS, Writer, order
from lod.jsonld import Compactor, dumps
from lod.mapping import Mapped, Mapper
from lod.model import Origin, Record
from lod.namespaces import prefixes_for
from lod.provenance import Generation, Provenance, mapping_version, quads
from lod.publish.html import Page, render
from lod.publish.validation import rows
from lod.shacl import load_shapes
from lod.store import die_with_parent, leave_interrupts_to_parent
from lod.uris import Minter, slugify
from lod.vocab import VOCAB_DIR, Vocab, load_vocab


class SiteWriter:
    """Writes one resource (record, entity, dataset) in every format under doc/; with `hold`,
    returns the documents in Written.files instead, for a caller that owns the folder."""

    def __init__(self, root: Path, minter: Minter, vocab: Vocab, *, hold: bool = False) -> None:
        self.root = root
        self.hold = hold
        self.minter = minter
        context: dict[str, Any] = dict(vocab.context["@context"])  # type: ignore[call-overload]
        context["lod"] = minter.vocab
        self.context = {"@context": context}
        self.compactor = Compactor(context)
        self.writer = Writer(
            prefixes_for(minter.vocab), self.compactor, minter.base + "context.jsonld"
        )
        self._dirs: set[str] = set()
        self._links: dict[tuple[str, str | None, str], str] = {}

    def write(
        self,
        thing_uri: str,
        triples: list[Triple],
        title: str,
        backlinks: list[dict[str, str]] | None = None,
        shared: set[str] | None = None,
        provenance: list[Triple] | None = None,
    ) -> Written:
        """Write all formats; return what the dumps need (N-Triples, Turtle body, JSON-LD line,
        N-Quads). `shared` names entities described by their own resources: left out of the
        dumps. `provenance` goes to the resource's named graph only (lod.provenance)."""
        path = "doc/" + self.minter.path(thing_uri)  # as links name it: percent-encoded
        stem = self.minter.doc_file(thing_uri)  # as a static server finds it: decoded
        files: list[tuple[str, bytes]] = []
        triples = order(triples, thing_uri)
        document = self.writer.jsonld(triples, thing_uri)
        line = dumps(document)
        out: dict[str, bytes] = {}
        for fmt in RDF_FORMATS:
            if fmt.name == "jsonld":
                data = (line + "\n").encode("utf-8")
            else:
                data = self.writer.rdf(fmt, triples, thing_uri, ordered=True)
            out[fmt.name] = data
            files.append((stem + fmt.suffix, data))
        page = Page(self.minter.base, self.compactor, path, backlinks or [], self._links)
        html = render(triples, page, title or thing_uri, thing_uri, line)
        files.append((stem + ".html", html.encode("utf-8")))
        if not self.hold:
            write_files(self.root, files, self._dirs)
        others = (shared or set()) - {thing_uri}
        share = without_subjects(out["ntriples"], others)
        graph = serialize(provenance, format=RdfFormat.N_TRIPLES) or b"" if provenance else b""
        return Written(
            gzip.compress(share, compresslevel=1, mtime=0),
            turtle_body(out["turtle"]),
            line,
            hashlib.sha256(out["turtle"]).hexdigest(),
            len(out["turtle"]),
            gzip.compress(
                quads(share + graph, self.minter.doc(thing_uri)), compresslevel=1, mtime=0
            ),
            files=tuple(files) if self.hold else (),
        )


def write_files(root: Path, files: Iterable[tuple[str, bytes]], made: set[str]) -> None:
    """Write documents (paths relative to `root`); `made` remembers the folders created.

    Plain descriptors, not `open()`: five files per resource, and a buffered file object cost
    as much as the write itself (~33 against ~18 us per 3 KB file, measured on tmpfs)."""
    for relative, data in files:
        path = os.path.join(root, relative)
        folder = os.path.dirname(path)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        handle = os.open(path, _CREATE, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view) :]
        finally:
            os.close(handle)


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)


def without_subjects(ntriples: bytes, subjects: set[str]) -> bytes:
    """N-Triples minus the lines about `subjects`.

    A record's graph repeats the name and type of every entity it links to; the entity's own
    resource carries those triples too, so the dump and the store need them only once (the
    dump is still the union of all published resources, which a test checks)."""
    if not subjects:
        return ntriples
    heads = tuple(f"<{s}>".encode() for s in subjects)
    return b"".join(
        line for line in ntriples.splitlines(keepends=True) if not line.startswith(heads)
    )


def turtle_body(data: bytes) -> bytes:
    """Turtle without its @prefix lines: the dump declares every prefix once at its top."""
    position = 0
    while data.startswith(b"@prefix ", position):
        position = data.index(b"\n", position) + 1
    return data[position:]


@dataclass(slots=True)
class Written:
    """One resource's share of the dumps, and its content hash for the change log.

    `ntriples` is a gzip member of its own: members concatenate into a valid gzip file, so an
    incremental build splices the dump instead of recompressing it. `digest` and `length` are
    those of the Turtle document, the resource's content as the feeds announce it."""

    ntriples: bytes
    turtle: bytes
    line: str
    digest: str
    length: int
    nquads: bytes
    """The N-Triples share plus the resource's provenance, in its own named graph (the
    description document's URI), also a gzip member: the store is loaded from these."""
    violations: tuple[dict[str, str], ...] = ()
    """Its SHACL results (lod.publish.validation.rows)."""
    files: tuple[tuple[str, bytes], ...] = ()
    """The documents (path under the output, bytes) when the writer held them (`hold`)."""

    @property
    def plain_ntriples(self) -> bytes:
        return gzip.decompress(self.ntriples)

    @property
    def plain_nquads(self) -> bytes:
        return gzip.decompress(self.nquads)


@dataclass(slots=True)
class RecordDone:
    """What the parent needs of a published record: dump bytes, entities, index and sitemap
    data, and the words the keyword index holds beyond the title and entity labels."""

    id: str
    uri: str
    title: str
    date: str
    lastmod: str
    written: Written
    entities: list[Entity]
    summary: str = ""
    text: str = ""
    labels: list[str] = field(default_factory=list)
    file: str = ""
    record_kind: str = "document"
    source_hash: str = ""
    sets: dict[str, str] = field(default_factory=dict)
    """OAI-PMH set specs of the record (type, holding archive, collection) and their names."""
    line: int | None = None


class Worker:
    """One per process: the vocabulary, mapper and writer, built once."""

    def __init__(
        self, root: Path, base_uri: str, generation: Generation, *, hold: bool = False
    ) -> None:
        vocab = load_vocab()
        self.vocab = vocab
        self.minter = Minter(base_uri)
        self.mapper = Mapper(vocab, self.minter)
        self.site = SiteWriter(root, self.minter, vocab, hold=hold)
        self.provenance = Provenance(base_uri, self.minter.vocab, generation)
        self.shapes = load_shapes(base_uri)

    def record(self, item: object) -> object:
        """Map and write a Record; anything else (notices, errors) passes through unchanged."""
        if not isinstance(item, Record):
            return item
        try:
            mapped = self.mapper.map(item)
        except SourceError as exc:
            exc.record_id = exc.record_id or item.id
            exc.file = exc.file or item.origin.file
            return exc
        shared = {entity.uri for entity in mapped.entities}
        provenance = self.provenance.record(mapped.doc_uri, item.origin)
        written = self.site.write(
            mapped.uri, mapped.triples, mapped.title, shared=shared, provenance=provenance
        )
        found = self.shapes.validate(mapped.triples)
        if found:
            written.violations = rows(found, mapped.triples, mapped.uri, item)
        date = mapped.date.verbatim if mapped.date else ""
        return RecordDone(
            item.id,
            mapped.uri,
            mapped.title,
            date,
            lastmod(item),
            written,
            mapped.entities,
            "\n\n".join(text for text in (item.summary, item.description) if text),
            "\n".join(text for text in (item.text, item.transcript) if text),
            index_labels(mapped, item.alt_title),
            item.origin.file,
            item.kind,
            item.unit or source_hash(item),
            record_sets(mapped, item, self.minter, self.vocab),
            item.origin.line,
        )

    def relocated(self, old: Written, uri: str, origin: Origin) -> Written:
        """An unchanged record whose row moved (a row above it was added or removed): the
        same documents and dump shares, its graph with provenance stating the new line."""
        doc = self.minter.doc(uri)
        provenance = serialize(self.provenance.record(doc, origin), format=RdfFormat.N_TRIPLES)
        share = old.plain_ntriples + (provenance or b"")
        nquads = gzip.compress(quads(share, doc), compresslevel=1, mtime=0)
        return Written(old.ntriples, old.turtle, old.line, old.digest, old.length, nquads)

    def entity(self, job: tuple[Entity, list[dict[str, str]]]) -> Written:
        entity, backlinks = job
        triples = self.mapper.entity_triples(entity)
        written = self.site.write(
            entity.uri,
            triples,
            entity.label,
            backlinks,
            provenance=self.provenance.entity(self.minter.doc(entity.uri)),
        )
        found = self.shapes.validate(triples)
        if found:
            written.violations = rows(found, triples, entity.uri)
        return written


INDEXED_LINKS = ("agent", "place", "subject", "archive", "collection")
"""Kinds of linked entity whose names find a record in the keyword index (not record sets:
their labels only repeat the citation)."""


def index_labels(mapped: Mapped, alt_title: str) -> list[str]:
    """The names a record is found by besides its title: its alternative title, then the
    labels and variants (a code name such as "FILIPPOV", an inverted heading) of the entities
    it links to itself; not those described for their sake, like the country of its archive."""
    labels = [alt_title] if alt_title else []
    for entity in mapped.entities:
        if entity.kind in INDEXED_LINKS and entity.uri in mapped.linked:
            labels.append(entity.label)
            labels.extend(sorted(entity.variants - {entity.label}))
    return list(dict.fromkeys(labels))


SET_GROUPS = {
    "type": "Document types",
    "archive": "Holding archives",
    "collection": "Collections",
}
"""OAI-PMH's top-level sets; a record is in a leaf such as `archive:aprf` and so in its parent."""


def record_sets(mapped: Mapped, record: Record, minter: Minter, vocab: Vocab) -> dict[str, str]:
    """The record's set specs and names: its document type, holding archives, collections.
    A type the vocabulary knows is its concept's set, whatever variant the source wrote
    ("Cable", "telegram"), so a harvester asking for `type:telegram` gets every telegram."""
    sets: dict[str, str] = {}
    if record.doc_type:
        known = vocab.doc_type(record.doc_type)
        if known is None:
            sets[f"type:{slugify(record.doc_type)}"] = record.doc_type
        else:
            sets[f"type:{known.slug}"] = known.label
    for entity in mapped.entities:
        if entity.kind in ("archive", "collection") and entity.uri in mapped.linked:
            sets[minter.path(entity.uri).replace("/", ":")] = entity.label
    return {spec: sets[spec] for spec in sorted(sets) if _SPEC.fullmatch(spec)}


def source_hash(record: Record) -> str:
    """What a record was read as: equal hashes need no new mapping. Where it was read (file,
    line) is left out, as it shapes error messages only, never the published data; so a row
    inserted above a record does not make it change. repr() of the plain values is exact and
    much faster than serializing them."""
    values = tuple(getattr(record, name) for name in _HASHED)
    return hashlib.sha256(repr(values).encode("utf-8", "surrogatepass")).hexdigest()


_HASHED = tuple(f.name for f in fields(Record) if f.name not in ("origin", "origins", "unit"))


def lastmod(record: Record) -> str:
    for value in (record.modified, record.uploaded):
        if len(value) >= 10 and value[4] == "-" and value[7] == "-":
            return value[:10]
    return ""


_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")
_WORKER: Worker | None = None


def init_worker(root: Path, base_uri: str, generation: Generation, parent: int = 0) -> None:
    global _WORKER
    if parent:
        die_with_parent(parent)
        leave_interrupts_to_parent()
    _WORKER = Worker(root, base_uri, generation)


def do_record(item: object) -> object:
    assert _WORKER is not None
    return _WORKER.record(item)


def do_entity(job: tuple[Entity, list[dict[str, str]]]) -> Written:
    assert _WORKER is not None
    return _WORKER.entity(job)


Setup = tuple[str, Generation, Path | None]
"""What a Dask worker needs to build its Worker: base URI, generation, and the output folder
when it shares the client's file system (a local cluster), else None."""
_WORKERS: dict[Setup, Worker] = {}
_BATCH = threading.Lock()


def do_batch(step: Callable[[Any], Any], setup: Setup, items: list[Any]) -> list[Any]:
    """`step` (do_record, do_entity) over a batch, as a Dask task: the worker process keeps one
    Worker per build, which writes into the output folder if it can, and else holds the
    documents for the client to write. One batch at a time per process: a Worker's caches are
    not thread-safe, and the work is Python code the GIL serializes anyway."""
    global _WORKER
    base_uri, made, root = setup
    with _BATCH:
        worker = _WORKERS.get(setup)
        if worker is None:
            _check_same_mapping(made)
            _WORKERS.clear()
            worker = Worker(root or Path(), base_uri, made, hold=root is None)
            _WORKERS[setup] = worker
        _WORKER = worker
        return [step(item) for item in items]


def _check_same_mapping(made: Generation) -> None:
    """A worker on another machine with another lod or vocab/ would publish other triples
    under the client's provenance: refuse it instead."""
    own = Generation(made.time, __version__, mapping_version(VOCAB_DIR))
    if own != made:
        raise PublishError(
            f"a Dask worker runs lod {own.software} with mapping version {own.mapping}, the "
            f"build lod {made.software} with {made.mapping}: install the same lod and vocab/ "
            "on every worker"
        )


__all__ = [
    "RecordDone",
    "SiteWriter",
    "Worker",
    "do_batch",
    "do_entity",
    "do_record",
    "init_worker",
    "write_files",
]
