"""The build's record counts (stats.ttl, lod.statistics): the curated count queries that read
them answer exactly as the same questions asked of every record (tests/direct_queries/), after
a full build and after an incremental one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import BASE, edit_csv, first_ids
from pyoxigraph import Literal, NamedNode, Quad, QuerySolutions, RdfFormat, Store, parse

from lod.config import Config
from lod.curated import load_curated
from lod.publish.finish import in_graph
from lod.publish.site import build
from lod.statistics import (
    CUBES,
    DISTINCT_COUNT,
    QB,
    STATS_FILE,
    counting_queries,
    cube_query,
    cube_triples,
    statistics_graph,
)

DIRECT = Path(__file__).parent / "direct_queries"
XSD = "http://www.w3.org/2001/XMLSchema#"
CURATED = {query.slug: query.sparql for query in load_curated()}
COUNTED = sorted(path.stem for path in DIRECT.glob("*.rq"))


def rows(store: Store, sparql: str) -> Counter[tuple[str, ...]]:
    """Every solution as a tuple of its bindings' N-Triples forms, with multiplicity."""
    solutions = store.query(sparql, use_default_graph_as_union=True)
    assert isinstance(solutions, QuerySolutions)
    names = [v.value for v in solutions.variables]
    return Counter(tuple(str(s[n]) if s[n] is not None else "" for n in names) for s in solutions)


def same_answers(store: Store) -> None:
    for slug in COUNTED:
        direct = rows(store, (DIRECT / f"{slug}.rq").read_text(encoding="utf-8"))
        assert direct, f"{slug}: the direct query finds nothing to count"
        assert rows(store, CURATED[slug]) == direct, slug


def test_every_counting_question_has_its_direct_form() -> None:
    assert len(COUNTED) == 5 and set(COUNTED) <= set(CURATED)
    for slug in COUNTED:
        assert "sdmx-measure:obsValue" in CURATED[slug]
        assert "COUNT(" in (DIRECT / f"{slug}.rq").read_text(encoding="utf-8")
    for cube in CUBES:
        assert "?records" in cube_query(cube.slug)


def test_counts_of_the_sample_records_answer_as_every_record_does(records_site: Path) -> None:
    same_answers(Store.read_only(str(records_site / "store")))


@pytest.mark.corpus
def test_counts_of_the_corpus_answer_as_every_record_does(corpus_site: Path) -> None:
    same_answers(Store.read_only(str(corpus_site / "store")))


def test_a_store_that_repeats_no_statement_is_counted_without_distinct(
    records_site: Path,
) -> None:
    """The build's own stores say each counted statement once, so counting holds no record sets."""
    queries = counting_queries(Store.read_only(str(records_site / "store")))
    assert set(queries) == {cube.slug for cube in CUBES}
    for slug, text in queries.items():
        assert "DISTINCT" not in text and "COUNT(?record)" in text, slug


RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DCTERMS = "http://purl.org/dc/terms/"
RECORD_TYPE = "https://www.ica.org/standards/RiC/ontology#Record"
SCHEMA = "http://schema.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"


ELSEWHERE = NamedNode(BASE + "doc/record/harvested-elsewhere")
"""A second graph, as a harvested record's graph may repeat another record's statements."""


def typed_in_two_graphs(store: Store, record: NamedNode) -> Quad:
    return Quad(record, NamedNode(RDF + "type"), NamedNode(RECORD_TYPE), ELSEWHERE)


def language_in_two_graphs(store: Store, record: NamedNode) -> Quad:
    language = next(store.quads_for_pattern(record, NamedNode(DCTERMS + "language"), None, None))
    return Quad(record, language.predicate, language.object, ELSEWHERE)


def two_dates_of_one_year(store: Store, record: NamedNode) -> Quad:
    created = next(store.quads_for_pattern(record, NamedNode(DCTERMS + "created"), None, None))
    date = Literal(f"{created.object.value[:4]}-12-31", datatype=NamedNode(XSD + "date"))
    return Quad(record, created.predicate, date, created.graph_name)


@pytest.mark.parametrize(
    "repeated",
    [typed_in_two_graphs, language_in_two_graphs, two_dates_of_one_year],
    ids=lambda f: f.__name__,
)
def test_a_repeated_statement_keeps_distinct_counting(
    records_site: Path, repeated: Callable[[Store, NamedNode], Quad]
) -> None:
    """A record said twice still counts once in each group: the build keeps COUNT(DISTINCT),
    whose answers are the direct queries'; counting without it would count the record twice."""
    built = Store.read_only(str(records_site / "store"))
    store = Store()
    stats = NamedNode(statistics_graph(BASE))
    store.extend(
        q for q in built.quads_for_pattern(None, None, None, None) if q.graph_name != stats
    )
    dated = NamedNode(DCTERMS + "created")
    languages = NamedNode(DCTERMS + "language")
    record = next(
        q.subject
        for q in store.quads_for_pattern(None, dated, None, None)
        if next(store.quads_for_pattern(q.subject, languages, None, None), None)
    )
    assert isinstance(record, NamedNode)
    plain = counting_queries(store)
    store.add(repeated(store, record))

    queries = counting_queries(store)
    assert all(DISTINCT_COUNT in text for text in queries.values())
    assert any(rows(store, queries[slug]) != rows(store, plain[slug]) for slug in queries)
    triples = cube_triples(store, BASE, BASE + "vocab/lod#", BASE + "dataset")
    store.extend(in_graph(triples, stats))
    same_answers(store)


