"""SHACL: one crafted record per kind of violation, each reported with its focus, path and
constraint; the fast path (lod.shacl) against pyshacl on the shared corpus and the crafted
graphs; the rights list of the shapes against vocab/rights.csv; unsupported SHACL refused."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, parse, serialize
from rdflib import Graph, URIRef

from lod.config import Config
from lod.errors import ConfigError
from lod.mapping import Mapper
from lod.model import Origin, Record
from lod.namespaces import expand
from lod.publish.dataset import Dump, dataset_triples
from lod.shacl import (
    SH,
    SHAPES_FILE,
    Shapes,
    Violation,
    load_shapes,
    report_triples,
    shapes_turtle,
)
from lod.uris import Minter
from lod.vocab import VOCAB_DIR, load_vocab
from tests.conftest import BASE

SHAPES = load_shapes(BASE)
MAPPER = Mapper(load_vocab(), Minter(BASE))
RECORD = BASE + "record/t1"
STALIN = BASE + "agent/joseph-stalin"
BEIJING = BASE + "place/beijing"
Key = tuple[str, str, str]
"""(focus, path, constraint component): what the fast path and pyshacl must agree on."""


def p(curie: str) -> NamedNode:
    return NamedNode(expand(curie))


def sh(name: str) -> str:
    return f"{SH}{name}ConstraintComponent"


def document(**fields: object) -> Record:
    """A record with everything the shapes ask for; `fields` change it."""
    values: dict[str, object] = {
        "title": "Telegram from Mao Zedong to I.V. Stalin",
        "date": "January 16, 1951",
        "uploaded": "2011-11-20",
        "rights": "Public domain",
        "languages": ["Russian"],
        "authors": ["Mao Zedong"],
        "recipients": ["I.V. Stalin"],
        "places": ["Beijing"],
        "citation": "APRF, f. 45, op. 1, d. 337, ll. 1-3.",
        "url": "https://digitalarchive.wilsoncenter.org/document/112095",
    }
    values.update(fields)
    return Record(id="t1", source_format="test", origin=Origin("test.txt", 1), **values)  # type: ignore[arg-type]


def mapped(**fields: object) -> list[Triple]:
    return MAPPER.map(document(**fields)).triples


def harvested(change: Callable[[list[Triple]], list[Triple]]) -> list[Triple]:
    """A record harvested in RDF (published as it is): the mapped graph, changed as another
    provider might have written it, through the mapper's passthrough."""
    graph = serialize(change(mapped()), format=RdfFormat.N_TRIPLES).decode()
    record = Record(
        id="t1", source_format="oai", origin=Origin("harvest.xml", 1), graph=graph, uri=RECORD
    )
    return MAPPER.map(record).triples


def without(subject: str, curie: str) -> Callable[[list[Triple]], list[Triple]]:
    return lambda ts: [t for t in ts if (t.subject.value, t.predicate) != (subject, p(curie))]


def replacing(curie: str, *objects: NamedNode | Literal) -> Callable[[list[Triple]], list[Triple]]:
    def change(ts: list[Triple]) -> list[Triple]:
        kept = [t for t in ts if (t.subject.value, t.predicate) != (RECORD, p(curie))]
        return kept + [Triple(NamedNode(RECORD), p(curie), o) for o in objects]

    return change


def dataset(change: Callable[[list[Triple]], list[Triple]] = lambda ts: ts) -> list[Triple]:
    dump = Dump("dumps/dataset.nt.gz", "application/n-triples", "N-Triples (gzip)", "ab" * 32, 10)
    triples = dataset_triples(
        Config(base_uri=BASE),
        BASE + "dataset",
        triples=10,
        entities=2,
        records=1,
        examples=[RECORD],
        dumps=[dump],
        modified="2024-02-01",
        vocabularies=[expand("schema:")],
    )
    return change(triples)


@dataclass(frozen=True)
class Case:
    name: str
    graph: Callable[[], list[Triple]]
    expected: Key
    severity: str = "Violation"


