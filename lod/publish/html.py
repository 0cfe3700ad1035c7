"""HTML pages for people: every property of a resource, links to the other formats, and the
same JSON-LD embedded for search engines.

The property tables are built here from the triples, with one str.translate per value, rather
than in a recursive jinja macro: pages are written for every record and entity, and the macro
cost more than all RDF serializations together. jinja2 (autoescaping) renders the page shell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from jinja2 import Environment, PackageLoader, Template, select_autoescape
from markupsafe import Markup
from pyoxigraph import Literal, Triple

from lod.formats import RDF_FORMATS
from lod.jsonld import XSD_STRING, Compactor
from lod.uris import has_document

LONG_TEXT = 300
SCHEMA_NAME = "http://schema.org/name"
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})


def escape(text: str) -> str:
    """HTML-escape text and attribute values (str.translate: one C pass, no Markup objects)."""
    return text.translate(_ESCAPES)


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("lod", "templates"), autoescape=select_autoescape(["html"])
    )


@dataclass
class Page:
    """What a page needs to link inside the site: the base URI and its own depth."""

    base: str
    compactor: Compactor
    path: str
    backlinks: list[dict[str, str]] = field(default_factory=list)
    links: dict[tuple[str, str | None, str], str] = field(default_factory=dict)
    """HTML fragments shared across pages: links by (IRI, name, depth), since records link the
    same entities, and row headings by (predicate, "<th>", "")."""

    @property
    def root(self) -> str:
        return "../" * self.path.count("/")

    def href(self, iri: str) -> str | None:
        """A relative link for an IRI under the base, else None: to the HTML page describing
        it when the build writes one, else to the IRI itself (a dump, the SPARQL endpoint, a
        term of lod's vocabulary), relative so that a build serves from any host."""
        if not iri.startswith(self.base):
            return None
        local = iri[len(self.base) :]
        path = local.split("#", 1)[0]
        if not path:
            return f"{self.root}index.html"
        if has_document(path):
            return f"{self.root}doc/{path}.html"
        if path.startswith("doc/") and has_document(path[len("doc/") :]):
            return f"{self.root}{path}.html"
        return self.root + local


def render(triples: list[Triple], page: Page, title: str, uri: str, line: str) -> str:
    """The page for `uri`; `line` is its JSON-LD, already serialized for the dumps, embedded."""
    stem = escape(page.path.rsplit("/", 1)[-1])
    alternate_links = "".join(
        f'<link rel="alternate" type="{f.media_type}" href="{stem}{f.suffix}" title="{f.label}">\n'
        for f in RDF_FORMATS
    )
    format_links = "".join(f'<a href="{stem}{f.suffix}">{f.label}</a>' for f in RDF_FORMATS)
    body = _body(triples, uri, page)
    if page.backlinks:
        items = "".join(
            f'<li><a href="{escape(b["href"])}">{escape(b["text"])}</a></li>'
            for b in page.backlinks
        )
        body += f"<h2>Records</h2><ul>{items}</ul>"
    return _template().render(
        title=title,
        uri=uri,
        root=page.root,
        alternate_links=Markup(alternate_links),
        format_links=Markup(format_links),
        body=Markup(body),
        # JSON inside <script>: "<" escaped so no value can close the element.
        jsonld=Markup(line.replace("<", "\\u003c")),
    )


@lru_cache(maxsize=1)
def _template() -> Template:
    return environment().get_template("page.html")


def _body(triples: list[Triple], uri: str, page: Page) -> str:
    """Tables straight from the triples: the resource first, the nodes it owns (`uri#...`)
    nested where they are used, linked entities as links under their names, the rest after."""
    groups: dict[str, list[Triple]] = {}
    for triple in triples:
        groups.setdefault(str(triple.subject.value), []).append(triple)  # type: ignore[union-attr]
    names = {
        subject: str(t.object.value)  # type: ignore[union-attr]
        for subject, group in groups.items()
        for t in group
        if t.predicate.value == SCHEMA_NAME and subject != uri
    }
    own = f"{uri}#"
    shown: set[str] = set()
    sections = [_table(uri, groups, names, own, page, shown)]
    for subject in groups:
        if subject not in shown and subject not in names and not subject.startswith(own):
            title = escape(page.compactor.iri(subject))
            sections.append(f"<h2>{title}</h2>" + _table(subject, groups, names, own, page, shown))
    return "".join(sections)


def _table(
    subject: str,
    groups: dict[str, list[Triple]],
    names: dict[str, str],
    own: str,
    page: Page,
    shown: set[str],
) -> str:
    shown.add(subject)
    rows: dict[str, list[str]] = {}
    for triple in groups.get(subject, ()):
        obj = triple.object
        if isinstance(obj, Literal):
            note = obj.language or (
                "" if obj.datatype.value == XSD_STRING else page.compactor.iri(obj.datatype.value)
            )
            cell = _text(obj.value, note)
        else:
            target = str(obj.value)  # type: ignore[union-attr]
            if target.startswith(own) and target in groups and target not in shown:
                cell = _table(target, groups, names, own, page, shown)
            else:
                cell = _link(target, names.get(target), page)
        rows.setdefault(triple.predicate.value, []).append(cell)
    return (
        "<table>"
        + "".join(_row(predicate, cells, page) for predicate, cells in rows.items())
        + "</table>"
    )


def _row(predicate: str, cells: list[str], page: Page) -> str:
    head = page.links.get((predicate, "<th>", ""))
    if head is None:
        label = escape(page.compactor.iri(predicate))
        head = page.links[(predicate, "<th>", "")] = (
            f'<tr><th title="{escape(predicate)}">{label}</th><td>'
        )
    return head + "<br>".join(cells) + "</td></tr>"


def _text(text: str, note: str) -> str:
    css = ' class="text"' if len(text) > LONG_TEXT or "\n" in text else ""
    extra = f' <span class="uri">({escape(note)})</span>' if note else ""
    return f"<div{css}>{escape(text)}{extra}</div>"


def _link(iri: str, name: str | None, page: Page) -> str:
    key = (iri, name, page.root)
    html = page.links.get(key)
    if html is None:
        html = _make_link(iri, name, page)
        if len(page.links) < 200_000:
            page.links[key] = html
    return html


def _make_link(iri: str, name: str | None, page: Page) -> str:
    href = page.href(iri) or (iri if iri.startswith(("http://", "https://")) else None)
    text = name or page.compactor.iri(iri)
    note = f' <span class="uri">{escape(iri)}</span>' if name else ""
    if href is None:
        return f"<span>{escape(text)}</span>{note}"
    return f'<a href="{escape(href)}">{escape(text)}</a>{note}'
