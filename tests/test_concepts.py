"""Controlled vocabularies as SKOS (lod.concepts): every table in vocab/ is a concept scheme of
its own, every row a concept that dereferences like any entity, records point to the concepts,
and the concepts link to Getty AAT, DCMI Type, ISO 639 and RightsStatements.org."""

from __future__ import annotations

import shutil
from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests
from pyoxigraph import QuerySolutions, Store, Triple
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS

from lod.concepts import Concepts
from lod.config import Config
from lod.mapping import Mapper
from lod.model import Origin, Record
from lod.oaidc import DC_NS, oai_dc_xml
from lod.publish.site import build
from lod.publish.writer import record_sets
from lod.uris import Minter
from lod.vocab import load_vocab
from tests.conftest import BASE, RECORDS, corpus_path
from tests.test_mapping import graph_of

SCHEMA = Namespace("http://schema.org/")
AAT = Namespace("http://vocab.getty.edu/aat/")
ISO639_2 = Namespace("http://id.loc.gov/vocabulary/iso639-2/")
VOCAB = load_vocab()
MAPPER = Mapper(VOCAB, Minter(BASE))
ENTITIES = MAPPER.concepts.entities()
SCHEMES = [e for e in ENTITIES if e.kind == "scheme"]
CONCEPTS = [e for e in ENTITIES if "skos:Concept" in e.types]
FORMATS = (".ttl", ".jsonld", ".nt", ".rdf", ".html")
ISSUE_ARCHIVES = ("APRF", "AVPRF", "RGASPI", "RGANI", "GARF", "PRC FMA", "BArch", "NMML")


def test_one_scheme_per_table_and_one_concept_per_row() -> None:
    rows = {
        "type": len(set(VOCAB.types.values())),
        "language": len(set(VOCAB.languages.values())),
        "rights": len(VOCAB.rights),
        "classification": len(set(VOCAB.classifications.values())),
        "archive": len(set(VOCAB.archives.values())),
    }
    assert {s.uri for s in SCHEMES} == {f"{BASE}vocab/{name}" for name in rows}
    for scheme in SCHEMES:
        members = [target for p, target in scheme.links if p == "skos:hasTopConcept"]
        assert len(members) == len(set(members)) == rows[scheme.uri.rsplit("/", 1)[1]]
        for uri in members:
            (concept,) = [c for c in CONCEPTS if c.uri == uri]
            assert ("skos:inScheme", scheme.uri) in concept.links
            assert ("skos:topConceptOf", scheme.uri) in concept.links
    assert len(CONCEPTS) == sum(rows.values())
    assert len({e.uri for e in ENTITIES}) == len(ENTITIES)


def test_the_archives_the_issue_lists_are_concepts_with_a_country() -> None:
    archives = {a.abbreviation: a for a in VOCAB.archives.values()}
    assert set(ISSUE_ARCHIVES) <= set(archives)
    japan = VOCAB.archive("Diplomatic Archives of the Ministry of Foreign Affairs of Japan")
    assert japan is not None and japan.country == "Japan"
    for archive in archives.values():
        assert archive.label and archive.country, archive
        entity = MAPPER.concepts.archive(archive.abbreviation)
        # The archive entity is the concept: one URI, not a second one for the vocabulary.
        assert entity.uri == f"{BASE}archive/{archive.slug}"
        assert "skos:Concept" in entity.types and "schema:ArchiveOrganization" in entity.types
        assert ("skos:notation", archive.abbreviation) in entity.literals
        assert ("skos:inScheme", f"{BASE}vocab/archive") in entity.links
        assert any(p == "schema:location" for p, _ in entity.links)


def test_an_unknown_archive_is_no_concept() -> None:
    entity = MAPPER.concepts.archive("Archive of Nowhere")
    assert "skos:Concept" not in entity.types and not entity.links


def test_languages_carry_iso_639_2_and_3_and_bcp_47() -> None:
    chinese = MAPPER.concepts.get("language", "zh")
    assert chinese.uri == f"{BASE}vocab/language/zh"
    assert ("skos:exactMatch", "http://id.loc.gov/vocabulary/iso639-2/chi") in chinese.links
    assert ("skos:exactMatch", "https://iso639-3.sil.org/code/zho") in chinese.links
    notations = {v for p, v in chinese.literals if p == "skos:notation"}
    assert notations == {"chi", "zho", "zh"}
    assert VOCAB.language("zho") == VOCAB.language("Mandarin") == VOCAB.language("chi")
    for language in set(VOCAB.languages.values()):
        assert len(language.iso639_3) == 3 and language.iso639_3.isalpha(), language


