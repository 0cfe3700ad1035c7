"""`lod build`: read -> map -> write every format per record and entity, dumps, store, keyword
index, VoID.

The build writes into a fresh folder beside the output and swaps it in only when everything
succeeded, so a failed or killed build leaves the last good publication as it was. Output bytes
depend only on the input (and SOURCE_DATE_EPOCH), never on the clock or the file system order.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import itertools
import json
import multiprocessing
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pyoxigraph import DefaultGraph, Quad, Store
from tqdm import tqdm

from lod.authorities import Entity
from lod.config import Config
from lod.errors import PublishError, SourceError
from lod.model import Record
from lod.namespaces import PREFIXES, prefixes_for
from lod.publish.dataset import Dump, dataset_triples
from lod.publish.writer import (
    RecordDone,
    SiteWriter,
    Written,
    do_entity,
    do_record,
    init_worker,
)
from lod.sources import Skipped, read_sources
from lod.store import BUILD_INFO, StreamLoader
from lod.textindex import INDEX_FILE, TextIndexWriter
from lod.uris import Minter
from lod.vocab import Vocab, load_vocab

MARKER = ".lod-output"
EXIT_OK, EXIT_FAILED, EXIT_REJECTED = 0, 1, 3
MAX_BACKLINKS = 500
EXAMPLES = 5
WINDOW = 1024
LOCK_WAIT = 5.0
"""Seconds a build waits for the output's lock before giving up."""


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
    out.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(out):
        tmp = out.parent / f".{out.name}.building-{os.getpid()}"
        _clean_stale(out)
        tmp.mkdir()
        try:
            report = _build_into(
                list(sources), tmp, config, base_dir, on_problem or (lambda _m: None)
            )
            if config.strict and report.exit_code != EXIT_OK:
                shutil.rmtree(tmp, ignore_errors=True)
                return report
            _swap(tmp, out)
            return report
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


@contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """One build per output folder at a time: a second one fails instead of deleting the first
    one's work in progress. The lock dies with its holders, even under kill -9; forked workers
    hold it too and die a moment after a killed build, hence the short wait."""
    with (out.parent / f".{out.name}.lock").open("a") as handle:
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() > deadline:
                    raise PublishError(
                        f"another lod build is writing {out}; wait for it to finish"
                    ) from exc
                time.sleep(0.05)
        yield


