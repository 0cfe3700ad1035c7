"""Reader for OAI-PMH records: the files `lod harvest` writes (one `<record>` each), or whole
ListRecords/GetRecord responses saved as files.

Two metadata formats are read. `oai_dc` becomes model fields, element by element (the reverse of
lod.oaidc; simple Dublin Core cannot say whether a subject is a person or a topic, so names the
authority table knows as people or organizations become people, the rest subjects). `rdf` (lod's
own provider: the record's whole published graph as RDF/XML) is kept as the record's graph and
published as it is (lod.passthrough). Deleted records (`status="deleted"`) are no records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, serialize

from lod.errors import SourceError
from lod.model import Origin, Record
from lod.namespaces import expand
from lod.oaidc import DC_NS, OAI_DC_NS
from lod.sources.rdf import parse_graph
from lod.sources.text import clean, one_line, parse_xml, xml_head
from lod.vocab import load_vocab

FORMAT = "oai"
OAI_NS = "http://www.openarchives.org/OAI/2.0/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
OAI = "{" + OAI_NS + "}"
DC = "{" + DC_NS + "}"
METADATA_FORMATS = {"{" + OAI_DC_NS + "}dc": "oai_dc", "{" + RDF_NS + "}RDF": "rdf"}
"""Root element of a record's metadata -> the metadataPrefix lod reads it as."""

DCMI_TYPES = frozenset(
    "Collection Dataset Event Image InteractiveResource MovingImage PhysicalObject Service "
    "Software Sound StillImage Text".split()
)
"""The DCMI Type Vocabulary's terms: a genre, not the document type lod maps to Getty AAT."""

MULTILINE = {DC + "description", DC + "rights"}
"""Elements whose line breaks are part of the value (a summary, a rights statement)."""

KINDS = {expand("schema:Collection"): "collection", expand("schema:DigitalDocument"): "transcript"}
"""rdf:type of a harvested graph's record -> the record's kind (else a document)."""


def sniff(text: str) -> bool:
    head = xml_head(text)
    return head.lstrip("\ufeff \t\r\n").startswith("<") and OAI_NS in head and "record" in text


def read(path: str, text: str) -> Iterator[Record | SourceError]:
    root = parse_xml(path, text)
    records = [root] if root.tag == OAI + "record" else list(root.iter(OAI + "record"))
    at = 0
    for element in records:
        line, at = _line(text, element, at)
        try:
            record = _record(path, element, line)
        except SourceError as exc:
            yield exc
            continue
        if record is not None:
            yield record


def _line(text: str, element: Element, start: int) -> tuple[int | None, int]:
    """The line of a record's header identifier (ElementTree keeps no positions), searched from
    where the last record's was found; and where to search next."""
    header = element.find(OAI + "header")
    identifier = (header.findtext(OAI + "identifier", "") if header is not None else "").strip()
    needle = escape(identifier) if identifier else "<record"
    at = text.find(needle, start)
    if at < 0:
        return None, start
    return text.count("\n", 0, at) + 1, at + len(needle)


def _record(path: str, element: Element, line: int | None = None) -> Record | None:
    header = element.find(OAI + "header")
    identifier = one_line(header.findtext(OAI + "identifier", "")) if header is not None else ""
    if not identifier:
        raise SourceError(
            "the OAI-PMH record has no header identifier",
            file=path,
            line=line,
            field="header/identifier",
            hint="every OAI-PMH record needs <header><identifier>",
        )
    if header is not None and header.get("status") == "deleted":
        return None
    metadata = element.find(OAI + "metadata")
    content = next(iter(metadata), None) if metadata is not None else None
    prefix = METADATA_FORMATS.get(content.tag if content is not None else "", "")
    if content is None or not prefix:
        raise SourceError(
            "the record's metadata is in a format lod does not read",
            file=path,
            field="metadata",
            value=content.tag if content is not None else "",
            line=line,
            record_id=identifier,
            hint="harvest with --metadata-prefix oai_dc or rdf",
        )
    origin = Origin(path, line)
    return (
        _dublin_core(identifier, content, origin)
        if prefix == "oai_dc"
        else _rdf(identifier, content, origin)
    )


