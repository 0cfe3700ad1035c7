"""HTML pages for people: every property of a resource, links to the other formats, and the
same JSON-LD embedded for search engines.

The property tables are built here with markupsafe's escape (one call per value) rather than in
a recursive jinja macro: pages are written for every record and entity, and the macro cost more
than all RDF serializations together. jinja2 (autoescaping) renders the page shell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, Template, select_autoescape
from markupsafe import Markup

from lod.formats import RDF_FORMATS
from lod.jsonld import Compactor

LONG_TEXT = 300
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
    """Link HTML by (IRI, name, depth), shared across pages: records link the same entities."""

    @property
    def root(self) -> str:
        return "../" * self.path.count("/")

    def href(self, iri: str) -> str | None:
        """A relative link to the HTML page describing an IRI under the base, else None."""
        if not iri.startswith(self.base):
            return None
        local = iri[len(self.base) :].split("#", 1)[0]
        if not local:
            return f"{self.root}index.html"
        return (
            f"{self.root}{local}.html"
            if local.startswith("doc/")
            else f"{self.root}doc/{local}.html"
        )


def render(document: dict[str, Any], page: Page, title: str, uri: str, line: str) -> str:
    """The page; `line` is the JSON-LD already serialized for the dumps, embedded as is."""
    stem = escape(page.path.rsplit("/", 1)[-1])
    alternate_links = "".join(
        f'<link rel="alternate" type="{f.media_type}" href="{stem}{f.suffix}" title="{f.label}">\n'
        for f in RDF_FORMATS
    )
    format_links = "".join(f'<a href="{stem}{f.suffix}">{f.label}</a>' for f in RDF_FORMATS)
    nodes = document.get("@graph") or [{k: v for k, v in document.items() if k != "@context"}]
    body = "".join(_section(n, page, i > 0) for i, n in enumerate(nodes))
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


def _section(node: dict[str, Any], page: Page, heading: bool) -> str:
    table = _table(node, page)
    if not heading:
        return table
    title = node.get("name") or node.get("title") or node.get("@id", "")
    return f"<h2>{escape(title if isinstance(title, str) else '')}</h2>{table}"


def _table(node: dict[str, Any], page: Page) -> str:
    rows: list[str] = []
    types = node.get("@type")
    if types:
        cells = [_link(page.compactor.expand(t), None, page) for t in _list(types)]
        rows.append(_row("type", "rdf:type", cells))
    for key, raw in node.items():
        if key[0] == "@":
            continue
        rows.append(_row(key, page.compactor.expand(key), [_value(v, page) for v in _list(raw)]))
    return "<table>" + "".join(rows) + "</table>"


def _row(label: str, iri: str, cells: list[str]) -> str:
    return f'<tr><th title="{escape(iri)}">{escape(label)}</th><td>{"<br>".join(cells)}</td></tr>'


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _value(value: Any, page: Page) -> str:
    if isinstance(value, dict):
        if "@value" in value:
            note = value.get("@language") or value.get("@type", "")
            return _text(str(value["@value"]), str(note))
        iri = page.compactor.expand(value.get("@id", ""))
        if "#" in iri and iri.startswith(page.base) and len(value) > 1:
            return _table(value, page)  # a node the resource owns: shown in place
        name = value.get("name")
        return _link(iri, name if isinstance(name, str) else None, page)
    text = str(value)
    expanded = page.compactor.expand(text)
    if expanded != text or text.startswith(("http://", "https://")):
        return _link(expanded, None, page)
    return _text(text, "")


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