def _build_into(
    sources: list[Path],
    root: Path,
    config: Config,
    base_dir: Path | None,
    on_problem: Callable[[str], None],
) -> BuildReport:
    vocab = load_vocab()
    minter = Minter(config.base_uri)
    site = SiteWriter(root, minter, vocab)
    report = BuildReport()
    entities: dict[str, Entity] = {}
    backlinks: dict[str, list[dict[str, str]]] = {}
    published: list[_Published] = []
    (root / "dumps").mkdir()
    show = config.progress and sys.stderr.isatty()
    with (
        _pool(config.workers, root, config.base_uri) as run,
        _Dumps(root / "dumps", prefixes_for(minter.vocab), root / "store") as dumps,
        TextIndexWriter(root / INDEX_FILE) as index,
        tqdm(unit=" records", disable=not show, desc="lod build") as bar,
    ):
        for result in run(do_record, _deduplicated(read_sources(sources, base_dir))):
            if isinstance(result, Skipped):
                report.skipped.append({"file": result.file, "reason": result.reason})
                on_problem(f"notice: {result.file}: skipped, {result.reason}")
                continue
            report.attempted += 1
            bar.update(1)
            if isinstance(result, DuplicateError):
                report.duplicates += 1
                report.errors.append({**result.as_dict(), "kind": "duplicate"})
                on_problem(f"error: {result}")
            elif isinstance(result, SourceError):
                report.rejected += 1
                report.errors.append({**result.as_dict(), "kind": "rejected"})
                on_problem(f"error: {result}")
            elif isinstance(result, RecordDone):
                dumps.add(result.written)
                index.add(
                    result.uri,
                    _kind(minter, result.uri),
                    result.title,
                    summary=result.summary,
                    text=result.text,
                    labels=result.labels,
                )
                _collect(result, entities, backlinks, minter)
                published.append(
                    _Published(result.id, result.uri, result.title, result.date, result.lastmod)
                )
                report.published += 1
        record_uris = {p.uri for p in published}
        # A collection read as a record already has its own, fuller page.
        jobs = [
            (entities[u], backlinks.get(u, [])) for u in sorted(entities) if u not in record_uris
        ]
        for entity, _links in jobs:
            index.add(
                entity.uri,
                _kind(minter, entity.uri),
                entity.label,
                labels=sorted(entity.variants - {entity.label}),
            )
        for written in run(do_entity, jobs):
            dumps.add(written)
        report.entities = len(entities)
    _write_static(root, site, vocab)
    store = Store(str(root / "store"))
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
    (root / ".well-known").mkdir()
    shutil.copyfile(root / "doc" / "dataset.ttl", root / ".well-known" / "void")
    _write_index(root, config, published, report, dumps_list)
    _write_sitemap(root, minter, published, entities)
    (root / "robots.txt").write_text(
        f"User-agent: *\nAllow: /\nSitemap: {minter.base}sitemap.xml\n", encoding="utf-8"
    )
    (root / "report.json").write_text(
        json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (root / BUILD_INFO).write_text(
        json.dumps(
            {
                "base_uri": config.base_uri,
                "title": config.title,
                "records": len(published),
                "triples": report.triples,
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    (root / MARKER).write_text("lod build output\n", encoding="utf-8")
    return report


def _collect(
    mapped: RecordDone,
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
                    "text": mapped.title or mapped.id,
                }
            )


def _kind(minter: Minter, uri: str) -> str:
    """'record', 'agent', ... : the first segment of the URI path (record sets live under
    their archive, so they are found as 'archive')."""
    return minter.path(uri).split("/", 1)[0]


class DuplicateError(SourceError):
    """A record whose ID an earlier record already has; the later copy is not published."""


def _deduplicated(items: Iterable[object]) -> Iterator[object]:
    """Turn repeated (kind, ID) pairs into DuplicateErrors before any worker writes files."""
    seen: dict[tuple[str, str], str] = {}
    for item in items:
        if isinstance(item, Record):
            key = (item.kind, item.id)
            where = f"{item.origin.file}{f':{item.origin.line}' if item.origin.line else ''}"
            if key in seen:
                yield DuplicateError(
                    f"duplicate record ID {item.id!r}, first read from {seen[key]}",
                    file=item.origin.file,
                    line=item.origin.line,
                    field="id",
                    value=item.id,
                    hint="give each record its own ID; this copy was not published",
                    record_id=item.id,
                )
                continue
            seen[key] = where
        yield item


Runner = Callable[[Callable[[Any], Any], Iterable[Any]], Iterator[Any]]


@contextmanager
def _pool(workers: int, root: Path, base_uri: str) -> Iterator[Runner]:
    """Run per-resource jobs in order, across worker processes when there is more than one core.

    `imap` keeps input order, so dumps and reports are identical whatever the worker count."""
    count = workers or os.cpu_count() or 1
    if count <= 1:
        init_worker(root, base_uri)
        yield lambda fn, items: map(fn, items)
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(count, init_worker, (root, base_uri, os.getpid())) as pool:

        def run(fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
            # Two windows in flight at most: imap alone would read all sources into memory.
            pending: Iterator[Any] | None = None
            iterator = iter(items)
            while window := list(itertools.islice(iterator, WINDOW)):
                started = pool.imap(fn, window, chunksize=16)
                if pending is not None:
                    yield from pending
                pending = started
            if pending is not None:
                yield from pending

        yield run


class _Dumps:
    """The three dumps, written as resources stream in. The gzip stream carries no name or time,
    so equal input gives equal bytes; the Turtle dump declares its prefixes once."""

    def __init__(self, folder: Path, prefixes: dict[str, str], store: Path) -> None:
        self.loader = StreamLoader(store)
        self.raw: IO[bytes] = (folder / "dataset.nt.gz").open("wb")
        self.nt = gzip.GzipFile(filename="", mode="wb", fileobj=self.raw, mtime=0, compresslevel=1)
        self.ttl: IO[bytes] = (folder / "dataset.ttl").open("wb")
        self.ttl.write("".join(f"@prefix {p}: <{ns}> .\n" for p, ns in prefixes.items()).encode())
        self.jsonl: IO[str] = (folder / "records.jsonl").open("w", encoding="utf-8")

    def add(self, written: Written) -> None:
        self.loader.write(written.ntriples)
        self.nt.write(written.ntriples)
        self.ttl.write(written.turtle)
        self.jsonl.write(written.line + "\n")

    def __enter__(self) -> _Dumps:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        self.nt.close()
        self.raw.close()
        self.ttl.close()
        self.jsonl.close()
        if kind is None:
            self.loader.close()
        else:
            self.loader.abort()


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


__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_REJECTED", "BuildReport", "build"]