def test_an_entity_named_twice_counts_its_records_once(records_site: Path) -> None:
    """A second name for every archive, subject and type (a harvested graph can give one) is no
    repeated counted statement: counting stays without DISTINCT and answers as with it."""
    built = Store.read_only(str(records_site / "store"))
    store = Store()
    store.extend(built.quads_for_pattern(None, None, None, None))
    names = [NamedNode(SCHEMA + "name"), NamedNode(SKOS + "prefLabel")]
    for predicate in names:
        named = list(store.quads_for_pattern(None, predicate, None, None))
        store.extend(
            Quad(q.subject, predicate, Literal("another name"), q.graph_name) for q in named
        )
    queries = counting_queries(store)
    for cube in CUBES:
        assert DISTINCT_COUNT not in queries[cube.slug]
        counted = rows(store, queries[cube.slug])
        assert counted and counted == rows(store, cube_query(cube.slug)), cube.slug


def test_the_statistics_file_is_the_stores_graph(records_site: Path) -> None:
    store = Store.read_only(str(records_site / "store"))
    graph = NamedNode(BASE + STATS_FILE)
    in_store = {str(q.triple) for q in store.quads_for_pattern(None, None, None, graph)}
    in_file = {
        str(t.triple)
        for t in parse(
            (records_site / STATS_FILE).read_bytes(),
            RdfFormat.TURTLE,
            base_iri=BASE,
            without_named_graphs=True,
        )
    }
    assert in_store == in_file and in_store
    rdf_type = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    datasets = {
        q.subject.value
        for q in store.quads_for_pattern(None, rdf_type, NamedNode(QB + "DataSet"), graph)
    }
    assert datasets == {f"{BASE}{STATS_FILE}#{cube.slug}" for cube in CUBES}


def test_years_are_typed_as_years(records_site: Path) -> None:
    """Each observation's year is an xsd:gYear, so that a question can compare years as years
    ("from 1950 on"), and the years are those the records were created in."""
    store = Store.read_only(str(records_site / "store"))
    graph = NamedNode(BASE + STATS_FILE)
    ref_period = NamedNode("http://purl.org/linked-data/sdmx/2009/dimension#refPeriod")
    years = {q.object for q in store.quads_for_pattern(None, ref_period, None, graph)}
    created = NamedNode("http://purl.org/dc/terms/created")
    record_years = {
        q.object.value[:4]
        for q in store.quads_for_pattern(None, created, None, None)
        if q.graph_name != graph
    }
    assert years and all(isinstance(y, Literal) for y in years)
    assert {y.datatype.value for y in years} == {XSD + "gYear"}  # type: ignore[union-attr]
    assert {y.value for y in years} == record_years
    later = store.query(
        f"ASK {{ GRAPH <{graph.value}> {{ ?o <{ref_period.value}> ?y }} "
        'FILTER(?y >= "1900"^^<http://www.w3.org/2001/XMLSchema#gYear>) }'
    )
    assert bool(later)


@pytest.mark.corpus
def test_an_incremental_build_recounts(tmp_path: Path, sources: Path) -> None:
    """Dropping a dated record with a holding archive takes it out of its year's count."""
    out = tmp_path / "site"
    config = Config(base_uri=BASE, progress=False, workers=1, source_date_epoch=1_700_000_000)
    build([sources], out, config, base_dir=sources)
    query = CURATED["documents-per-archive-per-year"]
    before = rows(Store.read_only(str(out / "store")), query)

    (target,) = first_ids(sources / "scrape.csv", 1)
    edit_csv(sources / "scrape.csv", target, drop=True)
    report = build([sources], out, config, base_dir=sources)
    assert report.incremental and report.changes["deleted"] >= 1

    store = Store.read_only(str(out / "store"))
    same_answers(store)
    after = rows(store, query)
    assert sum(int(r[-1].split('"')[1]) for r in after.elements()) == (
        sum(int(r[-1].split('"')[1]) for r in before.elements()) - 1
    )


def test_the_dataset_description_leads_to_the_counts(records_site: Path) -> None:
    """A harvester reading /.well-known/void finds stats.ttl, and each cube names the dataset."""
    void = parse((records_site / ".well-known/void").read_bytes(), RdfFormat.TURTLE, base_iri=BASE)
    see_also = "http://www.w3.org/2000/01/rdf-schema#seeAlso"
    assert NamedNode(BASE + STATS_FILE) in {
        t.object
        for t in void
        if t.subject == NamedNode(BASE + "dataset") and t.predicate == NamedNode(see_also)
    }
    counts = parse((records_site / STATS_FILE).read_bytes(), RdfFormat.TURTLE, base_iri=BASE)
    derived = NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom")
    sources = {t.subject.value: t.object for t in counts if t.predicate == derived}
    assert sources == {
        f"{BASE}{STATS_FILE}#{cube.slug}": NamedNode(BASE + "dataset") for cube in CUBES
    }