XSD_DATE = NamedNode("http://www.w3.org/2001/XMLSchema#date")
CASES = [
    Case(
        "missing title", lambda: mapped(title=""), (RECORD, expand("dcterms:title"), sh("MinCount"))
    ),
    Case(
        "blank title", lambda: mapped(title="  "), (RECORD, expand("dcterms:title"), sh("Pattern"))
    ),
    Case(
        "missing identifier",
        lambda: harvested(without(RECORD, "dcterms:identifier")),
        (RECORD, expand("dcterms:identifier"), sh("MinCount")),
    ),
    Case(
        "two identifiers",
        lambda: harvested(replacing("dcterms:identifier", Literal("t1"), Literal("112095"))),
        (RECORD, expand("dcterms:identifier"), sh("MaxCount")),
    ),
    Case(
        "date as text",
        lambda: harvested(replacing("dcterms:created", Literal("16 January 1951"))),
        (RECORD, expand("dcterms:created"), sh("Or")),
    ),
    Case(
        "impossible typed date",
        lambda: harvested(replacing("dcterms:issued", Literal("1951-02-30", datatype=XSD_DATE))),
        (RECORD, expand("dcterms:issued"), sh("Or")),
    ),
    Case(
        "rights URI not allowed",
        lambda: harvested(replacing("schema:license", NamedNode("http://example.org/licence"))),
        (RECORD, expand("schema:license"), sh("In")),
    ),
    Case(
        "licence as text",
        lambda: harvested(replacing("schema:license", Literal("CC0"))),
        (RECORD, expand("schema:license"), sh("NodeKind")),
    ),
    Case(
        "no licence",
        lambda: mapped(rights=""),
        (RECORD, expand("schema:license"), sh("MinCount")),
        "Warning",
    ),
    Case(
        "language not a URI",
        lambda: mapped(languages=["Klingon"]),
        (RECORD, expand("dcterms:language"), sh("NodeKind")),
    ),
    Case(
        "language code not BCP 47",
        lambda: harvested(replacing("schema:inLanguage", Literal("Russian"))),
        (RECORD, expand("schema:inLanguage"), sh("Pattern")),
    ),
    Case(
        "author who is a place",
        lambda: harvested(replacing("dcterms:creator", NamedNode(BEIJING))),
        (RECORD, expand("dcterms:creator"), sh("Or")),
    ),
    Case(
        "place that is a person",
        lambda: harvested(replacing("dcterms:spatial", NamedNode(STALIN))),
        (RECORD, expand("dcterms:spatial"), sh("Class")),
    ),
    Case(
        "source page not a URL",
        lambda: mapped(url="digitalarchive.wilsoncenter.org/document/112095"),
        (RECORD, expand("schema:url"), sh("NodeKind")),
        "Warning",
    ),
    Case(
        "agent without a name",
        lambda: harvested(without(STALIN, "schema:name")),
        (STALIN, expand("schema:name"), sh("MinCount")),
    ),
    Case(
        "place without a name",
        lambda: harvested(without(BEIJING, "schema:name")),
        (BEIJING, expand("schema:name"), sh("MinCount")),
    ),
    Case(
        "collection without a name",
        lambda: mapped(kind="collection", title="", extra={"slug": "nameless"}),
        (BASE + "collection/nameless", expand("schema:name"), sh("MinCount")),
    ),
    Case(
        "dataset description without a license",
        lambda: dataset(without(BASE + "dataset", "dcterms:license")),
        (BASE + "dataset", expand("dcterms:license"), sh("MinCount")),
    ),
    Case(
        "dataset description without a dump",
        lambda: dataset(without(BASE + "dataset", "void:dataDump")),
        (BASE + "dataset", expand("void:dataDump"), sh("MinCount")),
    ),
    Case(
        "dataset description without a title",
        lambda: dataset(without(BASE + "dataset", "dcterms:title")),
        (BASE + "dataset", expand("dcterms:title"), sh("MinCount")),
    ),
]


def keys(violations: list[Violation]) -> set[Key]:
    return {(v.focus, v.path, v.component) for v in violations}


def test_a_complete_record_and_dataset_conform() -> None:
    assert SHAPES.validate(mapped()) == []
    assert SHAPES.validate(harvested(lambda ts: ts)) == []
    assert SHAPES.validate(dataset()) == []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_kind_of_violation_is_reported(case: Case) -> None:
    violations = SHAPES.validate(case.graph())
    assert case.expected in keys(violations)
    found = [v for v in violations if (v.focus, v.path, v.component) == case.expected]
    assert {v.severity for v in found} == {SH + case.severity}
    assert all(v.message and v.shape.startswith(BASE + "vocab/shapes#") for v in found)


