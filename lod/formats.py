"""Serialization formats: one table (name, media type, suffix, writer) and content negotiation.

pyoxigraph writes Turtle, N-Triples and RDF/XML (about 20x faster than rdflib's serializers);
JSON-LD comes from lod.jsonld against the local context; HTML from a jinja2 template.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, TypeVar

from pyoxigraph import NamedNode, RdfFormat, Triple, serialize

from lod.jsonld import Compactor, dumps, frame


@dataclass(frozen=True, slots=True, eq=False)
class Format:
    name: str
    media_type: str
    suffix: str
    label: str
    rdf_format: RdfFormat | None = None

    @property
    def content_type(self) -> str:
        return with_charset(self.media_type)


def with_charset(media_type: str) -> str:
    """The Content-Type for a text media type: UTF-8 declared, except for N-Triples, whose
    media type is UTF-8 by definition and takes no charset parameter (RDF 1.1 N-Triples, C.1)."""
    return media_type if media_type == "application/n-triples" else f"{media_type}; charset=utf-8"


FORMATS: tuple[Format, ...] = (
    Format("html", "text/html", ".html", "HTML"),
    Format("turtle", "text/turtle", ".ttl", "Turtle", RdfFormat.TURTLE),
    Format("jsonld", "application/ld+json", ".jsonld", "JSON-LD"),
    Format("ntriples", "application/n-triples", ".nt", "N-Triples", RdfFormat.N_TRIPLES),
    Format("rdfxml", "application/rdf+xml", ".rdf", "RDF/XML", RdfFormat.RDF_XML),
)
BY_NAME = {f.name: f for f in FORMATS}
BY_SUFFIX = {f.suffix: f for f in FORMATS}
RDF_FORMATS = tuple(f for f in FORMATS if f.name != "html")


def order(triples: list[Triple], root: str) -> list[Triple]:
    """Triples grouped by subject, the root's first, the rest in order of first appearance (the
    mapping is deterministic), so Turtle groups each subject once; linear, unlike a sort."""
    groups: dict[object, list[Triple]] = {}
    for triple in triples:
        groups.setdefault(triple.subject, []).append(triple)
    first = groups.pop(NamedNode(root), [])
    return first + [t for group in groups.values() for t in group]


@dataclass
class Writer:
    """Serializes one resource's triples into each RDF format."""

    prefixes: dict[str, str]
    compactor: Compactor
    context_url: str

    def rdf(self, fmt: Format, triples: list[Triple], root: str, ordered: bool = False) -> bytes:
        """Serialize; pass `ordered=True` for triples already grouped by `order()`."""
        if fmt.name == "jsonld":
            return (self.jsonld_text(triples, root) + "\n").encode("utf-8")
        assert fmt.rdf_format is not None
        if not ordered:
            triples = order(triples, root)
        if fmt.rdf_format is RdfFormat.TURTLE:
            return self.turtle(triples)
        prefixes = self.prefixes if fmt.rdf_format is not RdfFormat.N_TRIPLES else None
        data = serialize(triples, format=fmt.rdf_format, prefixes=prefixes)
        assert data is not None  # serialize returns bytes when given no output
        return keep_carriage_returns(data) if fmt.rdf_format is RdfFormat.RDF_XML else data

    def turtle(self, triples: list[Triple]) -> bytes:
        """Turtle declaring only the prefixes its body uses, so each file stays short.
        Serializing with all prefixes and dropping unused declarations is cheaper than finding
        the namespaces of every term in Python."""
        data = serialize(triples, format=RdfFormat.TURTLE, prefixes=self.prefixes)
        assert data is not None
        return trim_prefixes(data)

    def jsonld(self, triples: list[Triple], root: str) -> dict[str, Any]:
        return frame(triples, root, self.compactor, self.context_url)

    def jsonld_text(self, triples: list[Triple], root: str, indent: int | None = None) -> str:
        return dumps(self.jsonld(triples, root), indent)


class Offer(Protocol):
    @property
    def media_type(self) -> str: ...


OfferT = TypeVar("OfferT", bound=Offer)


@dataclass(frozen=True, slots=True, eq=False)
class MediaType:
    """Any representation a view offers (SPARQL results, JSON, HTML), for `negotiate`.
    Offers compare by identity (eq=False): each is a constant, and hashing stays cheap for
    the negotiation cache."""

    name: str
    media_type: str


def keep_carriage_returns(rdfxml: bytes) -> bytes:
    """pyoxigraph's RDF/XML with each CR as `&#13;`: XML parsers turn a raw carriage return
    into a line feed (XML 1.0, 2.11), so a literal keeps its CR only as a character reference;
    the markup pyoxigraph writes has none of its own."""
    return rdfxml.replace(b"\r", b"&#13;")


def trim_prefixes(turtle: bytes) -> bytes:
    """Turtle without the @prefix declarations its body does not use."""
    head_end = 0
    while turtle.startswith(b"@prefix ", head_end):
        head_end = turtle.index(b"\n", head_end) + 1
    body = turtle[head_end:]
    lines = [
        line
        for line in turtle[:head_end].splitlines(keepends=True)
        if line[8 : line.index(b":")] + b":" in body
    ]
    return b"".join(lines) + body


def negotiate(accept: str, offers: Sequence[OfferT] = FORMATS) -> OfferT | None:  # type: ignore[assignment]
    """Pick an offer for an Accept header (q-values and wildcards); None means 406.
    An empty header takes the first offer. Remembered per header: clients repeat theirs."""
    return _negotiate(accept, tuple(offers))


@lru_cache(maxsize=2048)
def _negotiate(accept: str, offers: tuple[OfferT, ...]) -> OfferT | None:
    if not accept.strip():
        return offers[0]
    ranges: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept.split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media:
            ranges.append((q, index, media.lower()))
    best: tuple[float, int, int, OfferT] | None = None
    for position, fmt in enumerate(offers):
        major = fmt.media_type.split("/")[0] + "/*"
        matches = [
            (2 if media == fmt.media_type else 1 if media == major else 0, q)
            for q, _, media in ranges
            if media in (fmt.media_type, major, "*/*")
        ]
        if not matches:
            continue
        specificity, q = max(matches)  # the most specific range decides (RFC 9110, 12.5.1)
        if q <= 0:
            continue
        candidate = (q, specificity, -position, fmt)
        if best is None or candidate[:3] > best[:3]:
            best = candidate
    return best[3] if best else None
