"""The whole-site files every build writes last, full or incremental alike: the dataset
description (VoID), the index page, the sitemap, report.json and build.json.

They are made from the build state and the change log, never from what one build happened to
read, so an incremental build writes them exactly as a full build of the same input would.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from markupsafe import Markup
from markupsafe import escape as escape_html
from pyoxigraph import DefaultGraph, NamedNode, Quad, Triple

from lod.changelog import ChangeLog
from lod.config import Config
from lod.namespaces import PREFIXES
from lod.publish.dataset import Dump, dataset_triples
from lod.publish.state import BuildState
from lod.publish.validation import (
    REPORT_FILE,
    Validation,
    assemble,
    quality_triples,
    rows,
    write_report,
)
from lod.publish.writer import SiteWriter
from lod.shacl import load_shapes
from lod.shapes import SH
from lod.statistics import QB, SDMX_DIMENSION, SDMX_MEASURE, statistics_graph
from lod.store import BUILD_INFO
from lod.uris import Minter

VOCABULARIES = (
    *(PREFIXES[p] for p in ("schema", "dcterms", "rico", "skos", "foaf", "owl", "dcat")),
    *(PREFIXES[p] for p in ("prov", "pav")),  # each graph's provenance
    QB,  # the record counts (lod.statistics)
    SDMX_DIMENSION,
    SDMX_MEASURE,
    SH,  # the published shapes
)
"""void:vocabulary: every vocabulary whose properties or classes the dataset's graphs use, but
RDF and RDF Schema themselves (tests/test_build.py holds the list to a build's store)."""

MARKER = ".lod-output"
EXIT_OK, EXIT_FAILED, EXIT_REJECTED = 0, 1, 3
EXAMPLES = 5
SITEMAP_LIMIT = 50_000
"""URLs per sitemap file, the sitemaps protocol's limit; more make a sitemap index."""


@dataclass
class BuildReport:
    """What a build did; written as report.json and summarized on stderr."""

    attempted: int = 0
    published: int = 0
    rejected: int = 0
    duplicates: int = 0
    cleaned: int = 0
    """Published records whose values lod had to repair (each has a `cleaned` entry)."""
    entities: int = 0
    triples: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    changes: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "updated": 0, "deleted": 0}
    )
    incremental: bool = False
    validation: Validation = field(default_factory=Validation)
    """The SHACL results (records are published whatever they are; `--strict` refuses
    results of severity Violation)."""

    @property
    def exit_code(self) -> int:
        return EXIT_REJECTED if self.rejected or self.duplicates else EXIT_OK

    @property
    def refused_by_strict(self) -> bool:
        """What `--strict` does not publish: a rejected or duplicate record, or a SHACL result
        of severity Violation (warnings pass)."""
        return self.exit_code != EXIT_OK or self.validation.invalid > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempted": self.attempted,
            "published": self.published,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "cleaned": self.cleaned,
            "entities": self.entities,
            "triples": self.triples,
            "errors": self.errors,
            "skipped": self.skipped,
            "changes": self.changes,
            "conforms": self.validation.conforms,
            "violations": self.validation.entries,
        }


@dataclass
class Described:
    """The dataset description and the validation report, for the store."""

    description: list[Triple]
    report: list[Triple]
    report_graph: str


def describe(
    root: Path,
    config: Config,
    site: SiteWriter,
    state: BuildState,
    report: BuildReport,
    *,
    triples: int,
    records: int,
    examples: list[str],
    entities: int,
    dumps: list[Dump],
    modified: str,
    agent: list[Triple],
) -> Described:
    """Write the dataset description (doc/dataset.*, /.well-known/void) and the validation
    report (validation.ttl, with the dataset's own results), and put the results in `report`.
    `agent` describes the software the graphs' provenance names."""
    minter = site.minter
    description = dataset_triples(
        config,
        minter.dataset,
        triples=triples,
        entities=entities,
        records=records,
        examples=examples[:EXAMPLES],
        dumps=dumps,
        modified=modified,
        vocabularies=sorted({*VOCABULARIES, minter.vocab}),
    )
    description += agent
    found = load_shapes(config.base_uri).validate(description)
    state.put_violations(minter.dataset, rows(found, description, minter.dataset))
    report.validation = assemble(state)
    checked = write_report(root, config.base_uri, report.validation)
    description += quality_triples(minter.dataset, config.base_uri, report.validation.conforms)
    site.write(minter.dataset, description, config.title)
    (root / ".well-known").mkdir(exist_ok=True)
    (root / ".well-known" / "void").write_bytes((root / "doc" / "dataset.ttl").read_bytes())
    return Described(description, checked, config.base_uri + REPORT_FILE)


def store_quads(described: Described, statistics: list[Triple], base: str) -> list[Quad]:
    """The description in the default graph; the validation report and the record counts
    (lod.statistics) each in a graph of its own, named by its file."""
    return (
        in_graph(described.description, DefaultGraph())
        + in_graph(described.report, NamedNode(described.report_graph))
        + in_graph(statistics, NamedNode(statistics_graph(base)))
    )