# --- oai_dc -----------------------------------------------------------------------------------


def _dublin_core(identifier: str, dc: Element, origin: Origin) -> Record:
    values: dict[str, list[str]] = {}
    for child in dc:
        if isinstance(child.tag, str) and child.tag.startswith(DC):
            text = (clean if child.tag in MULTILINE else one_line)(child.text or "")
            if text:
                values.setdefault(child.tag[len(DC) :], []).append(text)
    identifiers = [v for v in values.pop("identifier", []) if v != identifier]
    record = Record(id=_id(identifier, identifiers), source_format=FORMAT, origin=origin)
    record.origins["id"] = origin.at(
        "dc:identifier" if record.id in identifiers else "header/identifier"
    )
    if identifiers:
        values["identifier"] = identifiers
    for element, texts in values.items():
        where = origin.at(f"dc:{element}")
        ELEMENT_READERS.get(element, _extra)(record, element, texts, where)
    return record


def _id(identifier: str, identifiers: list[str]) -> str:
    """The record ID: its first dc:identifier that is no URL (lod writes the ID first), else the
    last part of the OAI identifier ('oai:archive:123', 'http://host/record/123' -> '123')."""
    for value in identifiers:
        if not value.startswith(("http://", "https://")):
            return value
    return identifier.rstrip("/").replace(":", "/").rsplit("/", 1)[-1]


def _list(attr: str) -> Reader:
    def read(record: Record, element: str, texts: list[str], where: Origin) -> None:
        record.add(attr, texts, where)

    return read


def _first(attr: str) -> Reader:
    """The first value fills the attribute; any others are kept as an extra field."""

    def read(record: Record, element: str, texts: list[str], where: Origin) -> None:
        record.put(attr, texts[0], where)
        _extra(record, element, texts[1:], where)

    return read


def _titles(record: Record, element: str, texts: list[str], where: Origin) -> None:
    """The first title is the title, a second one (lod writes dcterms:alternative so) the
    alternative title."""
    record.put("title", texts[0], where)
    if texts[1:]:
        _first("alt_title")(record, element, texts[1:], where)


def _descriptions(record: Record, element: str, texts: list[str], where: Origin) -> None:
    record.put("summary", "\n\n".join(dict.fromkeys(texts)), where)


def _subjects(record: Record, element: str, texts: list[str], where: Origin) -> None:
    vocab = load_vocab()
    for text in texts:
        authority = vocab.authority(text)
        known_agent = authority is not None and authority.kind in ("person", "organization")
        record.add("people" if known_agent else "subjects", [text], where)


def _types(record: Record, element: str, texts: list[str], where: Origin) -> None:
    genres = [t for t in texts if t not in DCMI_TYPES]
    if genres:
        _first("doc_type")(record, element, genres, where)


def _identifiers(record: Record, element: str, texts: list[str], where: Origin) -> None:
    """Besides the ID (see _id), a URL is the record's web page (the OAI identifier, the
    record's URI at its provider, was left out); the rest are kept as an extra."""
    others = [t for t in texts if t != record.id]
    urls = [t for t in others if t.startswith(("http://", "https://"))]
    if urls:
        record.put("url", urls[0], where)
    _extra(record, element, [t for t in others if t != record.url], where)


