"""oai_dc from published graphs: strict structure (namespaces, the fifteen elements, no empty
ones), the crosswalk's values, labels instead of URIs, escaping and determinism."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from lxml import etree
from pyoxigraph import Literal, NamedNode, Triple, parse

from lod.mapping import Mapper
from lod.model import Origin, Record
from lod.oaidc import DC_NS, ELEMENTS, OAI_DC_NS, OAI_DC_SCHEMA, XSI_NS, oai_dc_xml
from lod.uris import Minter
from lod.vocab import load_vocab
from tests.conftest import BASE

DC = "{" + DC_NS + "}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MAPPER = Mapper(load_vocab(), Minter(BASE))


def graph(path: Path) -> list[Triple]:
    return [q.triple for q in parse(path=str(path))]


def checked(xml: str) -> list[tuple[str, str]]:
    """Parse strictly and check the oai_dc structure; return (element, text) in order."""
    root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(resolve_entities=False))
    assert root.tag == "{" + OAI_DC_NS + "}dc"
    assert root.nsmap == {"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS}
    assert root.get("{" + XSI_NS + "}schemaLocation") == f"{OAI_DC_NS} {OAI_DC_SCHEMA}"
    assert not (root.text or "").strip()
    values = []
    for child in root:
        assert isinstance(child.tag, str) and child.tag.startswith(DC), child.tag
        name = child.tag[len(DC) :]
        assert name in ELEMENTS
        assert len(child) == 0 and set(child.attrib) <= {XML_LANG}
        assert child.text and child.text.strip(), f"empty dc:{name}"
        values.append((name, child.text))
    order = [ELEMENTS.index(name) for name, _ in values]
    assert order == sorted(order)  # elements in the specification's order
    return values


def published(site: Path) -> list[tuple[str, Path]]:
    """(URI, N-Triples file) of every published record: documents, transcripts and the
    collections read as records (those with an identifier, unlike collection entities)."""
    found = []
    for folder in ("record", "collection"):
        for path in sorted((site / "doc" / folder).glob("*.nt")):
            uri = BASE + str(path.relative_to(site / "doc").with_suffix(""))
            if f"<{uri}> <http://purl.org/dc/terms/identifier>" in path.read_text():
                found.append((uri, path))
    return found


def test_seed_record(records_site: Path) -> None:
    uri = BASE + "record/112095"
    values = checked(oai_dc_xml(graph(records_site / "doc/record/112095.nt"), uri))
    rights = [text for name, text in values if name == "rights"]
    assert [(n, t) for n, t in values if n != "rights"] == [
        (
            "title",
            "Telegram from Mao Zedong to I.V. Stalin, transmitting 14 January 1951 Message "
            "from Mao to Peng Dehuai with Message from Kim Il Sung",
        ),
        ("creator", "Mao Zedong"),
        (
            "description",
            "Mao asks Stalin on his opinion regarding the incorporation of Korean troops into "
            "the Chinese army, as well as the possible response of the enemy.",
        ),
        ("date", "1951-01-16"),
        ("type", "Telegram"),
        ("type", "Text"),
        ("identifier", "112095"),
        ("identifier", uri),
        ("source", "APRF, f. 45, op. 1, d. 337, ll. 1-3."),
        ("coverage", "Beijing"),
    ]
    assert rights[0].startswith("The History and Public Policy Program welcomes reuse")
    assert rights[1:] == ["http://rightsstatements.org/vocab/CNE/1.0/"]


def test_example_api_record_fills_the_other_elements(records_site: Path) -> None:
    uri = BASE + "record/example-api-1"
    values = checked(oai_dc_xml(graph(records_site / "doc/record/example-api-1.nt"), uri))
    by_element: dict[str, list[str]] = {}
    for name, text in values:
        by_element.setdefault(name, []).append(text)
    assert by_element["creator"] == ["Jane Example"]
    assert by_element["contributor"] == ["John Sample"]
    assert by_element["subject"] == ["Example subject--Testing"]
    assert by_element["coverage"] == ["Beijing"]
    assert by_element["relation"] == ['\u201cLocal Nationalism" in Xinjiang, 1957-1958']
    assert by_element["language"] == ["ru"]  # the BCP 47 code, not also the ISO 639-2 one
    assert by_element["date"] == ["1958"]
    assert by_element["identifier"] == [
        "example-api-1",
        uri,
        "https://digitalarchive.wilsoncenter.org/document/example-api-1",
    ]
    assert by_element["rights"][-1] == "Top Secret"  # dcterms:accessRights
    assert "publisher" not in by_element


def test_every_published_record(records_site: Path, corpus_site: Path) -> None:
    """Every record of the sample records and the shared corpus gives valid oai_dc, with
    entities by label (no URI of ours but the record's own identifier)."""
    checked_records = 0
    for site in (records_site, corpus_site):
        for uri, path in published(site):
            values = checked(oai_dc_xml(graph(path), uri))
            assert ("identifier", uri) in values
            assert [n for n, _ in values].count("title") >= 1
            ours = [(n, t) for n, t in values if t.startswith(BASE)]
            assert ours == [("identifier", uri)], ours
            checked_records += 1
    assert checked_records > 50


def test_same_graph_same_bytes_whatever_the_order(records_site: Path) -> None:
    triples = graph(records_site / "doc/record/example-api-1.nt")
    uri = BASE + "record/example-api-1"
    expected = oai_dc_xml(triples, uri)
    shuffled = list(triples)
    random.Random(7).shuffle(shuffled)
    assert oai_dc_xml(shuffled, uri) == expected


def test_markup_and_forbidden_characters_are_escaped() -> None:
    title = 'Memo <b>"A & B"</b> ]]> \x01\x0b end\r\nsecond line'
    record = Record(
        id="esc",
        source_format="t",
        origin=Origin("t"),
        title=title,
        summary="x < y",
        authors=["O'Brien & <Sons>"],
    )
    uri = BASE + "record/esc"
    values = dict(checked(oai_dc_xml(MAPPER.map(record).triples, uri)))
    assert values["title"] == 'Memo <b>"A & B"</b> ]]>  end\r\nsecond line'
    assert values["description"] == "x < y"
    assert values["creator"] == "O'Brien & <Sons>"


def test_language_tags_and_iso_codes() -> None:
    s = NamedNode(BASE + "record/l")
    triples = [
        Triple(s, NamedNode("http://purl.org/dc/terms/title"), Literal("Brief", language="de")),
        Triple(
            s,
            NamedNode("http://purl.org/dc/terms/language"),
            NamedNode("http://id.loc.gov/vocabulary/iso639-2/ger"),
        ),
        Triple(s, NamedNode("http://purl.org/dc/terms/language"), Literal("Klingon")),
        Triple(s, NamedNode("http://purl.org/dc/terms/description"), Literal("   ")),
    ]
    xml = oai_dc_xml(triples, s.value)
    assert '<dc:title xml:lang="de">Brief</dc:title>' in xml
    assert checked(xml) == [
        ("title", "Brief"),
        ("identifier", s.value),
        ("language", "Klingon"),
        ("language", "ger"),
    ]


def test_entity_without_label_is_left_out_and_publisher_setting_fills_in() -> None:
    s = NamedNode(BASE + "record/p")
    creator = NamedNode(BASE + "agent/nobody")
    triples = [Triple(s, NamedNode("http://purl.org/dc/terms/creator"), creator)]
    values = checked(oai_dc_xml(triples, s.value, publisher="Wilson Center Digital Archive"))
    assert values == [("publisher", "Wilson Center Digital Archive"), ("identifier", s.value)]


@pytest.mark.parametrize("uri", [BASE + "record/none", "http://elsewhere.example/x"])
def test_a_record_the_graph_does_not_describe_has_only_its_identifier(uri: str) -> None:
    assert checked(oai_dc_xml([], uri)) == [("identifier", uri)]


def test_an_api_short_description_is_a_description_not_a_title() -> None:
    """The JSON API's short_description is a sentence about the collection: aggregators show
    every dc:title as a title, so it goes to dc:description (dcterms/schema:description)."""
    from lod.sources import read_file
    from tests.conftest import corpus_path

    (record,) = read_file(corpus_path("wilson-da", "api", "collection.json"))
    assert isinstance(record, Record)
    short = (
        "In 1957, the Xinjiang Party Committee aimed to expose and eliminate so-called local "
        "nationalist deviations."
    )
    mapped = MAPPER.map(record)
    carrying = {
        t.predicate.value
        for t in mapped.triples
        if t.subject.value == mapped.uri and t.object.value == short
    }
    assert carrying == {"http://purl.org/dc/terms/description", "http://schema.org/description"}
    values = checked(oai_dc_xml(mapped.triples, mapped.uri))
    assert [t for n, t in values if n == "title"] == [
        '\u201cLocal Nationalism" in Xinjiang, 1957-1958'
    ]
    assert short in [t for n, t in values if n == "description"]