def in_graph(triples: list[Triple], graph: NamedNode | DefaultGraph) -> list[Quad]:
    return [Quad(t.subject, t.predicate, t.object, graph) for t in triples]


def modified_date(config: Config, lastmods: list[str]) -> str:
    if config.source_date_epoch is not None:
        return datetime.fromtimestamp(config.source_date_epoch, UTC).strftime("%Y-%m-%d")
    return max((m for m in lastmods if m), default="")


def write_pages(
    root: Path,
    config: Config,
    minter: Minter,
    state: BuildState,
    log: ChangeLog,
    report: BuildReport,
    dumps: list[Dump],
) -> None:
    """index.html, the sitemap, robots.txt, report.json, build.json and the output marker."""
    write_index(root, config, minter, state, report, dumps)
    write_sitemap(root, minter, log)
    (root / "robots.txt").write_text(
        f"User-agent: *\nAllow: /\nSitemap: {minter.base}sitemap.xml\n", encoding="utf-8"
    )
    (root / "report.json").write_text(
        json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    info = {
        "base_uri": config.base_uri,
        "title": config.title,
        "records": report.published,
        "triples": report.triples,
    }
    (root / BUILD_INFO).write_text(
        json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (root / MARKER).write_text("lod build output\n", encoding="utf-8")


def index_page_name(number: int) -> str:
    return "index.html" if number == 1 else f"index-{number}.html"


def write_index(
    root: Path,
    config: Config,
    minter: Minter,
    state: BuildState,
    report: BuildReport,
    dumps: list[Dump],
) -> None:
    """The records in source order, `index_page_size` to a page, each page linking the next
    and the previous (rel next/prev): a million records on one page (250 MB) is more than a
    browser opens. The rows are written here, not by the template: 100,000 rows through Jinja
    took seconds, and rows joined would hold a page in memory."""
    from lod.publish.html import environment

    template = environment().get_template("index.html")
    size = max(1, config.index_page_size)
    count = state.record_count()
    pages = max(1, -(-count // size))
    rows = state.index_rows()
    slot = "\x00rows\x00"
    links = [{"path": d.path, "label": d.label} for d in dumps]
    for number in range(1, pages + 1):
        first = (number - 1) * size
        html = template.render(
            title=config.title,
            description=config.description,
            count=count,
            items=Markup(slot),
            triples=report.triples,
            dumps=links,
            shown=f"{first + 1:,}–{min(count, first + size):,} of {count:,}" if pages > 1 else "",
            previous=index_page_name(number - 1) if number > 1 else "",
            next=index_page_name(number + 1) if number < pages else "",
        )
        head, tail = html.rsplit(slot, 1)
        with (root / index_page_name(number)).open("w", encoding="utf-8") as page:
            page.write(head)
            for uri, record_id, title, date in itertools.islice(rows, size):
                page.write(
                    f'<li><a href="{escape_html("doc/" + minter.path(uri) + ".html")}">'
                    f"{escape_html(title or record_id)}</a> "
                    f'<span class="meta">{escape_html(date)} · {escape_html(record_id)}</span>'
                    "</li>\n"
                )
            page.write(tail)


def write_sitemap(root: Path, minter: Minter, log: ChangeLog) -> None:
    """Every published page with `lastmod` from the change log (when its content last
    changed); over SITEMAP_LIMIT URLs, a sitemap index with numbered parts in sitemaps/,
    written one part at a time."""
    urls = itertools.chain(
        [(f"{minter.base}index.html", "")],
        ((minter.doc(uri) + ".html", modified) for uri, _kind, modified in log.lastmods()),
    )
    part = list(itertools.islice(urls, SITEMAP_LIMIT + 1))
    if len(part) <= SITEMAP_LIMIT:
        _sitemap(root / "sitemap.xml", "urlset", "url", part)
        return
    folder = root / "sitemaps"
    folder.mkdir(exist_ok=True)
    rest = itertools.chain(part[SITEMAP_LIMIT:], urls)
    part = part[:SITEMAP_LIMIT]
    parts = []
    number = 1
    while part:
        name = f"sitemap-{number:04d}.xml"
        _sitemap(folder / name, "urlset", "url", part)
        parts.append((f"{minter.base}sitemaps/{name}", max(m for _, m in part)))
        part = list(itertools.islice(rest, SITEMAP_LIMIT))
        number += 1
    _sitemap(root / "sitemap.xml", "sitemapindex", "sitemap", parts)


def _sitemap(path: Path, root: str, entry: str, items: list[tuple[str, str]]) -> None:
    """A sitemap file: `urlset` of `url`s, or `sitemapindex` of `sitemap`s, with lastmod."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<{root} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for loc, lastmod in items:
        stamp = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
        lines.append(f"<{entry}><loc>{escape(loc)}</loc>{stamp}</{entry}>")
    lines.append(f"</{root}>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


__all__ = ["MARKER", "BuildReport", "describe", "modified_date", "write_pages", "write_sitemap"]