def test_getting_a_concept_twice_gives_copies() -> None:
    first = MAPPER.concepts.get("type", "telegram")
    first.variants.add("changed")
    assert "changed" not in MAPPER.concepts.get("type", "telegram").variants


def test_a_record_points_to_the_concepts() -> None:
    record = Record(
        id="c",
        source_format="t",
        origin=Origin("f"),
        doc_type="Ciphered Telegram",
        languages=["German"],
        rights="In Copyright - Educational Use Permitted",
        classification="TOP SECRET",
        citation="BArch, B 136/59748, 403-410.",
    )
    g = graph_of(record)
    s = URIRef(BASE + "record/c")
    telegram = URIRef(BASE + "vocab/type/telegram")
    german = URIRef(BASE + "vocab/language/de")
    rights = URIRef(BASE + "vocab/rights/inc-edu")
    top_secret = URIRef(BASE + "vocab/classification/top-secret")
    assert (s, DCTERMS.type, telegram) in g
    assert (s, DCTERMS.language, german) in g
    assert (s, DCTERMS.rights, rights) in g
    assert (s, DCTERMS.accessRights, top_secret) in g
    assert (s, SCHEMA.holdingArchive, URIRef(BASE + "archive/barch")) in g
    # what harvesters rely on stays
    assert (s, SCHEMA.additionalType, AAT["300026909"]) in g
    assert (s, DCTERMS.type, URIRef("http://purl.org/dc/dcmitype/Text")) in g
    assert (s, SCHEMA.inLanguage, Literal("de")) in g
    assert (s, SCHEMA.license, URIRef("http://rightsstatements.org/vocab/InC-EDU/1.0/")) in g
    assert (s, SCHEMA.genre, Literal("Ciphered Telegram")) in g
    assert (s, SCHEMA.conditionsOfAccess, Literal("TOP SECRET")) in g
    # the concepts as the record describes them: class, label, scheme, mappings
    assert (telegram, RDF.type, SKOS.Concept) in g
    assert (telegram, SKOS.inScheme, URIRef(BASE + "vocab/type")) in g
    assert (telegram, SKOS.exactMatch, AAT["300026909"]) in g
    assert (german, SKOS.exactMatch, ISO639_2["ger"]) in g
    assert (top_secret, SCHEMA.name, Literal("Top Secret", lang="en")) in g


def test_unknown_values_keep_their_literal() -> None:
    record = Record(
        id="u",
        source_format="t",
        origin=Origin("f"),
        doc_type="Aide-mémoire",
        languages=["Klingon"],
        rights="Ask the archive",
        classification="Eyes Only",
    )
    g = graph_of(record)
    s = URIRef(BASE + "record/u")
    assert set(g.objects(s, DCTERMS.type)) == {URIRef("http://purl.org/dc/dcmitype/Text")}
    assert (s, SCHEMA.genre, Literal("Aide-mémoire")) in g
    assert set(g.objects(s, DCTERMS.language)) == {Literal("Klingon")}
    assert set(g.objects(s, DCTERMS.rights)) == {Literal("Ask the archive", lang="en")}
    assert set(g.objects(s, DCTERMS.accessRights)) == {Literal("Eyes Only")}
    assert not any(isinstance(o, URIRef) and "/vocab/" in o for o in g.objects())


@pytest.mark.parametrize(
    ("value", "slug"),
    [
        ("Secret", "secret"),
        ("SECRET", "secret"),
        ("secret.", "secret"),
        ("Limited Official Use", "limited-official-use"),
        ("LOU", "limited-official-use"),
        ("Secret; Nodis", "secret"),  # a distribution caption after the level
        ("Top Secret, Special File", "top-secret"),
        ("Eyes Only", None),
        ("Secretary of State", None),
    ],
)
def test_classification_variants_meet(value: str, slug: str | None) -> None:
    level = VOCAB.classification(value)
    assert (level.slug if level else None) == slug


def test_every_concept_and_scheme_is_published_in_every_format(records_site: Path) -> None:
    for entity in ENTITIES:
        stem = records_site / "doc" / entity.uri[len(BASE) :]
        for suffix in FORMATS:
            assert Path(str(stem) + suffix).is_file(), f"{entity.uri}{suffix}"