def _rights(record: Record, element: str, texts: list[str], where: Origin) -> None:
    """The statement text is the rights; a rights URI it implies anyway (lod maps texts to
    RightsStatements.org) is dropped, other URIs and further texts are kept as extras. A value
    that is a classification level lod knows ("Confidential", "Secret; Nodis") is the
    classification, which lod's own oai_dc writes there too."""
    vocab = load_vocab()
    levels = [t for t in texts if vocab.classification(t)]
    if levels:
        record.put("classification", levels[0], where)
        texts = [t for t in texts if t != levels[0]]
    if not texts:
        return
    statements = [t for t in texts if not t.startswith(("http://", "https://"))]
    uris = [t for t in texts if t.startswith(("http://", "https://"))]
    record.put("rights", (statements or uris)[0], where)
    implied = vocab.rights_for(record.rights)
    _extra(record, element, statements[1:], where)
    _extra(
        record,
        "rights_uri",
        [u for u in uris if u != record.rights and not (implied and implied.uri == u)],
        where,
    )


def _extra(record: Record, element: str, texts: list[str], where: Origin) -> None:
    if texts:
        record.put_extra(element, "; ".join(texts), where)


Reader = Callable[[Record, str, list[str], Origin], None]

ELEMENT_READERS: dict[str, Reader] = {
    "title": _titles,
    "creator": _list("authors"),
    "subject": _subjects,
    "description": _descriptions,
    "contributor": _list("contributors"),
    "date": _first("date"),
    "type": _types,
    "identifier": _identifiers,
    "source": _first("citation"),
    "language": _list("languages"),
    "relation": _list("collections"),
    "coverage": _list("places"),
    "rights": _rights,
}
"""oai_dc element -> how it fills the model; publisher and format (no model field) are extras."""


# --- rdf ---------------------------------------------------------------------------------------


def _rdf(identifier: str, content: Element, origin: Origin) -> Record:
    where = origin.at("metadata/rdf:RDF")
    try:
        triples = parse_graph(
            content, RdfFormat.RDF_XML, origin=where, record_id=identifier, base_iri=identifier
        )
    except (SyntaxError, ValueError) as exc:
        raise SourceError(
            f"the rdf metadata is not valid RDF/XML: {exc}",
            file=origin.file,
            line=origin.line,
            field=where.field,
            record_id=identifier,
            hint="harvest the record again; if it stays broken, tell the provider",
        ) from None
    own = [t for t in triples if t.subject == NamedNode(identifier)]
    if not own:
        raise SourceError(
            f"the rdf metadata says nothing about the record {identifier}",
            file=origin.file,
            line=origin.line,
            field=where.field,
            record_id=identifier,
            hint="the OAI identifier must be the URI the graph describes, as lod's provider sets it",
        )
    graph = serialize(triples, format=RdfFormat.N_TRIPLES)
    assert graph is not None
    types = {
        t.object.value
        for t in own
        if t.predicate.value == expand("rdf:type") and isinstance(t.object, NamedNode)
    }
    kind = next((KINDS[t] for t in sorted(types) if t in KINDS), "document")
    record = Record(
        id=_literal(own, "dcterms:identifier") or _id(identifier, []),
        source_format=FORMAT,
        origin=origin,
        kind=kind,
        graph=graph.decode("utf-8"),
        uri=identifier,
    )
    record.origins["graph"] = where
    _index_fields(record, triples, identifier, where)
    return record


def _index_fields(record: Record, triples: list[Triple], uri: str, where: Origin) -> None:
    """Fields the build indexes beside the graph (keyword search, sitemap dates); the mapper
    does not map them again, the graph already says them."""
    own = [
        t
        for t in triples
        if isinstance(t.subject, NamedNode) and t.subject.value.split("#")[0] == uri
    ]
    for attr, curie in (
        ("alt_title", "dcterms:alternative"),
        ("summary", "dcterms:abstract"),
        ("uploaded", "dcterms:issued"),
        ("modified", "dcterms:modified"),
        ("text", "schema:text"),
    ):
        record.put(attr, _literal(own, curie), where)


def _literal(triples: list[Triple], curie: str) -> str:
    predicate = expand(curie)
    values = sorted(
        t.object.value
        for t in triples
        if t.predicate.value == predicate and isinstance(t.object, Literal)
    )
    return values[0] if values else ""
