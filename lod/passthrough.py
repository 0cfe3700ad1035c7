"""A graph published elsewhere, published again as it is (records harvested in RDF).

Mapping a harvested record's fields again could only lose or change what its provider said, so
its graph is kept triple for triple. What the build needs beside the triples comes from the graph
itself: the title and date its pages show, and the shared entities it describes (so their pages
and backlinks are written, as for mapped records). The record must lie under the build's base
URI, at a path lod can write as a file; anything else is refused with the base URI to use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode, RdfFormat, Triple

from lod.authorities import Entity, name_language
from lod.dates import XSD, DateValue
from lod.errors import MappingError
from lod.model import Record
from lod.namespaces import PREFIXES, expand
from lod.sources.rdf import parse_graph
from lod.uris import Minter, file_path, uri_path

ENTITY_KINDS = ("agent", "place", "subject", "archive", "collection", "vocab")
"""First path segments of the shared entities lod mints (see lod.uris)."""

TITLES = ("dcterms:title", "schema:name", "rdfs:label")
PRECISIONS = {XSD + "date": "day", XSD + "gYearMonth": "month", XSD + "gYear": "year"}

RDF_TYPE = expand("rdf:type")
SCHEMA_NAME = expand("schema:name")
XSD_STRING = XSD + "string"
_SEGMENT = re.compile(r"[A-Za-z0-9._~%-]{1,200}")
"""A path segment lod writes as a file name: the characters safe_id and slugify produce."""


@dataclass(slots=True)
class Taken:
    uri: str
    title: str
    triples: list[Triple]
    entities: list[Entity]
    linked: set[str]
    date: DateValue | None


def take_graph(record: Record, minter: Minter) -> Taken:
    """The record's own graph and what the build needs to publish it; MappingError when the
    record cannot be published under this base URI."""
    uri = record.uri
    _check_uri(record, uri, minter)
    origin = record.origins.get("graph", record.origin)
    try:
        graph = parse_graph(
            record.graph.encode("utf-8"), RdfFormat.N_TRIPLES, origin=origin, record_id=record.id
        )
        triples = list(dict.fromkeys(graph))
    except SyntaxError as exc:
        raise _error(record, f"the record's graph does not parse: {exc}", "") from None
    by_subject: dict[str, list[Triple]] = {}
    for t in triples:
        if isinstance(t.subject, NamedNode):
            by_subject.setdefault(t.subject.value, []).append(t)
    own = by_subject.get(uri, [])
    if not own:
        raise _error(record, f"the graph says nothing about {uri}", "")
    entities = _entities(by_subject, uri, minter)
    linked = {
        t.object.value
        for t in own
        if isinstance(t.object, NamedNode) and t.object.value in {e.uri for e in entities}
    }
    return Taken(uri, _title(own), triples, entities, linked, _date(own, by_subject, minter.vocab))


def _check_uri(record: Record, uri: str, minter: Minter) -> None:
    path = minter.path(uri)
    if not uri.startswith(minter.base):
        base = _base_of(uri, record.graph) or "the base URI the provider published it under"
        raise _error(
            record,
            f"the record {uri} is not under this build's base URI {minter.base}",
            f"build with --base-uri {base} (or set base_uri in lod.toml)",
        )
    if not _publishable(path):
        raise _error(
            record,
            f"the record URI {uri} has a path lod cannot publish as a file",
            "lod publishes paths of letters, digits and - . _ ~ %, percent-encoded as lod "
            "encodes them (%C3%BC, not %c3%bc; ~, not %7E)",
        )


def _publishable(path: str) -> bool:
    """Whether a path can name files of its own: no dot segment climbing out of the folder,
    and encoded as lod encodes, else two URIs would share a file ('~' and '%7E' decode alike)."""
    plain = all(s not in (".", "..") and _SEGMENT.fullmatch(s) for s in path.split("/"))
    return plain and uri_path(file_path(path)) == path


def _base_of(uri: str, graph: str) -> str:
    """The base URI lod published `uri` under, read from its document's link to it: lod's
    document for {base}{path} is {base}doc/{path}."""
    topic = re.escape(expand("foaf:primaryTopic"))
    for doc in re.findall(rf"^<([^>]+)> <{topic}> <{re.escape(uri)}> \.$", graph, re.M):
        for cut in (i + 1 for i, c in enumerate(uri) if c == "/"):
            if doc == f"{uri[:cut]}doc/{uri[cut:]}":
                return uri[:cut]
    return ""


def _title(own: list[Triple]) -> str:
    for curie in TITLES:
        literals = [
            t.object
            for t in own
            if t.predicate.value == expand(curie) and isinstance(t.object, Literal)
        ]
        if literals:
            return min(literals, key=lambda o: (o.language not in ("en", None), o.value)).value
    return ""


def _date(own: list[Triple], by_subject: dict[str, list[Triple]], vocab: str) -> DateValue | None:
    """The document date as the pages show it: lod's date period (verbatim label, first and
    last day) when the graph has one, else the dcterms:created value alone."""
    created = next((t.object for t in own if t.predicate.value == expand("dcterms:created")), None)
    if not isinstance(created, Literal):
        return None
    period = next(
        (
            t.object.value
            for t in own
            if t.predicate.value == vocab + "createdPeriod" and isinstance(t.object, NamedNode)
        ),
        "",
    )
    found = {
        t.predicate.value: t.object.value
        for t in by_subject.get(period, [])
        if isinstance(t.object, Literal)
    }
    return DateValue(
        found.get(expand("rdfs:label"), created.value),
        found.get(vocab + "edtf", created.value),
        PRECISIONS.get(created.datatype.value, "edtf"),
        found.get(expand("dcat:startDate"), ""),
        found.get(expand("dcat:endDate"), ""),
    )


def _entities(by_subject: dict[str, list[Triple]], uri: str, minter: Minter) -> list[Entity]:
    entities = []
    for subject, triples in by_subject.items():
        path = minter.path(subject)
        kind = path.split("/", 1)[0]
        if subject != uri and kind in ENTITY_KINDS and _publishable(path):
            entity = _entity(subject, kind, triples)
            if entity is not None:
                entities.append(entity)
    return entities


def _entity(subject: str, kind: str, triples: list[Triple]) -> Entity | None:
    """The entity these triples describe, or None when its own page could not repeat every one
    of them (a name in another language, a typed value): then they stay with the record only."""
    types = [
        _compact(t.object.value)
        for t in triples
        if t.predicate.value == RDF_TYPE and isinstance(t.object, NamedNode)
    ]
    language = name_language(tuple(types))
    labels: list[str] = []
    links: list[tuple[str, str]] = []
    literals: list[tuple[str, str]] = []
    for t in triples:
        predicate, obj = t.predicate.value, t.object
        if predicate == RDF_TYPE and isinstance(obj, NamedNode):
            continue
        if predicate == SCHEMA_NAME and isinstance(obj, Literal) and obj.language == language:
            labels.append(obj.value)
        elif isinstance(obj, NamedNode):
            links.append((predicate, obj.value))
        elif isinstance(obj, Literal) and obj.datatype.value == XSD_STRING and not obj.language:
            literals.append((predicate, obj.value))
        else:
            return None
    if len(labels) != 1:
        return None
    return Entity(subject, kind, tuple(types), labels[0], {labels[0]}, (), links, literals)


def _compact(iri: str) -> str:
    """'http://www.w3.org/2004/02/skos/core#Concept' -> 'skos:Concept', as lod's entities name
    their types; other IRIs stay whole (the mapper takes both)."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and re.fullmatch(r"[A-Za-z_][\w-]*", iri[len(namespace) :]):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def _error(record: Record, message: str, hint: str) -> MappingError:
    origin = record.origins.get("graph", record.origin)
    return MappingError(
        message,
        file=origin.file,
        line=origin.line,
        field=origin.field or "graph",
        value=record.uri,
        hint=hint,
        record_id=record.id,
    )


__all__ = ["Taken", "take_graph"]
