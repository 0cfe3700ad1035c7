"""Entity resolution and authority links: one URI per person and place, names as data, and only
the links whose checking tests/data/links.csv records, each published with its provenance."""

from __future__ import annotations

import csv
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode

from lod.authorities import Entity, Resolver, display_name, is_organization
from lod.errors import ConfigError
from lod.mapping import Mapper
from lod.model import Origin, Record
from lod.namespaces import expand
from lod.sources import read_file
from lod.uris import Minter
from lod.vocab import VOCAB_DIR, load_vocab
from tests.conftest import BASE, RECORDS, ROOT

VOCAB = load_vocab()
MAPPER = Mapper(VOCAB, Minter(BASE))
RESOLVE = Resolver(VOCAB, Minter(BASE))
CHECKED = ROOT / "tests" / "data" / "links.csv"


def seed() -> Record:
    (record,) = [r for r in read_file(RECORDS / "112095.txt") if isinstance(r, Record)]
    return record


def test_seed_people_resolve_to_one_resource_each() -> None:
    record = seed()
    uris = {name: RESOLVE.agent(name).uri for name in [*record.authors, *record.recipients]}
    uris |= {name: RESOLVE.agent(name).uri for name in [*record.cc, "Kim Il-sung", "Peng Dehuai"]}
    agent = BASE + "agent/"
    assert uris == {
        "MAO ZEDONG": agent + "mao-zedong",
        "Mao Zedong": agent + "mao-zedong",
        "Comrade FILIPPOV [Stalin]": agent + "joseph-stalin",
        "I.V. Stalin": agent + "joseph-stalin",
        "Stalin": agent + "joseph-stalin",
        "Molotov": agent + "vyacheslav-molotov",
        "Kim Il-sung": agent + "kim-il-sung",
        "Peng Dehuai": agent + "peng-dehuai",
    }


@pytest.mark.parametrize(
    ("heading", "uri", "label"),
    [
        ("Deng, Xiaoping", "agent/deng-xiaoping", "Deng Xiaoping"),
        ("Mao, Zedong", "agent/mao-zedong", "Mao Zedong"),
        ("Chiang, Ching-kuo (Jiang Jingguo)", "agent/chiang-ching-kuo", "Chiang Ching-kuo"),
        ("Chiang, Kai-shek (Jiang Jieshi)", "agent/chiang-kai-shek", "Chiang Kai-shek"),
        ("Satō, Eisaku", "agent/eisaku-sato", "Eisaku Satō"),
        ("Nehru, Jawaharlal", "agent/jawaharlal-nehru", "Jawaharlal Nehru"),
        ("Gale Allen", "agent/gale-w-allen", "Gale W. Allen"),
        ("Gale W. Allen", "agent/gale-w-allen", "Gale W. Allen"),
        ('Blair, Anthony Charles Lynton ("Tony")', "agent/tony-blair", "Tony Blair"),
        ("Wang, Ming", "agent/wang-ming", "Wang Ming"),
        ("Smith, John", "agent/john-smith", "John Smith"),
    ],
)
def test_inverted_headings(heading: str, uri: str, label: str) -> None:
    entity = RESOLVE.agent(heading)
    assert (entity.uri, entity.label) == (BASE + uri, label)


@pytest.mark.parametrize(
    ("heading", "slug", "link"),
    [
        ("Stalin, Joseph, 1879-1953", "joseph-stalin", "http://www.wikidata.org/entity/Q855"),
        ("Mao, Zedong, 1893-1976", "mao-zedong", "http://www.wikidata.org/entity/Q5816"),
    ],
)
def test_a_heading_with_life_dates_finds_its_authority(heading: str, slug: str, link: str) -> None:
    """The archive tags people as Library of Congress headings with life dates (the Zotero
    test case of document 134696: "Stalin, Joseph, 1879-1953"). Such a heading reached the
    authority's URI by its slug but not the authority, so a record naming him only so
    published Stalin without his verified Wikidata link."""
    entity = RESOLVE.agent(heading)
    assert (entity.uri, entity.same_as) == (BASE + "agent/" + slug, (link,))


def test_family_names_first_are_data() -> None:
    assert display_name("Deng, Xiaoping") == "Xiaoping Deng"  # without the table
    assert display_name("Deng, Xiaoping", VOCAB.names.family_first) == "Deng Xiaoping"