def test_a_violation_names_the_value_and_the_shape() -> None:
    (v,) = [
        v for v in SHAPES.validate(mapped(languages=["Klingon"])) if v.path.endswith("language")
    ]
    assert v.value == Literal("Klingon")
    assert v.shape == BASE + "vocab/shapes#Record-language"
    assert v.as_dict() == {
        "focus": RECORD,
        "path": expand("dcterms:language"),
        "constraint": "NodeKind",
        "severity": "Violation",
        "message": v.message,
        "value": "Klingon",
        "shape": v.shape,
    }


# --- pyshacl as the reference ---------------------------------------------------------------------


@cache
def shapes_graph() -> Graph:
    return Graph().parse(data=shapes_turtle(BASE), format="turtle")


def pyshacl_keys(triples: list[Triple], shapes: Graph | None = None) -> set[Key]:
    pyshacl = pytest.importorskip("pyshacl")
    data = Graph().parse(data=serialize(triples, format=RdfFormat.N_TRIPLES), format="nt")
    shacl_graph = shapes if shapes is not None else shapes_graph()
    _, report, _ = pyshacl.validate(data, shacl_graph=shacl_graph, inference="none")
    out = set()
    for result in report.objects(None, URIRef(SH + "result")):
        path = report.value(result, URIRef(SH + "resultPath"))
        focus = report.value(result, URIRef(SH + "focusNode"))
        component = report.value(result, URIRef(SH + "sourceConstraintComponent"))
        out.add((str(focus), "" if path is None else str(path), str(component)))
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_crafted_graphs_agree_with_pyshacl(case: Case) -> None:
    triples = case.graph()
    assert keys(SHAPES.validate(triples)) == pyshacl_keys(triples)


def corpus_graphs(site: Path) -> list[tuple[str, list[Triple]]]:
    """Every published resource's graph: records, entities, concepts, the dataset."""
    return [
        (
            str(path.relative_to(site)),
            [q.triple for q in parse(path=path, format=RdfFormat.N_TRIPLES)],
        )
        for path in sorted((site / "doc").rglob("*.nt"))
    ]


@pytest.mark.corpus
def test_corpus_graphs_agree_with_pyshacl(corpus_site: Path) -> None:
    graphs = corpus_graphs(corpus_site)
    assert len(graphs) > 200
    for name, triples in graphs:
        assert keys(SHAPES.validate(triples)) == pyshacl_keys(triples), name


@pytest.mark.corpus
def test_the_corpus_has_no_violations_only_warnings(corpus_site: Path) -> None:
    """The shared corpus passes but for warnings, each with its reason."""
    for name, triples in corpus_graphs(corpus_site):
        for v in SHAPES.validate(triples):
            assert v.severity == SH + "Warning", (name, v)
            assert v.message, (name, v)


# --- the shapes file --------------------------------------------------------------------------


def test_the_allowed_rights_are_those_of_vocab_rights_csv() -> None:
    graph = shapes_graph()
    shape = URIRef(BASE + "vocab/shapes#Record-license")
    (head,) = graph.objects(shape, URIRef(SH + "in"))
    allowed = [str(node) for node in graph.items(head)]
    with (VOCAB_DIR / "rights.csv").open(encoding="utf-8", newline="") as f:
        assert allowed == [row["uri"] for row in csv.DictReader(f)]


def test_every_shape_says_why() -> None:
    graph = shapes_graph()
    comment = URIRef("http://www.w3.org/2000/01/rdf-schema#comment")
    for predicate in ("targetClass", "path"):
        for shape in graph.subjects(URIRef(SH + predicate), None):
            assert graph.value(shape, comment), shape
            if predicate == "path":
                assert graph.value(shape, URIRef(SH + "message")), shape
                assert graph.value(shape, URIRef(SH + "severity")), shape


