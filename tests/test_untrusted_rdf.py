"""Untrusted RDF (harvested records, graphs taken as they are) is parsed with limits on size,
nesting and triples (issue 7), so a bomb costs a rejected record, not the process: RDF/XML
nested 100,000 deep keeps pyoxigraph busy for minutes, and a graph has no natural size bound."""

from __future__ import annotations

import time

import pytest
from pyoxigraph import RdfFormat

from lod.errors import SourceError, TooLargeError
from lod.mapping import Mapper
from lod.model import Origin, Record
from lod.sources import oai, rdf
from lod.uris import Minter
from lod.vocab import load_vocab

BASE = "http://127.0.0.1:8000/"
URI = f"{BASE}record/r1"
RDF_OPEN = (
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:p="http://example.org/">'
)


def harvested(statements: str) -> str:
    return (
        '<record xmlns="http://www.openarchives.org/OAI/2.0/"><header>'
        f"<identifier>{URI}</identifier></header><metadata>{RDF_OPEN}"
        f'<rdf:Description rdf:about="{URI}"><dcterms:title>T</dcterms:title>{statements}'
        "</rdf:Description></rdf:RDF></metadata></record>"
    )


def read(text: str) -> list[object]:
    """The reader's items, or the error that stops the whole file (as lod.sources reports it)."""
    started = time.perf_counter()
    try:
        items: list[object] = list(oai.read("h/record.xml", text))
    except SourceError as exc:
        items = [exc]
    assert time.perf_counter() - started < 2
    return items


def test_a_harvested_graph_within_limits_is_read() -> None:
    (record,) = read(harvested("<dcterms:subject>s</dcterms:subject>"))
    assert isinstance(record, Record) and "dc/terms/subject" in record.graph


@pytest.mark.parametrize("depth", [rdf.MAX_DEPTH, 100_000])
def test_deep_rdf_xml_is_refused_before_pyoxigraph_sees_it(depth: int) -> None:
    nested = "<p:q rdf:parseType='Resource'>" * depth + "</p:q>" * depth
    (error,) = read(harvested(nested))
    assert isinstance(error, TooLargeError) and "deep" in error.message
    assert error.file == "h/record.xml" and error.value.startswith("depth ")
    if depth < 256:  # deeper still, the whole file is refused before its records are read
        assert error.value == f"depth {rdf.MAX_DEPTH + 1}"
        assert error.line == 1 and error.record_id == URI


def test_a_triples_bomb_is_refused() -> None:
    many = "<dcterms:subject>s</dcterms:subject>" * (rdf.MAX_TRIPLES + 1)
    (error,) = read(harvested(many))
    assert isinstance(error, TooLargeError) and f"{rdf.MAX_TRIPLES:,}" in error.message


def test_triples_are_counted_as_they_stream() -> None:
    """N-Triples has no elements to count first: the parse itself stops at the limit."""
    lines = "".join(f'<{URI}> <http://example.org/p> "{i}" .\n' for i in range(rdf.MAX_TRIPLES + 5))
    with pytest.raises(TooLargeError, match="triples"):
        rdf.parse_graph(lines.encode(), RdfFormat.N_TRIPLES, origin=Origin("g.nt", 3))


def test_size_is_checked_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rdf, "MAX_BYTES", 100)
    with pytest.raises(TooLargeError, match="bytes") as caught:
        rdf.parse_graph(b"#" * 101, RdfFormat.TURTLE, origin=Origin("g.ttl", 7, "graph"))
    assert (caught.value.file, caught.value.line, caught.value.field) == ("g.ttl", 7, "graph")


def test_a_taken_graph_is_parsed_with_the_same_limits() -> None:
    """lod.passthrough parses a harvested record's graph again when it maps it."""
    graph = "".join(f'<{URI}> <http://example.org/p> "{i}" .\n' for i in range(rdf.MAX_TRIPLES + 1))
    record = Record(id="r1", source_format="oai", origin=Origin("h.xml", 4), graph=graph, uri=URI)
    with pytest.raises(SourceError, match="triples") as caught:
        Mapper(load_vocab(), Minter(BASE)).map(record)
    assert caught.value.file == "h.xml" and caught.value.line == 4
