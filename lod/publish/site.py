"""`lod build`: read -> map -> write every format per record and entity, dumps, store, VoID.

The build writes into a fresh folder beside the output and swaps it in only when everything
succeeded, so a failed or killed build leaves the last good publication as it was. Output bytes
depend only on the input (and SOURCE_DATE_EPOCH), never on the clock or the file system order.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pyoxigraph import DefaultGraph, Quad, RdfFormat, Store, Triple
from tqdm import tqdm

from lod.config import Config
from lod.errors import LodError, PublishError, SourceError
from lod.formats import BY_NAME, FORMATS, RDF_FORMATS, Writer
from lod.jsonld import Compactor, dumps
from lod.mapping import Entity, Mapped, Mapper
from lod.model import Record
from lod.namespaces import PREFIXES, prefixes_for
from lod.publish.dataset import Dump, dataset_triples
from lod.publish.html import Page, render
from lod.sources import Skipped, read_sources
from lod.uris import Minter
from lod.vocab import Vocab, load_vocab

MARKER = ".lod-output"
EXIT_OK, EXIT_FAILED, EXIT_REJECTED = 0, 1, 3
MAX_BACKLINKS = 500
EXAMPLES = 5


@dataclass
class BuildReport:
    """What a build did; written as report.json and summarized on stderr."""

    attempted: int = 0
    published: int = 0
    rejected: int = 0
    duplicates: int = 0
    entities: int = 0
    triples: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_REJECTED if self.rejected or self.duplicates else EXIT_OK

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempted": self.attempted,
            "published": self.published,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "entities": self.entities,
            "triples": self.triples,
            "errors": self.errors,
            "skipped": self.skipped,
        }


class SiteWriter:
    """Writes one resource (record, entity, dataset) in every format under doc/."""

    def __init__(self, root: Path, minter: Minter, vocab: Vocab) -> None:
        self.root = root
        self.minter = minter
        context: dict[str, Any] = dict(vocab.context["@context"])  # type: ignore[call-overload]
        context["lod"] = minter.vocab
        self.context = {"@context": context}
        self.compactor = Compactor(context)
        self.writer = Writer(
            prefixes_for(minter.vocab), self.compactor, minter.base + "context.jsonld"
        )
        self._dirs: set[Path] = set()

    def write(
        self,
        thing_uri: str,
        triples: list[Triple],
        title: str,
        backlinks: list[dict[str, str]] | None = None,
    ) -> tuple[bytes, dict[str, Any]]:
        """Write all formats; return the N-Triples bytes and JSON-LD document for the dumps."""
        path = "doc/" + self.minter.path(thing_uri)
        stem = self.root / path
        if stem.parent not in self._dirs:
            stem.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(stem.parent)
        document = self.writer.jsonld(triples, thing_uri)
        ntriples = b""
        for fmt in RDF_FORMATS:
            data = (
                (dumps(document) + "\n").encode("utf-8")
                if fmt.name == "jsonld"
                else self.writer.rdf(fmt, triples, thing_uri)
            )
            if fmt.name == "ntriples":
                ntriples = data
            (stem.parent / (stem.name + fmt.suffix)).write_bytes(data)
        page = Page(self.minter.base, self.compactor, path, backlinks or [])
        html = render(document, page, title or thing_uri, thing_uri)
        (stem.parent / (stem.name + ".html")).write_text(html, encoding="utf-8")
        return ntriples, document


@dataclass
class _Published:
    id: str
    uri: str
    title: str
    date: str
    lastmod: str


def build(
    sources: Iterable[Path],
    out: Path,
    config: Config,
    *,
    base_dir: Path | None = None,
    on_problem: Callable[[str], None] | None = None,
) -> BuildReport:
    """Build the site for `sources` into `out`; see the module docstring for the guarantees."""
    out = out.resolve()
    _check_output(out)
    tmp = out.parent / f".{out.name}.building-{os.getpid()}"
    _clean_stale(out)
    tmp.mkdir(parents=True)
    try:
        report = _build_into(list(sources), tmp, config, base_dir, on_problem or (lambda _m: None))
        if config.strict and report.exit_code != EXIT_OK:
            shutil.rmtree(tmp, ignore_errors=True)
            return report
        _swap(tmp, out)
        return report
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _build_into(
    sources: list[Path],
    root: Path,
    config: Config,
    base_dir: Path | None,
    on_problem: Callable[[str], None],
) -> BuildReport:
    vocab = load_vocab()
    minter = Minter(config.base_uri)
    mapper = Mapper(vocab, minter)
    site = SiteWriter(root, minter, vocab)
    report = BuildReport()
    entities: dict[str, Entity] = {}
    backlinks: dict[str, list[dict[str, str]]] = {}
    published: list[_Published] = []
    seen: dict[tuple[str, str], str] = {}
    (root / "dumps").mkdir()
    nt_path = root / "dumps" / "dataset.nt.gz"
    show = config.progress and sys.stderr.isatty()
    with (
        _gzip(nt_path) as nt_dump,
        (root / "dumps" / "records.jsonl").open("w", encoding="utf-8") as jsonl,
        tqdm(unit=" records", disable=not show, desc="lod build") as bar,
    ):
        for item in read_sources(sources, base_dir):
            if isinstance(item, Skipped):
                report.skipped.append({"file": item.file, "reason": item.reason})
                on_problem(f"notice: {item.file}: skipped, {item.reason}")
                continue
            report.attempted += 1
            bar.update(1)
            if isinstance(item, SourceError):
                _reject(report, item, on_problem)
                continue
            key = (item.kind, item.id)
            if key in seen:
                report.duplicates += 1
                error = SourceError(
                    f"duplicate record ID {item.id!r}, first read from {seen[key]}",
                    file=item.origin.file,
                    line=item.origin.line,
                    field="id",
                    value=item.id,
                    hint="give each record its own ID; this copy was not published",
                    record_id=item.id,
                )
                report.errors.append({**error.as_dict(), "kind": "duplicate"})
                on_problem(f"error: {error}")
                continue
            try:
                mapped = mapper.map(item)
            except SourceError as exc:
                exc.record_id = exc.record_id or item.id
                exc.file = exc.file or item.origin.file
                _reject(report, exc, on_problem)
                continue
            seen[key] = _where(item)
            ntriples, document = site.write(mapped.uri, mapped.triples, mapped.title)
            nt_dump.write(ntriples)
            jsonl.write(dumps(document, indent=None) + "\n")
            _collect(mapped, entities, backlinks, minter)
            published.append(
                _Published(
                    item.id,
                    mapped.uri,
                    mapped.title,
                    mapped.date.verbatim if mapped.date else "",
                    _lastmod(item),
                )
            )
            report.published += 1
        record_uris = {p.uri for p in published}
        for uri in sorted(entities):
            if uri in record_uris:
                continue  # a collection read as a record already has its own, fuller page
            entity = entities[uri]
            triples = mapper.entity_triples(entity)
            ntriples, document = site.write(uri, triples, entity.label, backlinks.get(uri))
            nt_dump.write(ntriples)
            jsonl.write(dumps(document, indent=None) + "\n")
        report.entities = len(entities)
    _write_static(root, site, vocab)
    store = Store(str(root / "store"))
    with gzip.open(nt_path, "rb") as handle:
        store.bulk_load(handle, RdfFormat.N_TRIPLES)  # type: ignore[arg-type]
    _write_turtle_dump(store, root / "dumps" / "dataset.ttl")
    dumps_list = _checksums(root / "dumps")
    report.triples = len(store)
    modified = _modified(config, published)
    examples = [p.uri for p in published[:EXAMPLES]]
    description = dataset_triples(
        config,
        minter.dataset,
        triples=report.triples,
        entities=len(entities),
        records=len(published),
        examples=examples,
        dumps=dumps_list,
        modified=modified,
        vocabularies=sorted(
            {PREFIXES[p] for p in ("schema", "dcterms", "rico", "skos", "foaf")} | {minter.vocab}
        ),
    )
    store.bulk_extend([Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in description])
    store.flush()
    site.write(minter.dataset, description, config.title)
    void = site.writer.rdf(BY_NAME["turtle"], description, minter.dataset)
    (root / ".well-known").mkdir()
    (root / ".well-known" / "void").write_bytes(void)
    _write_index(root, config, published, report, dumps_list)
    _write_sitemap(root, minter, published, entities)
    (root / "robots.txt").write_text(
        f"User-agent: *\nAllow: /\nSitemap: {minter.base}sitemap.xml\n", encoding="utf-8"
    )
    (root / "report.json").write_text(
        json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (root / MARKER).write_text("lod build output\n", encoding="utf-8")
    return report


def _reject(report: BuildReport, error: SourceError, on_problem: Callable[[str], None]) -> None:
    report.rejected += 1
    report.errors.append({**error.as_dict(), "kind": "rejected"})
    on_problem(f"error: {error}")


def _where(record: Record) -> str:
    line = f":{record.origin.line}" if record.origin.line else ""
    return f"{record.origin.file}{line}"


def _lastmod(record: Record) -> str:
    for value in (record.modified, record.uploaded):
        if len(value) >= 10 and value[4] == "-" and value[7] == "-":
            return value[:10]
    return ""


def _collect(
    mapped: Mapped,
    entities: dict[str, Entity],
    backlinks: dict[str, list[dict[str, str]]],
    minter: Minter,
) -> None:
    for entity in mapped.entities:
        known = entities.get(entity.uri)
        if known is None:
            entities[entity.uri] = Entity(
                entity.uri,
                entity.kind,
                entity.types,
                entity.label,
                set(entity.variants),
                entity.same_as,
                list(entity.links),
                list(entity.literals),
            )
        else:
            known.merge(entity)
        links = backlinks.setdefault(entity.uri, [])
        if len(links) < MAX_BACKLINKS:
            depth = minter.path(entity.uri).count("/") + 1
            links.append(
                {
                    "href": "../" * depth + "doc/" + minter.path(mapped.uri) + ".html",
                    "text": mapped.title or mapped.record_id,
                }
            )


class _gzip:
    """A gzip stream with no name or time in its header, so equal input gives equal bytes."""

    def __init__(self, path: Path) -> None:
        self.raw: IO[bytes] = path.open("wb")
        self.stream = gzip.GzipFile(
            filename="", mode="wb", fileobj=self.raw, mtime=0, compresslevel=6
        )

    def __enter__(self) -> gzip.GzipFile:
        return self.stream

    def __exit__(self, *exc: object) -> None:
        self.stream.close()
        self.raw.close()


def _write_turtle_dump(store: Store, path: Path) -> None:
    """The whole graph as Turtle, streamed by the store in its (content-determined) index order."""
    store.dump(str(path), RdfFormat.TURTLE, from_graph=DefaultGraph(), prefixes=PREFIXES)


DUMP_TYPES = {
    "dataset.nt.gz": ("application/n-triples", "N-Triples (gzip)"),
    "dataset.ttl": ("text/turtle", "Turtle"),
    "records.jsonl": ("application/ld+json", "JSON-LD, one resource per line"),
}


def _checksums(folder: Path) -> list[Dump]:
    result = []
    lines = []
    for name in sorted(DUMP_TYPES):
        digest = hashlib.sha256()
        with (folder / name).open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        media_type, label = DUMP_TYPES[name]
        result.append(
            Dump(
                f"dumps/{name}",
                media_type,
                label,
                digest.hexdigest(),
                (folder / name).stat().st_size,
            )
        )
        lines.append(f"{digest.hexdigest()}  {name}\n")
    (folder / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")
    return result


def _modified(config: Config, published: list[_Published]) -> str:
    if config.source_date_epoch is not None:
        return datetime.fromtimestamp(config.source_date_epoch, UTC).strftime("%Y-%m-%d")
    return max((p.lastmod for p in published if p.lastmod), default="")


def _write_static(root: Path, site: SiteWriter, vocab: Vocab) -> None:
    (root / "context.jsonld").write_text(
        json.dumps(site.context, indent=2) + "\n", encoding="utf-8"
    )
    (root / "vocab").mkdir(exist_ok=True)
    ttl = vocab.lod_ttl.replace("<BASE/vocab/", f"<{site.minter.base}vocab/")
    (root / "vocab" / "lod.ttl").write_text(ttl, encoding="utf-8")


def _write_index(
    root: Path,
    config: Config,
    published: list[_Published],
    report: BuildReport,
    dumps_list: list[Dump],
) -> None:
    from lod.publish.html import environment

    records = [
        {
            "href": "doc/" + p.uri[len(config.base_uri) :] + ".html",
            "title": p.title or p.id,
            "date": p.date,
            "id": p.id,
        }
        for p in published
    ]
    html = (
        environment()
        .get_template("index.html")
        .render(
            title=config.title,
            description=config.description,
            records=records,
            triples=report.triples,
            dumps=[{"path": d.path, "label": d.label} for d in dumps_list],
        )
    )
    (root / "index.html").write_text(html, encoding="utf-8")


def _write_sitemap(
    root: Path, minter: Minter, published: list[_Published], entities: dict[str, Entity]
) -> None:
    from xml.sax.saxutils import escape

    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
        f"<url><loc>{escape(minter.base)}index.html</loc></url>",
    ]
    for p in published:
        lastmod = f"<lastmod>{p.lastmod}</lastmod>" if p.lastmod else ""
        lines.append(f"<url><loc>{escape(minter.doc(p.uri))}.html</loc>{lastmod}</url>")
    for uri in sorted(entities):
        lines.append(f"<url><loc>{escape(minter.doc(uri))}.html</loc></url>")
    lines.append("</urlset>")
    (root / "sitemap.xml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _check_output(out: Path) -> None:
    """Refuse to replace a folder lod did not write: `--out ~` must not delete a home folder."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise PublishError(
            f"{out} exists and is not a lod output folder; choose an empty or new folder for --out"
        )


def _clean_stale(out: Path) -> None:
    for stale in out.parent.glob(f".{out.name}.building-*"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale in out.parent.glob(f".{out.name}.old-*"):
        shutil.rmtree(stale, ignore_errors=True)


def _swap(tmp: Path, out: Path) -> None:
    try:
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.rename(out, old)
            os.rename(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out)
    except OSError as exc:
        raise PublishError(f"cannot move the new build into {out}: {exc.strerror}") from exc


__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_REJECTED", "FORMATS", "BuildReport", "LodError", "build"]