@pytest.mark.parametrize(
    ("name", "organization"),
    [
        ("Gale W. Allen", False),
        ("N. Stephen Kane", False),
        ("W. Lee Rawls", False),
        ("C. Edward Dillery", False),
        ("Dr. Jane Example", False),
        ("Japan. Foreign Ministry", True),
        ("Japan. Foreign Ministry. Asian Affairs Bureau", True),
        ("PA/HO Staff", True),
        ("Chun & Jane Chiu Family Foundation", True),
    ],
)
def test_people_with_initials_are_people(name: str, organization: bool) -> None:
    assert is_organization(name, VOCAB.names.titles) is organization
    expected = "schema:Organization" if organization else "schema:Person"
    assert RESOLVE.agent(name).types == (expected,)


def test_names_of_people_and_places_have_no_language() -> None:
    """A person's name is not English; an organization's heading and a subject are."""
    record = Record(
        id="n",
        source_format="t",
        origin=Origin("n"),
        authors=["Mao Zedong", "Japan. Foreign Ministry"],
        places=["Beijing"],
        subjects=["Nuclear weapons"],
    )
    mapped = MAPPER.map(record)
    names = {
        t.subject.value: t.object
        for t in mapped.triples
        if t.predicate.value == expand("schema:name") and t.subject.value != mapped.uri
    }
    assert names[BASE + "agent/mao-zedong"] == Literal("Mao Zedong")
    assert names[BASE + "place/beijing"] == Literal("Beijing")
    assert names[BASE + "agent/japan-foreign-ministry"] == Literal(
        "Japan. Foreign Ministry", language="en"
    )
    assert names[BASE + "subject/nuclear-weapons"] == Literal("Nuclear weapons", language="en")
    for entity in mapped.entities:
        own = MAPPER.entity_triples(entity)
        label = next(t.object for t in own if t.predicate.value == expand("rdfs:label"))
        assert label == names[entity.uri]


def published_links() -> set[tuple[str, str, str]]:
    """(entity slug, relation, target) of every link any entity document would publish."""
    out = set()
    seen = set()
    for authority in VOCAB.authorities.values():
        if authority.slug in seen:
            continue
        seen.add(authority.slug)
        kind = "place" if authority.kind == "place" else "agent"
        entity = (
            RESOLVE.place(authority.label) if kind == "place" else RESOLVE.agent(authority.label)
        )
        for t in MAPPER.entity_triples(entity):
            if t.subject.value == entity.uri and isinstance(t.object, NamedNode):
                predicate = t.predicate.value
                for curie in ("owl:sameAs", "skos:exactMatch", "skos:closeMatch"):
                    if predicate == expand(curie):
                        out.add((authority.slug, curie, t.object.value))
    return out


def test_every_published_link_says_how_it_was_checked() -> None:
    """tests/data/links.csv lists each published link and how it was checked; a link added to
    vocab/links.csv without a line here fails, and so does a line for a link not published."""
    with CHECKED.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert all(row["how it was checked"] for row in rows)
    assert published_links() == {(r["entity"], r["relation"], r["target"]) for r in rows}


def test_seed_links() -> None:
    entities = {e.uri: e for e in MAPPER.map(seed()).entities}
    assert entities[BASE + "agent/mao-zedong"].same_as == ("http://www.wikidata.org/entity/Q5816",)
    assert entities[BASE + "agent/joseph-stalin"].same_as == (
        "http://www.wikidata.org/entity/Q855",
    )
    assert entities[BASE + "agent/vyacheslav-molotov"].same_as == ()