def test_every_concept_dereferences(records_server: str) -> None:
    session = requests.Session()
    for entity in SCHEMES + CONCEPTS:
        path = entity.uri[len(BASE) - 1 :]
        thing = session.get(
            records_server + path,
            headers={"Accept": "text/turtle"},
            allow_redirects=False,
            timeout=10,
        )
        assert thing.status_code == 303 and thing.headers["Location"] == "/doc" + path
        doc = session.get(records_server + "/doc" + path, headers={"Accept": "text/turtle"})
        assert doc.status_code == 200 and doc.headers["Content-Type"].startswith("text/turtle")
        g = Graph().parse(data=doc.text, format="turtle")
        kind = SKOS.ConceptScheme if entity.kind == "scheme" else SKOS.Concept
        assert (URIRef(entity.uri), RDF.type, kind) in g
        assert g.value(URIRef(entity.uri), SKOS.prefLabel) == Literal(entity.label, lang="en")


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        ("application/ld+json", "application/ld+json"),
        ("application/n-triples", "application/n-triples"),
        ("application/rdf+xml", "application/rdf+xml"),
        ("text/html", "text/html"),
    ],
)
def test_a_concept_negotiates_every_format(records_server: str, accept: str, media: str) -> None:
    r = requests.get(records_server + "/vocab/language/ru", headers={"Accept": accept}, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith(media)
    assert r.url.endswith("/doc/vocab/language/ru")


def test_lods_own_terms_stay_a_file_beside_the_schemes(records_server: str) -> None:
    r = requests.get(records_server + "/vocab/lod.ttl", allow_redirects=False, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")


def test_schemes_list_their_concepts_in_the_store(records_site: Path) -> None:
    store = Store.read_only(str(records_site / "store"))
    query = """
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?scheme (COUNT(DISTINCT ?listed) AS ?n) (COUNT(DISTINCT ?member) AS ?m) WHERE {
          ?scheme a skos:ConceptScheme ; skos:hasTopConcept ?listed .
          ?member skos:inScheme ?scheme ; skos:topConceptOf ?scheme .
        } GROUP BY ?scheme"""
    solutions = store.query(query, use_default_graph_as_union=True)
    assert isinstance(solutions, QuerySolutions)
    counts = {s["scheme"].value: (int(s["n"].value), int(s["m"].value)) for s in solutions}
    assert set(counts) == {s.uri for s in SCHEMES}
    assert all(n == m for n, m in counts.values()), counts


def test_concepts_link_to_the_hubs_in_the_store(records_site: Path) -> None:
    g = Graph().parse(records_site / "doc/vocab/type/telegram.ttl", format="turtle")
    telegram = URIRef(BASE + "vocab/type/telegram")
    assert (telegram, SKOS.exactMatch, AAT["300026909"]) in g
    assert (telegram, SKOS.broadMatch, URIRef("http://purl.org/dc/dcmitype/Text")) in g
    g = Graph().parse(records_site / "doc/vocab/rights/cne.ttl", format="turtle")
    cne = URIRef(BASE + "vocab/rights/cne")
    assert (cne, SKOS.exactMatch, URIRef("http://rightsstatements.org/vocab/CNE/1.0/")) in g
    assert (cne, SKOS.notation, Literal("CNE")) in g
    g = Graph().parse(records_site / "doc/vocab/language/ru.ttl", format="turtle")
    ru = URIRef(BASE + "vocab/language/ru")
    assert (ru, SKOS.exactMatch, ISO639_2["rus"]) in g
    assert (ru, SKOS.exactMatch, URIRef("https://iso639-3.sil.org/code/rus")) in g
    # an entity page lists the records pointing to it
    html = (records_site / "doc/vocab/type/telegram.html").read_text(encoding="utf-8")
    assert "record/112095.html" in html


def test_a_sparql_query_by_concept(records_server: str) -> None:
    query = """
        PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        PREFIX iso639: <http://id.loc.gov/vocabulary/iso639-2/>
        SELECT ?record ?type WHERE {
          ?record dcterms:language ?language ; dcterms:type ?concept .
          ?language skos:exactMatch iso639:rus .
          ?concept skos:inScheme <vocab/type> ; skos:prefLabel ?type .
        } ORDER BY ?record"""
    r = requests.get(
        records_server + "/sparql",
        params={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    rows = [(b["record"]["value"], b["type"]["value"]) for b in r.json()["results"]["bindings"]]
    assert rows == [
        (BASE + "record/example-api-1", "Memorandum"),
        (BASE + "record/example-csv-1", "Letter"),
    ]


def test_concepts_nobody_uses_any_more_stay_published(tmp_path: Path) -> None:
    """The vocabularies are published whole: an incremental build that drops the only record of
    a type keeps the concept, and gives what a full build gives."""
    sources = tmp_path / "src"
    sources.mkdir()
    shutil.copy(corpus_path("wilson-da", "scrape", "wilson_archive.csv"), sources / "scrape.csv")
    shutil.copy(RECORDS / "112095.txt", sources / "112095.txt")
    out, full = tmp_path / "site", tmp_path / "full"
    settings = Config(base_uri=BASE, progress=False, workers=1, source_date_epoch=1_700_000_000)
    build([sources], out, settings, base_dir=sources)
    telegram = out / "doc/vocab/type/telegram.html"
    assert "record/112095.html" in telegram.read_text(encoding="utf-8")
    (sources / "112095.txt").unlink()
    report = build([sources], out, settings, base_dir=sources)
    assert report.incremental and report.changes["deleted"] >= 1
    assert "record/112095.html" not in telegram.read_text(encoding="utf-8")
    build([sources], full, settings, base_dir=sources)
    for entity in ENTITIES:
        for suffix in FORMATS:
            name = "doc/" + entity.uri[len(BASE) :] + suffix
            assert (out / name).read_bytes() == (full / name).read_bytes(), name
    assert (out / "dumps/dataset.ttl").read_bytes() == (full / "dumps/dataset.ttl").read_bytes()
    assert report.entities == build([sources], full, settings, base_dir=sources).entities


def test_concepts_are_built_from_the_vocabulary_alone() -> None:
    """Two mappers give the same concepts: nothing in a description depends on the records."""
    again = Concepts(VOCAB, Minter(BASE), MAPPER.resolve).entities()
    assert [(e.uri, sorted(e.variants), e.links, e.literals) for e in again] == [
        (e.uri, sorted(e.variants), e.links, e.literals) for e in ENTITIES
    ]


def dc_elements(triples: list[Triple], uri: str) -> dict[str, list[str]]:
    root = ElementTree.fromstring(oai_dc_xml(triples, uri))
    out: dict[str, list[str]] = {}
    for element in root:
        out.setdefault(element.tag.removeprefix(f"{{{DC_NS}}}"), []).append(element.text or "")
    return out


def test_oai_dc_gives_labels_and_codes_not_local_concepts() -> None:
    record = Record(
        id="o",
        source_format="t",
        origin=Origin("f"),
        doc_type="Cable",
        languages=["Japanese"],
        rights="In Copyright - Educational Use Permitted",
        classification="Secret",
    )
    mapped = MAPPER.map(record)
    values = dc_elements(mapped.triples, mapped.uri)
    assert values["type"] == ["Cable", "Telegram", "Text"]
    assert values["language"] == ["ja"]
    assert values["rights"] == [
        "In Copyright - Educational Use Permitted",
        "http://rightsstatements.org/vocab/InC-EDU/1.0/",
        "Secret",
    ]
    assert not any(BASE + "vocab/" in text for texts in values.values() for text in texts)
    # without BCP 47 codes in the graph, the concept's ISO 639-2 match gives the code
    bare = [t for t in mapped.triples if t.predicate.value != "http://schema.org/inLanguage"]
    assert dc_elements(bare, mapped.uri)["language"] == ["jpn"]


@pytest.mark.parametrize(
    ("written", "spec", "name"),
    [
        ("Cable", "type:telegram", "Telegram"),
        ("ciphered  telegram", "type:telegram", "Telegram"),
        ("TELEGRAM", "type:telegram", "Telegram"),
        ("Aide-mémoire", "type:aide-memoire", "Aide-mémoire"),
        ("Field Notes", "type:field-notes", "Field Notes"),
    ],
)
def test_oai_type_sets_follow_the_type_vocabulary(written: str, spec: str, name: str) -> None:
    """Variants of a known type are one set named by its concept, or a harvest of
    `type:telegram` misses the cables; a type outside the vocabulary keeps its own name."""
    record = Record(id="s", source_format="t", origin=Origin("f"), doc_type=written)
    sets = record_sets(MAPPER.map(record), record, MAPPER.minter, VOCAB)
    assert {k: v for k, v in sets.items() if k.startswith("type:")} == {spec: name}
