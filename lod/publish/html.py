"""HTML pages for people: every property of a resource, links to the other formats, and the
same JSON-LD embedded for search engines. jinja2 autoescapes everything the records carry."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from lod.formats import RDF_FORMATS
from lod.jsonld import Compactor

LONG_TEXT = 300


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("lod", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=False,
        lstrip_blocks=False,
    )


@dataclass
class Page:
    """What a page needs to link inside the site: the base URI and its own depth."""

    base: str
    compactor: Compactor
    path: str
    backlinks: list[dict[str, str]] = field(default_factory=list)

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


def render(document: dict[str, Any], page: Page, title: str, uri: str) -> str:
    stem = page.path.rsplit("/", 1)[-1]
    alternates = [
        {"media_type": f.media_type, "href": stem + f.suffix, "label": f.label} for f in RDF_FORMATS
    ]
    nodes = document.get("@graph") or [{k: v for k, v in document.items() if k != "@context"}]
    view = [_node(n, page) for n in nodes]
    return (
        environment()
        .get_template("page.html")
        .render(
            title=title,
            uri=uri,
            alternates=alternates,
            root=page.root,
            nodes=view,
            backlinks=page.backlinks,
            jsonld=json.dumps(document, ensure_ascii=False).replace("<", "\\u003c"),
        )
    )


def _node(node: dict[str, Any], page: Page) -> dict[str, Any]:
    rows = []
    iri = page.compactor.expand(node.get("@id", ""))
    types = node.get("@type")
    if types:
        rows.append(
            {
                "label": "type",
                "iri": "rdf:type",
                "vals": [
                    _value(t, page, True) for t in (types if isinstance(types, list) else [types])
                ],
            }
        )
    for key, raw in node.items():
        if key.startswith("@"):
            continue
        values = raw if isinstance(raw, list) else [raw]
        rows.append(
            {
                "label": key,
                "iri": page.compactor.expand(key),
                "vals": [_value(v, page, False) for v in values],
            }
        )
    title = node.get("name") or node.get("title") or node.get("rdfs:label") or iri
    return {"rows": rows, "title": title if isinstance(title, str) else iri}


def _value(value: Any, page: Page, is_iri: bool) -> dict[str, Any]:
    if isinstance(value, dict) and "@value" in value:
        note = value.get("@language") or value.get("@type", "")
        text = str(value["@value"])
        return {"text": text, "note": note, "long": len(text) > LONG_TEXT}
    if isinstance(value, dict) and "@id" in value:
        iri = page.compactor.expand(value["@id"])
        if "#" in iri and iri.startswith(page.base) and len(value) > 1:
            return {"node": _node(value, page)}  # a node the resource owns: show it in place
        return _link(page.compactor.expand(value["@id"]), value, page)
    text = str(value)
    if is_iri or _looks_iri(text, page):
        return _link(page.compactor.expand(text), {}, page)
    return {"text": text, "long": len(text) > LONG_TEXT}


def _link(iri: str, node: dict[str, Any], page: Page) -> dict[str, Any]:
    href = page.href(iri) or (iri if iri.startswith(("http://", "https://")) else None)
    name = node.get("name")
    text = name if isinstance(name, str) else page.compactor.iri(iri)
    return {"href": href, "text": text, "note": iri if name else ""}


def _looks_iri(text: str, page: Page) -> bool:
    expanded = page.compactor.expand(text)
    return expanded != text or text.startswith(("http://", "https://"))