HEAD = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix schema: <http://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix ex: <http://example.org/shapes#> .
"""
UNSUPPORTED = {
    "sh:targetNode": "ex:S sh:targetNode schema:x .",
    "sh:node": "ex:S sh:targetClass schema:Thing ; sh:node ex:T . ex:T sh:nodeKind sh:IRI .",
    "sh:minLength": "ex:S sh:targetClass schema:Thing ; sh:property ex:P . "
    "ex:P sh:path schema:name ; sh:minLength 1 .",
    "sh:hasValue": "ex:S sh:targetClass schema:Thing ; sh:hasValue schema:x .",
    "sh:deactivated": "ex:S sh:targetClass schema:Thing ; sh:deactivated true .",
    "sequence path": "ex:S sh:targetClass schema:Thing ; sh:property ex:P . "
    "ex:P sh:path ( schema:a schema:b ) ; sh:minCount 1 .",
    "blank property shape": "ex:S sh:targetClass schema:Thing ; sh:property [ sh:path schema:a ] .",
    "unchecked XSD datatype": "ex:S sh:targetClass schema:Thing ; sh:property ex:P . "
    "ex:P sh:path schema:a ; sh:datatype xsd:decimal .",
    "shape never applied": "ex:P sh:path schema:a ; sh:minCount 1 .",
    "implicit class target": "ex:S a sh:NodeShape , rdfs:Class ; sh:property ex:P . "
    "ex:P sh:path schema:a ; sh:minCount 1 .",
    "sh:or of property shapes": "ex:S sh:targetClass schema:Thing ; sh:property ex:P . "
    "ex:P sh:path schema:a ; sh:or ( [ sh:path schema:b ; sh:minCount 1 ] ) .",
}


@pytest.mark.parametrize("feature", list(UNSUPPORTED))
def test_unsupported_shacl_is_refused_not_skipped(feature: str) -> None:
    with pytest.raises(ConfigError, match="fast path"):
        Shapes(HEAD + UNSUPPORTED[feature])


def test_subclasses_in_the_data_and_pattern_flags_as_pyshacl_has_them() -> None:
    """Features the shapes file does not use today but the fast path implements."""
    text = (
        HEAD
        + """
        ex:S sh:targetClass schema:CreativeWork ; sh:property ex:Name , ex:Author .
        ex:Name sh:path schema:name ; sh:pattern "^telegram" ; sh:flags "i" .
        ex:Author sh:path schema:author ; sh:class schema:Person ."""
    )
    data = """@prefix schema: <http://schema.org/> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        @prefix ex: <http://example.org/> .
        schema:Message rdfs:subClassOf schema:CreativeWork .
        ex:good a schema:Message ; schema:name "TELEGRAM 1" ; schema:author ex:mao .
        ex:bad a schema:Message ; schema:name "Letter" ; schema:author ex:beijing .
        ex:mao a schema:Person . ex:beijing a schema:Place ."""
    triples = [q.triple for q in parse(data, format=RdfFormat.TURTLE)]
    found = keys(Shapes(text).validate(triples))
    assert found == {
        ("http://example.org/bad", expand("schema:name"), sh("Pattern")),
        ("http://example.org/bad", expand("schema:author"), sh("Class")),
    }
    assert found == pyshacl_keys(triples, Graph().parse(data=text, format="turtle"))


def test_shapes_that_do_not_parse_are_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "shapes.ttl"
    bad.write_text("this is not turtle", encoding="utf-8")
    with pytest.raises(ConfigError, match="do not parse"):
        load_shapes(BASE, bad)
    assert SHAPES_FILE.exists()


# --- the report ---------------------------------------------------------------------------------

REPORT = BASE + "dataset/validation"


def test_the_report_has_one_result_per_violation_and_no_blank_nodes() -> None:
    violations = [v for case in CASES for v in SHAPES.validate(case.graph())]
    triples = report_triples(violations, False, REPORT)
    assert not any(isinstance(term, BlankNode) for t in triples for term in t)
    results = [t.object for t in triples if t.predicate == NamedNode(SH + "result")]
    assert len(results) == len(set(violations)) == len(set(results))
    assert all(r.value.startswith(REPORT + "#result-") for r in results)
    graph = Graph().parse(data=serialize(triples, format=RdfFormat.N_TRIPLES), format="nt")
    for result in graph.objects(None, URIRef(SH + "result")):
        for name in (
            "focusNode",
            "resultSeverity",
            "sourceConstraintComponent",
            "sourceShape",
            "resultMessage",
        ):
            assert graph.value(result, URIRef(SH + name)) is not None, (result, name)
    conforms = graph.value(URIRef(REPORT), URIRef(SH + "conforms"))
    assert conforms is not None and conforms.toPython() is False


def test_the_report_is_the_same_whatever_the_order() -> None:
    violations = [v for case in CASES for v in SHAPES.validate(case.graph())]
    shuffled = violations[:]
    random.Random(5).shuffle(shuffled)
    assert report_triples(violations, False, REPORT) == report_triples(shuffled, False, REPORT)


def test_no_results_conform() -> None:
    triples = report_triples([], None, REPORT)
    assert Triple(NamedNode(REPORT), NamedNode(SH + "conforms"), Literal(True)) in triples
    assert not [t for t in triples if t.predicate == NamedNode(SH + "result")]
