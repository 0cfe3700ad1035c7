"""Property-based tests (issue 7): whatever text a reader is given, it yields Records or lod's
own errors and raises nothing else, and so does the mapping of what it yields; and literals
with quotes, backslashes, line breaks and triple quotes come back exactly from lod's Turtle,
N-Triples, JSON-LD and RDF/XML, parsed by rdflib and by pyoxigraph.

Example counts are kept small (see SETTINGS) so the default run stays fast; raise them with
HYPOTHESIS_PROFILE=thorough for a longer hunt."""

from __future__ import annotations

import csv
import io
import json
import os
import warnings
from pathlib import Path
from typing import Any

import pyoxigraph
import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import Literal, NamedNode, Triple

from lod.errors import LodError
from lod.formats import BY_NAME
from lod.mapping import Mapper
from lod.model import Origin, Record
from lod.namespaces import PREFIXES
from lod.publish.writer import SiteWriter
from lod.sources import dacsv, dajson, dapage, enrich, oai, tei
from lod.sources.limits import oversized
from lod.sources.text import collect
from lod.sparql import GRAPH_WRITERS
from lod.uris import Minter
from lod.vocab import load_vocab

BASE = "http://127.0.0.1:8000/"
VOCAB = load_vocab()
MINTER = Minter(BASE)
MAPPER = Mapper(VOCAB, MINTER)

