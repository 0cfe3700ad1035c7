"""Reading harvested OAI-PMH records: oai_dc into model fields (and back to the same oai_dc),
rdf into a record carrying its graph, deleted records, and the errors a bad file gets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import parse

from lod.errors import SourceError, UnsafeXMLError
from lod.mapping import Mapper
from lod.model import Origin, Record
from lod.oaidc import dc_values, oai_dc_xml
from lod.sources import detect, oai, read_file
from lod.uris import Minter
from lod.vocab import load_vocab
from tests.conftest import BASE
from tests.test_oaidc import published

MAPPER = Mapper(load_vocab(), Minter(BASE))
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<record xmlns="http://www.openarchives.org/OAI/2.0/">'
)


def record_file(identifier: str, metadata: str, status: str = "") -> str:
    header = f"<header{status}><identifier>{identifier}</identifier><datestamp>2026-01-01</datestamp></header>"
    body = f"<metadata>{metadata}</metadata>" if metadata else ""
    return f"{HEAD}{header}{body}</record>\n"


def read(text: str, name: str = "h/record.xml") -> list[Record | SourceError]:
    assert detect(text) is oai
    return list(oai.read(name, text))


def one(text: str) -> Record:
    (item,) = read(text)
    assert isinstance(item, Record), item
    return item


def dc(*elements: tuple[str, str]) -> str:
    body = "".join(f"<dc:{name}>{value}</dc:{name}>" for name, value in elements)
    return (
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        f'xmlns:dc="http://purl.org/dc/elements/1.1/">{body}</oai_dc:dc>'
    )


def test_oai_dc_fields_and_origins() -> None:
    record = one(
        record_file(
            "oai:other.example:77",
            dc(
                ("title", "Letter from Jawaharlal Nehru to Zhou Enlai"),
                ("title", "Nehru letter"),
                ("creator", "Nehru, Jawaharlal"),
                ("subject", "Mao Zedong"),
                ("subject", "Korean War, 1950-1953"),
                ("description", "First part."),
                ("description", "Second part."),
                ("publisher", "Other Archive"),
                ("contributor", "A. Translator"),
                ("date", "1951-01-16"),
                ("type", "Text"),
                ("type", "Letter"),
                ("identifier", "77"),
                ("identifier", "https://other.example/item/77"),
                ("source", "AVPRF, f. 0100, op. 43, d. 43, ll. 1-2."),
                ("language", "rus"),
                ("relation", "Korean War"),
                ("coverage", "Beijing"),
                ("rights", "Public domain"),
                ("rights", "http://rightsstatements.org/vocab/NoC-US/1.0/"),
                ("format", "text/html"),
            ),
        )
    )
    assert (record.id, record.source_format, record.kind) == ("77", "oai", "document")
    assert (record.title, record.alt_title) == (
        "Letter from Jawaharlal Nehru to Zhou Enlai",
        "Nehru letter",
    )
    assert record.authors == ["Nehru, Jawaharlal"]
    assert record.people == ["Mao Zedong"]  # a name the authority table knows as a person
    assert record.subjects == ["Korean War, 1950-1953"]
    assert record.summary == "First part.\n\nSecond part."
    assert record.contributors == ["A. Translator"]
    assert (record.date, record.doc_type) == ("1951-01-16", "Letter")
    assert record.citation == "AVPRF, f. 0100, op. 43, d. 43, ll. 1-2."
    assert (record.languages, record.collections, record.places) == (
        ["rus"],
        ["Korean War"],
        ["Beijing"],
    )
    assert record.url == "https://other.example/item/77"
    assert record.rights == "Public domain"
    assert record.extra == {
        "publisher": "Other Archive",
        "format": "text/html",
        "rights_uri": "http://rightsstatements.org/vocab/NoC-US/1.0/",
    }
    assert record.origins["title"] == Origin("h/record.xml", 2, "dc:title")
    assert record.origins["id"].field == "dc:identifier"
    assert record.origins["extra:publisher"].field == "dc:publisher"


def test_id_from_the_oai_identifier_when_no_plain_identifier() -> None:
    record = one(record_file("oai:arXiv.org:cs/0112017", dc(("title", "T"))))
    assert record.id == "0112017" and record.origins["id"].field == "header/identifier"
    uri = BASE + "record/5"
    assert one(record_file(uri, dc(("identifier", uri)))).id == "5"


def test_deleted_records_and_whole_responses() -> None:
    response = (
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        "<responseDate>2026-01-01T00:00:00Z</responseDate><ListRecords>"
        "<record><header><identifier>oai:x:1</identifier></header>"
        f"<metadata>{dc(('title', 'One'))}</metadata></record>"
        '<record><header status="deleted"><identifier>oai:x:2</identifier></header></record>'
        "</ListRecords></OAI-PMH>"
    )
    assert [r.title for r in read(response) if isinstance(r, Record)] == ["One"]
    assert read(record_file("oai:x:2", "", ' status="deleted"')) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (record_file("oai:x:1", "<marc xmlns='http://www.loc.gov/MARC21/slim'/>"), "format lod"),
        (record_file("", dc(("title", "T"))), "no header identifier"),
        (
            record_file(
                "http://h/r/1",
                "<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description rdf:about='http://h/r/2'><rdf:value>x</rdf:value></rdf:Description></rdf:RDF>",
            ),
            "says nothing about the record http://h/r/1",
        ),
        (
            record_file(
                "http://h/r/1",
                "<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description rdf:about='http://h/r/1'><rdf:nonsense rdf:resource='::'/></rdf:Description></rdf:RDF>",
            ),
            "not valid RDF/XML",
        ),
    ],
)
def test_bad_records_are_source_errors(text: str, message: str) -> None:
    (error,) = read(text)
    assert isinstance(error, SourceError) and message in str(error)
    assert error.file == "h/record.xml"


def test_dtd_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]>'
        '<record xmlns="http://www.openarchives.org/OAI/2.0/"><header><identifier>&a;'
        "</identifier></header></record>"
    )
    (error,) = read_file(path)
    assert isinstance(error, UnsafeXMLError)


def test_oai_dc_round_trip(records_site: Path, corpus_site: Path) -> None:
    """graph -> oai_dc -> Record -> graph -> oai_dc keeps every element oai_dc carries; only
    extra rights texts (dcterms:accessRights) come back as additional properties."""
    compared = 0
    for site in (records_site, corpus_site):
        for uri, path in published(site):
            triples = [q.triple for q in parse(path=str(path))]
            if "/collection/" in uri:
                continue  # collections are minted from their names, not their IDs
            record = one(record_file(uri, oai_dc_xml(triples, uri)))
            again = MAPPER.map(record)
            assert again.uri == uri
            before = _values(triples, uri)
            after = _values(again.triples, uri)
            before["rights"], after["rights"] = before["rights"][:1], after["rights"][:1]
            assert after == before, uri
            compared += 1
    assert compared > 50


def _values(triples: list, uri: str) -> dict[str, list[tuple[str, str]]]:
    from lod.oaidc import _index

    return dc_values(_index(triples), uri)
