"""Parsing RDF that comes from elsewhere (harvested records, a provider's graphs) with limits.

pyoxigraph's parsers are fast but trust their input: RDF/XML nested 100,000 elements deep runs
for minutes (and deeper overflows the stack of the process), and nothing stops a record of a
million triples. So untrusted RDF is checked first: its size, its element depth (RDF/XML, read
by defusedxml, which also refuses DTDs and entities), and its triples are counted while they
stream, the parse stopping at the limit. Each refusal is a TooLargeError naming what to do.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, tostring

from pyoxigraph import RdfFormat, Triple, parse

from lod.errors import TooLargeError
from lod.model import Origin
from lod.sources.text import parse_xml

MAX_BYTES = 16 * 1024 * 1024
"""Bytes of one record's graph; lod's own record documents stay under 2 MB with full text."""

MAX_DEPTH = 64
"""Element nesting of RDF/XML; lod writes 4 levels, striped RDF/XML rarely needs 10."""

MAX_TRIPLES = 50_000
"""Triples of one record's graph; lod's own records have a few hundred."""


def parse_graph(
    source: bytes | Element,
    fmt: RdfFormat,
    *,
    origin: Origin,
    record_id: str = "",
    base_iri: str | None = None,
) -> list[Triple]:
    """The triples of one untrusted graph, or TooLargeError (at `origin`) when it goes past a
    limit. `source`: the bytes, or RDF/XML already parsed (by defusedxml), which is measured
    before it is serialized again for pyoxigraph. A SyntaxError or ValueError of the parser
    passes through for the caller to word."""
    if isinstance(source, Element):
        _measure(source, origin, record_id)
        source = tostring(source)
    if len(source) > MAX_BYTES:
        raise _refused(origin, record_id, f"the graph is {len(source):,} bytes, over {MAX_BYTES:,}")
    if fmt is RdfFormat.RDF_XML:
        _measure(parse_xml(origin.file, source.decode("utf-8")), origin, record_id)
    triples: list[Triple] = []
    for quad in parse(source, format=fmt, base_iri=base_iri):
        triples.append(quad.triple)
        if len(triples) > MAX_TRIPLES:
            raise _refused(origin, record_id, f"the graph has more than {MAX_TRIPLES:,} triples")
    return triples


def _measure(root: Element, origin: Origin, record_id: str) -> None:
    """Refuse RDF/XML nested deeper than MAX_DEPTH or with more elements than MAX_TRIPLES (each
    property element is a triple at least), level by level without recursion."""
    level, depth, seen = [root], 1, 0
    while level:
        seen += len(level)
        if depth > MAX_DEPTH:
            message = f"the RDF/XML nests elements more than {MAX_DEPTH} deep"
            raise _refused(origin, record_id, message, f"depth {depth}")
        if seen > MAX_TRIPLES:
            message = f"the graph has more than {MAX_TRIPLES:,} elements (triples)"
            raise _refused(origin, record_id, message)
        level = [child for element in level for child in element]
        depth += 1


def _refused(origin: Origin, record_id: str, message: str, value: str = "") -> TooLargeError:
    return TooLargeError(
        message,
        file=origin.file,
        line=origin.line,
        field=origin.field,
        value=value or record_id,
        record_id=record_id,
        hint="a record's graph this large or deep is no archival record; ask its provider",
    )