settings.register_profile(
    "default",
    max_examples=40,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

NASTY = "\"'\\\n\r\t<>&;,[]{}:#\x00\x07\x1b\x7f\x85\u00a0\u2028\u202e\ufeff\ufffd\uffff\ud800\udfff"
"""Characters that break writers, parsers and readers when handled carelessly."""

ANY_CHAR = st.characters(blacklist_categories=()) | st.sampled_from(NASTY)
TEXT = st.text(ANY_CHAR, max_size=60) | st.sampled_from(
    ['"""', "a\\", '\\"', "0000", "2010-02-50", "0001-01-01", "<script>x</script>", "None", "[]"]
)


def consume(module: Any, path: str, text: str) -> None:
    """Read with the module and map every Record; only LodErrors may come out."""
    try:
        items = list(module.read(path, text))
    except LodError:
        return
    for item in items:
        assert isinstance(item, Record | LodError), item
        if isinstance(item, Record):
            map_record(item)


def map_record(record: Record) -> None:
    if oversized(record) is not None:
        return
    enrich(record, VOCAB)
    try:
        mapped = MAPPER.map(record)
    except LodError:
        return
    for triple in mapped.triples:
        for term in (triple.subject, triple.predicate, triple.object):
            term.value.encode("utf-8")  # no lone surrogate reaches the graph


@given(st.lists(st.dictionaries(st.sampled_from(sorted(dacsv.COLUMNS) + ["x"]), TEXT), max_size=4))
def test_csv_reader(rows: list[dict[str, str]]) -> None:
    header = sorted({key for row in rows for key in row} | {"record_id", "title"})
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(_no_surrogates(rows))
    consume(dacsv, "p.csv", out.getvalue())


@given(TEXT, TEXT)
def test_csv_reader_raw(first: str, rest: str) -> None:
    consume(dacsv, "p.csv", f"record_id,title,{first}\n{rest}")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
JSON_KEYS = st.sampled_from(
    sorted(
        set(dajson.SCALARS)
        | set(dajson.NAMED_LISTS)
        | set(dajson.TEXTS)
        | {"id", "rights", "media_files", "name", "slug", "filename", "content_type", "html"}
    )
)


@given(st.dictionaries(JSON_KEYS, JSON_VALUES, max_size=8), st.booleans())
def test_json_reader(item: dict[str, Any], as_list: bool) -> None:
    item.setdefault("title", "t")
    item.setdefault("doc_date", "1951")
    text = json.dumps([item] if as_list else item)  # ASCII: lone surrogates as \ud800 escapes
    consume(dajson, "p.json", text)


@given(st.lists(TEXT, min_size=1, max_size=12), TEXT, TEXT)
def test_page_reader(lines: list[str], title: str, record_id: str) -> None:
    page = [title, "", *lines, "###", "", "Document Information", "", "Record ID", "", record_id]
    consume(dapage, "p.txt", "\n".join(_no_surrogates(page)))


def _x(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@given(TEXT, TEXT, TEXT, st.booleans())
def test_tei_reader(title: str, date: str, body: str, escape: bool) -> None:
    title, date, body = (_x(t) if escape else t for t in _no_surrogates([title, date, body]))
    text = (
        '<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader><fileDesc><titleStmt>'
        f'<title type="complete">{title}</title></titleStmt><publicationStmt>'
        f'<date type="created">{date}</date></publicationStmt></fileDesc></teiHeader>'
        f"<text><body><p>Source: {body}</p><div><p>{body}</p></div></body></text></TEI>"
    )
    consume(tei, "p.xml", text)


DC = st.sampled_from(sorted(oai.ELEMENT_READERS) + ["publisher", "format"])


@given(TEXT, st.lists(st.tuples(DC, TEXT), max_size=8), st.booleans())
def test_oai_reader(identifier: str, elements: list[tuple[str, str]], deleted: bool) -> None:
    identifier = _x(_no_surrogates([identifier])[0])
    body = "".join(f"<dc:{n}>{_x(v)}</dc:{n}>" for n, v in _no_surrogates(elements))
    status = ' status="deleted"' if deleted else ""
    text = (
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record>'
        f"<header{status}><identifier>{identifier}</identifier></header><metadata>"
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        f'xmlns:dc="http://purl.org/dc/elements/1.1/">{body}</oai_dc:dc>'
        "</metadata></record></ListRecords></OAI-PMH>"
    )
    consume(oai, "p.xml", text)


@given(TEXT, st.lists(st.tuples(TEXT, TEXT), max_size=4))
def test_oai_rdf_reader(title: str, statements: list[tuple[str, str]]) -> None:
    uri = f"{BASE}record/r1"
    props = "".join(
        f'<dcterms:{"title" if i % 2 else "subject"} xml:lang="{_x(lang[:8])}">{_x(v)}'
        f"</dcterms:{'title' if i % 2 else 'subject'}>"
        for i, (lang, v) in enumerate(_no_surrogates(statements))
    )
    text = (
        '<record xmlns="http://www.openarchives.org/OAI/2.0/"><header>'
        f"<identifier>{uri}</identifier></header><metadata>"
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:dcterms="http://purl.org/dc/terms/">'
        f'<rdf:Description rdf:about="{uri}"><dcterms:title>{_x(_no_surrogates([title])[0])}'
        f"</dcterms:title>{props}</rdf:Description></rdf:RDF></metadata></record>"
    )
    consume(oai, "p.xml", text)


@given(st.dictionaries(st.sampled_from(["title", "date", "summary", "citation", "rights"]), TEXT))
def test_mapping_of_any_record(values: dict[str, str]) -> None:
    origin = Origin("p.csv", 2)
    record = Record(id="r1", source_format="dacsv", origin=origin)
    with collect():
        for attr, value in values.items():
            record.put(attr, dacsv.one_line(value), origin.at(attr))
    map_record(record)


def _no_surrogates(values: Any) -> Any:
    """Text files cannot hold lone surrogates (UTF-8 forbids them): replace them as a file
    on disk would have to. JSON escapes are where they really come from (test_json_reader)."""
    if isinstance(values, str):
        return values.encode("utf-8", "replace").decode("utf-8").replace("?", "\ufffd")
    if isinstance(values, dict):
        return {k: _no_surrogates(v) for k, v in values.items()}
    if isinstance(values, list | tuple):
        return type(values)(_no_surrogates(v) for v in values)
    return values


# --- literals survive every format -----------------------------------------------------------

LITERAL_CHARS = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters="\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12"
    "\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f\ufffe\uffff",
)
"""What a record's literal can hold once read: lod's readers drop control characters,
lone surrogates and the noncharacters XML 1.0 cannot carry."""

LITERALS = st.lists(
    st.text(LITERAL_CHARS, max_size=4) | st.sampled_from(['"', "'", "\\", "\n", "\r", '"""']),
    max_size=12,
).map("".join)
SITE = SiteWriter(Path("/nonexistent"), MINTER, VOCAB, hold=True)
RDFLIB_FORMATS = {"turtle": "turtle", "ntriples": "nt", "rdfxml": "xml", "jsonld": "json-ld"}
OXI_FORMATS = {
    "turtle": pyoxigraph.RdfFormat.TURTLE,
    "ntriples": pyoxigraph.RdfFormat.N_TRIPLES,
    "rdfxml": pyoxigraph.RdfFormat.RDF_XML,
    "jsonld": pyoxigraph.RdfFormat.JSON_LD,
}


@pytest.mark.parametrize("fmt", sorted(RDFLIB_FORMATS))
@given(value=LITERALS, language=st.sampled_from([None, "en", "ru"]))
def test_literals_round_trip(fmt: str, value: str, language: str | None) -> None:
    subject = NamedNode(f"{BASE}record/r1")
    triples = [
        Triple(subject, NamedNode(PREFIXES["dcterms"] + "title"), Literal(value, language=language))
    ]
    data = SITE.writer.rdf(BY_NAME[fmt], triples, subject.value)
    if fmt == "jsonld":
        document = json.loads(data)
        document["@context"] = SITE.context["@context"]  # the local context, not fetched
        data = json.dumps(document).encode("utf-8")
    with warnings.catch_warnings():
        # rdflib's JSON-LD parser builds a ConjunctiveGraph, which rdflib itself deprecates.
        warnings.simplefilter("ignore", DeprecationWarning)
        graph = rdflib.Graph().parse(data=data, format=RDFLIB_FORMATS[fmt], publicID=BASE)
    assert [(str(o), o.language) for o in graph.objects()] == [(value, language)]
    back = [q.object for q in pyoxigraph.parse(data, format=OXI_FORMATS[fmt], base_iri=BASE)]
    assert [(o.value, o.language) for o in back] == [(value, language)]


@given(value=LITERALS)
def test_sparql_graph_answers_keep_literals(value: str) -> None:
    """CONSTRUCT/DESCRIBE answers are written by lod.sparql's own writers."""
    subject = NamedNode(f"{BASE}record/r1")
    triple = Triple(subject, NamedNode(PREFIXES["dcterms"] + "title"), Literal(value))
    for fmt in ("turtle", "ntriples", "rdfxml"):
        data = GRAPH_WRITERS[fmt]([triple], dict(PREFIXES))
        back = [q.object.value for q in pyoxigraph.parse(data, format=OXI_FORMATS[fmt])]
        graph = rdflib.Graph().parse(data=data, format=RDFLIB_FORMATS[fmt])
        assert back == [value] and [str(o) for o in graph.objects()] == [value], fmt