def test_each_link_is_published_with_its_provenance() -> None:
    """RDF reification: a statement node per link, with evidence, date and how it was checked."""
    beijing = RESOLVE.place("Peking")
    triples = {
        (t.subject.value, t.predicate.value, t.object) for t in MAPPER.entity_triples(beijing)
    }
    s = BASE + "place/beijing"
    st = s + "#link-geonames"
    geonames = NamedNode("https://sws.geonames.org/1816670/")
    assert (s, expand("skos:exactMatch"), geonames) in triples
    assert (s, expand("owl:sameAs"), geonames) not in triples
    assert (st, expand("rdf:type"), NamedNode(expand("rdf:Statement"))) in triples
    assert (st, expand("rdf:subject"), NamedNode(s)) in triples
    assert (st, expand("rdf:predicate"), NamedNode(expand("skos:exactMatch"))) in triples
    assert (st, expand("rdf:object"), geonames) in triples
    evidence = NamedNode(
        "https://solid.iis.fraunhofer.de/oe-40200/2024/10/velektronik-graph-clean/region/wdQ956.ttl"
    )
    assert (st, expand("dcterms:source"), evidence) in triples
    date = Literal("2026-11-26", datatype=NamedNode(expand("xsd:date")))
    assert (st, expand("dcterms:date"), date) in triples
    mao = MAPPER.entity_triples(RESOLVE.agent("Mao Zedong"))
    source = [t.object for t in mao if t.predicate.value == expand("dcterms:source")]
    assert source == [Literal("lod issue 5")]


def copy_vocab(tmp_path: Path) -> Path:
    target = tmp_path / "vocab"
    shutil.copytree(VOCAB_DIR, target)
    return target


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("mao-zedong,viaf,http://viaf.org/viaf/1,owl:seeAlso,m,e,2026-11-26,", "relation"),
        ("mao-zedong,viaf,http://viaf.org/viaf/1,skos:exactMatch,,,2026-11-26,", "evidence"),
        ("mao-zedong,viaf,http://viaf.org/viaf/1,skos:closeMatch,,,,", "confidence"),
        ("mao-zedong,viaf,http://viaf.org/viaf/1,skos:closeMatch,,,,1.5", "confidence"),
        ("mao-zedong,wikidata,http://www.wikidata.org/entity/Q1,owl:sameAs,m,e,2026-11-26,", "two"),
        (
            "busan,geonames2,https://sws.geonames.org/1816670/,skos:exactMatch,m,e,2026-11-26,",
            "already",
        ),
        ("nobody,viaf,http://viaf.org/viaf/1,skos:closeMatch,m,e,2026-11-26,0.5", "nobody"),
    ],
)
def test_a_link_table_that_could_mislead_is_refused(tmp_path: Path, row: str, message: str) -> None:
    vocab_dir = copy_vocab(tmp_path)
    with (vocab_dir / "links.csv").open("a", encoding="utf-8") as handle:
        handle.write(row + "\n")
    with pytest.raises(ConfigError, match=message):
        load_vocab(vocab_dir)


def test_an_unverified_link_is_a_close_match_with_its_confidence(tmp_path: Path) -> None:
    vocab_dir = copy_vocab(tmp_path)
    with (vocab_dir / "links.csv").open("a", encoding="utf-8") as handle:
        handle.write(
            "peng-dehuai,wikidata,http://www.wikidata.org/entity/Q1,skos:closeMatch,"
            "proposed by name only,,,0.6\n"
        )
    mapper = Mapper(load_vocab(vocab_dir), Minter(BASE))
    peng = mapper.resolve.agent("Peng Dehuai")
    triples = {(t.subject.value, t.predicate.value, t.object) for t in mapper.entity_triples(peng)}
    s = BASE + "agent/peng-dehuai"
    target = NamedNode("http://www.wikidata.org/entity/Q1")
    assert (s, expand("skos:closeMatch"), target) in triples
    assert (s, expand("owl:sameAs"), target) not in triples
    decimal = NamedNode(expand("xsd:decimal"))
    assert (
        s + "#link-wikidata",
        BASE + "vocab/lod#confidence",
        Literal("0.6", datatype=decimal),
    ) in triples


def test_merging_an_entity_joins_its_links_whichever_record_came_first() -> None:
    """Two spellings can reach one URI, only one of them through the authorities: the merged
    entity keeps the authority's links in either order of the records."""
    uri = BASE + "agent/joseph-stalin"
    linked = Entity(uri, "agent", ("schema:Person",), "Joseph Stalin", {"Stalin"}, ("wd:Q855",))
    for first, second in (
        (linked, replace(linked, same_as=())),
        (replace(linked, same_as=()), linked),
    ):
        merged = replace(first, variants=set(first.variants))
        merged.merge(replace(second, variants={"I.V. Stalin"}))
        assert merged.same_as == ("wd:Q855",)
        assert merged.variants == {"Stalin", "I.V. Stalin"}
