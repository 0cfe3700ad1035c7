"""Mapping: the seed record's graph, entity linking, and a field-by-field audit of the corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, XSD

from lod.authorities import display_name
from lod.errors import MappingError
from lod.mapping import ATTRIBUTE_PREDICATES, Mapper
from lod.model import Origin, Record
from lod.namespaces import expand
from lod.sources import read_file, read_sources
from lod.uris import Minter
from lod.vocab import load_vocab
from tests.conftest import BASE, RECORDS

SCHEMA = Namespace("http://schema.org/")
LOD = Namespace(BASE + "vocab/lod#")
RICO = Namespace("https://www.ica.org/standards/RiC/ontology#")
R = URIRef(BASE + "record/112095")
MAPPER = Mapper(load_vocab(), Minter(BASE))


def graph_of(record: Record) -> Graph:
    g = Graph()
    for t in MAPPER.map(record).triples:
        g.add((URIRef(t.subject.value), URIRef(t.predicate.value), _term(t.object)))
    return g


def _term(obj: object) -> URIRef | Literal:
    from pyoxigraph import Literal as OxLiteral

    if isinstance(obj, OxLiteral):
        if obj.language:
            return Literal(obj.value, lang=obj.language)
        if obj.datatype.value == str(XSD.string):
            return Literal(obj.value)
        return Literal(obj.value, datatype=URIRef(obj.datatype.value))
    return URIRef(obj.value)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def seed() -> Graph:
    (record,) = [r for r in read_file(RECORDS / "112095.txt") if isinstance(r, Record)]
    return graph_of(record)


def test_seed_core_fields(seed: Graph) -> None:
    assert seed.value(R, DCTERMS.title).startswith("Telegram from Mao Zedong to I.V. Stalin")
    assert seed.value(R, DCTERMS.created) == Literal("1951-01-16", datatype=XSD.date)
    assert seed.value(R, SCHEMA.dateSent) == Literal("1951-01-16", datatype=XSD.date)
    assert seed.value(R, DCTERMS.abstract).startswith("Mao asks Stalin")
    assert "With Bolshevik greetings" in seed.value(R, SCHEMA.text)
    assert seed.value(R, DCTERMS.identifier) == Literal("112095")
    assert seed.value(R, DCTERMS.issued) == Literal("2011-11-20", datatype=XSD.date)
    assert (R, RDF.type, SCHEMA.Message) in seed


def test_seed_type_rights_citation(seed: Graph) -> None:
    # The local concepts (lod.concepts), and the hub URIs harvesters rely on.
    assert (R, DCTERMS.type, URIRef(BASE + "vocab/type/telegram")) in seed
    assert (R, SCHEMA.additionalType, URIRef("http://vocab.getty.edu/aat/300026909")) in seed
    assert (R, DCTERMS.type, URIRef("http://purl.org/dc/dcmitype/Text")) in seed
    cne = URIRef("http://rightsstatements.org/vocab/CNE/1.0/")
    assert (R, DCTERMS.rights, URIRef(BASE + "vocab/rights/cne")) in seed
    assert (R, SCHEMA.license, cne) in seed
    assert any(
        str(o).startswith("The History and Public Policy Program")
        for o in seed.objects(R, DCTERMS.rights)
    )
    assert seed.value(R, DCTERMS.source) == Literal("APRF, f. 45, op. 1, d. 337, ll. 1-3.")
    citation = seed.value(R, LOD.citation)
    parts = {
        p.split("#")[-1]: str(o)
        for p, o in seed.predicate_objects(citation)
        if str(p).startswith(str(LOD))
    }
    assert parts == {
        "archive": "APRF",
        "fonds": "45",
        "series": "1",
        "file": "337",
        "leaves": "1-3",
    }
    assert seed.value(R, SCHEMA.holdingArchive) == URIRef(BASE + "archive/aprf")
    assert seed.value(R, URIRef(expand("rico:isOrWasIncludedIn"))) == URIRef(
        BASE + "archive/aprf/fonds/45/series/1/file/337"
    )


@pytest.mark.parametrize(
    ("citation", "top"),
    [
        ("APRF, f. 45, op. 1, d. 337, ll. 1-3.", "archive/aprf/fonds/45"),
        ("2002 ATHENS 002867", "archive/us-department-of-state/series/2002"),
    ],
)
def test_record_sets_are_included_in_sets_and_held_by_the_archive(citation: str, top: str) -> None:
    """rico:isOrWasIncludedIn ranges over rico:RecordSet: a record is included in its file, a
    file in its series, a series in its fonds; the archive (a rico:CorporateBody) is no set,
    so the highest set cited is held by it (rico:hasOrHadHolder), whatever its level."""
    g = graph_of(Record(id="c", source_format="t", origin=Origin("f"), citation=citation))
    for _, container in g.subject_objects(RICO.isOrWasIncludedIn):
        assert (container, RDF.type, RICO.RecordSet) in g, container
    archive = g.value(URIRef(BASE + "record/c"), RICO.hasOrHadHolder)
    assert (archive, RDF.type, RICO.CorporateBody) in g
    assert set(g.subjects(RICO.hasOrHadHolder, archive)) == {
        URIRef(BASE + "record/c"),
        URIRef(BASE + top),
    }


def test_seed_people(seed: Graph) -> None:
    mao, stalin = URIRef(BASE + "agent/mao-zedong"), URIRef(BASE + "agent/joseph-stalin")
    assert set(seed.objects(R, SCHEMA.author)) == {mao}
    assert set(seed.objects(R, SCHEMA.sender)) == {mao}
    assert set(seed.objects(R, DCTERMS.creator)) == {mao}
    assert set(seed.objects(R, SCHEMA.recipient)) == {stalin}
    assert seed.value(R, LOD.addressedAs) == Literal("Comrade FILIPPOV [Stalin]")
    assert seed.value(mao, SCHEMA.name) == Literal("Mao Zedong")  # a name, not English text
    assert URIRef(BASE + "agent/vyacheslav-molotov") in set(seed.objects(R, SCHEMA.ccRecipient))
    assert seed.value(R, SCHEMA.locationCreated) == URIRef(BASE + "place/beijing")


def test_seed_date_period(seed: Graph) -> None:
    period = seed.value(R, LOD.createdPeriod)
    assert seed.value(period, URIRef(expand("rdfs:label"))) == Literal("January 16, 1951")
    assert seed.value(period, LOD.edtf) == Literal(
        "1951-01-16", datatype=URIRef(expand("edtf:EDTF"))
    )
    assert seed.value(period, URIRef(expand("dcat:startDate"))) == Literal(
        "1951-01-16", datatype=XSD.date
    )


def test_verified_links_only() -> None:
    entities = {
        e.uri: e
        for e in MAPPER.map(
            next(r for r in read_file(RECORDS / "112095.txt") if isinstance(r, Record))
        ).entities
    }
    assert entities[BASE + "agent/mao-zedong"].same_as == ("http://www.wikidata.org/entity/Q5816",)
    assert entities[BASE + "agent/joseph-stalin"].same_as == (
        "http://www.wikidata.org/entity/Q855",
    )
    assert entities[BASE + "agent/vyacheslav-molotov"].same_as == ()


@pytest.mark.parametrize(
    ("heading", "label"),
    [
        ("Nehru, Jawaharlal", "Jawaharlal Nehru"),
        ("Bush, George, 1924-", "George Bush"),
        ("Chiang, Ching-kuo (Jiang Jingguo)", "Chiang Ching-kuo"),  # family name first
        ("Japan. Foreign Ministry", "Japan. Foreign Ministry"),
        ("Mao Zedong", "Mao Zedong"),
    ],
)
def test_display_names(heading: str, label: str) -> None:
    assert display_name(heading, load_vocab().names.family_first) == label


def test_inverted_and_direct_names_meet() -> None:
    a = Record(id="a", source_format="t", origin=Origin("a"), authors=["Nehru, Jawaharlal"])
    b = Record(id="b", source_format="t", origin=Origin("b"), people=["Jawaharlal Nehru"])
    uri_a = {e.uri for e in MAPPER.map(a).entities}
    uri_b = {e.uri for e in MAPPER.map(b).entities}
    assert uri_a == uri_b == {BASE + "agent/jawaharlal-nehru"}


@pytest.mark.parametrize(
    ("date", "datatype"),
    [
        ("November 1967", XSD.gYearMonth),
        ("1958", XSD.gYear),
        ("ca. 1951", URIRef("http://id.loc.gov/datatypes/edtf/EDTF")),
    ],
)
def test_partial_dates_are_typed(date: str, datatype: URIRef) -> None:
    g = graph_of(Record(id="d", source_format="t", origin=Origin("f"), date=date))
    assert g.value(URIRef(BASE + "record/d"), DCTERMS.created).datatype == datatype


@pytest.mark.parametrize("date", ["ca. 1951", "1950s", "November 5-6, 1965", "1951?"])
def test_fuzzy_dates_stay_out_of_schema_org_date_properties(date: str) -> None:
    """schema:dateCreated and schema:dateSent take a schema:Date or schema:DateTime (one ISO 8601
    date); an approximate date, a decade or a range is none, so it is left to dcterms:created
    (any literal) and the date period, which keep its EDTF value and first and last day."""
    g = graph_of(
        Record(id="d", source_format="t", origin=Origin("f"), date=date, doc_type="Telegram")
    )
    s = URIRef(BASE + "record/d")
    edtf = URIRef("http://id.loc.gov/datatypes/edtf/EDTF")
    assert g.value(s, DCTERMS.created).datatype == edtf
    assert g.value(s, SCHEMA.dateCreated) is None and g.value(s, SCHEMA.dateSent) is None
    period = g.value(s, LOD.createdPeriod)
    assert g.value(period, LOD.edtf).datatype == edtf
    assert g.value(period, URIRef("http://www.w3.org/ns/dcat#startDate")) is not None


def test_impossible_date_names_source_field() -> None:
    record = Record(id="x", source_format="t", origin=Origin("f.csv", 4))
    record.put("date", "2010-02-50", Origin("f.csv", 4, "original_publication_date"))
    with pytest.raises(MappingError) as info:
        MAPPER.map(record)
    assert (info.value.file, info.value.line, info.value.field, info.value.record_id) == (
        "f.csv",
        4,
        "original_publication_date",
        "x",
    )


def test_language_uris() -> None:
    g = graph_of(
        Record(id="l", source_format="t", origin=Origin("f"), languages=["Russian", "Klingon"])
    )
    s = URIRef(BASE + "record/l")
    assert (s, DCTERMS.language, URIRef(BASE + "vocab/language/ru")) in g
    assert (s, SCHEMA.inLanguage, Literal("ru")) in g
    assert (s, DCTERMS.language, Literal("Klingon")) in g  # unknown: kept verbatim, not guessed


@pytest.mark.parametrize(
    ("languages", "tagged"),
    [
        (["Russian"], Literal("Пример текста.", lang="ru")),
        # two languages, or one lod cannot name: the text's own is not known, so no tag
        (["Russian", "Chinese"], Literal("Пример текста.")),
        (["Klingon"], Literal("Пример текста.")),
        ([], Literal("Пример текста.")),
    ],
)
def test_a_transcript_is_in_the_records_one_language(languages: list[str], tagged: Literal) -> None:
    record = Record(
        id="t",
        source_format="t",
        origin=Origin("f"),
        languages=languages,
        transcript="Пример текста.",
    )
    assert graph_of(record).value(URIRef(BASE + "record/t"), SCHEMA.text) == tagged


def _values(record: Record, attr: str) -> list[str]:
    value = getattr(record, attr)
    if isinstance(value, dict):
        return [str(v) for v in value.values()]
    if isinstance(value, list):
        return [getattr(v, "url", v) for v in value]
    return [value]


def test_every_source_field_reaches_the_graph(corpus: Path) -> None:
    """The field audit: for every record of the shared corpus and every field read from it, the
    graph carries that attribute's predicates; and every source field name of every reader is
    accounted for (read into the model or kept as an extra)."""
    checked = 0
    for item in read_sources([corpus, RECORDS]):
        if not isinstance(item, Record):
            continue
        mapped = MAPPER.map(item)
        predicates = {t.predicate.value for t in mapped.triples}
        for attr in item.filled():
            if attr in ("date_hint", "origin"):
                continue
            expected = {expand(c, MAPPER.lod) for c in ATTRIBUTE_PREDICATES[attr]}
            assert predicates & expected, f"{item.origin.file}: {attr} did not reach the graph"
            checked += 1
        for name in item.extra:
            assert item.origins[f"extra:{name}"].field
        literals = {t.object.value for t in mapped.triples}
        for attr in ("title", "citation", "rights", "summary", "classification", "credits"):
            value = getattr(item, attr)
            if value:
                assert value in literals, f"{item.id}: {attr} value is not in the graph verbatim"
        for name, value in item.extra.items():
            assert value in literals and name in literals
    assert checked > 500


def test_every_csv_column_is_read(corpus: Path) -> None:
    import csv

    path = corpus / "wilson-da" / "scrape" / "wilson_archive.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    records = {r.id: r for r in read_file(path) if isinstance(r, Record)}
    for row in rows:
        record = records[row["record_id"]]
        fields = {o.field for o in record.origins.values()}
        for column, value in row.items():
            if value.strip() and value.strip() not in ("None", "[]"):
                assert column in fields, f"row {row['record_id']}: column {column} was not read"


@pytest.mark.parametrize(
    "url", ["http://a b", "http://ex.org/a%zz", "http://[bad", "javascript:alert(1)"]
)
def test_invalid_urls_stay_literals(url: str) -> None:
    from lod.model import Media

    record = Record(id="u", source_format="t", origin=Origin("f"), url=url, media=[Media(url=url)])
    g = graph_of(record)
    assert g.value(URIRef(BASE + "record/u"), SCHEMA.url) == Literal(url)
    assert (
        URIRef(BASE + "record/u"),
        SCHEMA.associatedMedia,
        URIRef(BASE + "record/u#media-1"),
    ) in g


@pytest.mark.parametrize(
    ("kind", "uri", "dcmi_type"),
    [
        ("document", "record/k", "Text"),
        ("transcript", "record/k", "Text"),
        ("collection", "collection/k", "Collection"),
    ],
)
def test_a_collection_is_a_dcmi_collection_not_a_text(kind: str, uri: str, dcmi_type: str) -> None:
    """Aggregators tell collection-level records from items by dc:type: the JSON API's
    collection 491 was published as dcmitype:Text."""
    g = graph_of(Record(id="k", source_format="t", origin=Origin("f"), kind=kind, title="K"))
    dcmitype = "http://purl.org/dc/dcmitype/"
    types = {str(o) for o in g.objects(URIRef(BASE + uri), DCTERMS.type)}
    assert {t for t in types if t.startswith(dcmitype)} == {dcmitype + dcmi_type}


@pytest.mark.parametrize("stated", ["undated", "Undated", "n.d.", "[n.d.]"])
def test_an_undated_record_is_published_with_its_statement(stated: str) -> None:
    """An archive's "undated" says the document bears no date; it is no bad date: the record
    is published (it was rejected as an "unrecognized date"), without a typed date, and the
    statement is kept verbatim on the date period."""
    g = graph_of(Record(id="u", source_format="t", origin=Origin("f"), title="U", date=stated))
    s = URIRef(BASE + "record/u")
    assert g.value(s, DCTERMS.created) is None and g.value(s, SCHEMA.dateCreated) is None
    period = g.value(s, LOD.createdPeriod)
    assert g.value(period, URIRef("http://www.w3.org/2000/01/rdf-schema#label")) == Literal(stated)
    assert g.value(period, LOD.edtf) is None
