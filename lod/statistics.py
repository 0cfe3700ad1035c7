"""Record counts computed once per build, as RDF Data Cube observations (stats.ttl).

Librarians' count questions (documents per archive per year, records per language, type,
subject or archive) are aggregations over every record: seconds to minutes on the embedded
store as the collection grows, on every request. The build answers each once, after the store
is loaded, with the queries in vocab/statistics/, and keeps the answers in the named graph
`<{base}stats.ttl>` (also the file stats.ttl), which the curated count queries read and
`lod push` copies like every other graph.

Each question is a qb:DataSet found by its dcterms:identifier. Its observations carry the count
as sdmx-measure:obsValue and the dimension values through the publication's own dimension
properties (vocab/lod.ttl), never the records' properties: a question about the records (what
is about this subject) must not find the counts. The year is sdmx-dimension:refPeriod. Queries
reach a dimension property through the structure's component of that dcterms:identifier, so
they need no build URI. A record without a value for a dimension (no language, no date) is
counted in an observation that leaves that dimension out, so the counts add up to the
collection: a departure from qb's rule that every observation has every dimension, which would
need a made-up "none" value in each dimension instead.

Each query counts COUNT(DISTINCT ?record), exact even when the store says a counted statement
twice (a harvested graph may repeat another resource's). pyoxigraph keeps every group's records
until such a query ends: +420 MB at 1M records. So the build first asks whether the store
repeats one (vocab/statistics/repeated-statements.rq, a lookup per statement that holds
nothing); when it does not, as no store lod maps does, each record falls in each of its groups
once and the queries count COUNT(?record). The entities a record is grouped by (named
archives, subjects, types) are asked with FILTER EXISTS, so that their own names, said twice,
never multiply a record.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pyoxigraph import (
    Literal,
    NamedNode,
    QueryBoolean,
    QuerySolutions,
    RdfFormat,
    Store,
    Triple,
    serialize,
)

from lod.dates import XSD
from lod.errors import ConfigError
from lod.namespaces import PREFIXES, expand
from lod.vocab import VOCAB_DIR

STATS_FILE = "stats.ttl"
QUERIES_DIR = VOCAB_DIR / "statistics"
QB = "http://purl.org/linked-data/cube#"
SDMX_DIMENSION = "http://purl.org/linked-data/sdmx/2009/dimension#"
SDMX_MEASURE = "http://purl.org/linked-data/sdmx/2009/measure#"
MEASURE = SDMX_MEASURE + "obsValue"
COUNT = "records"
"""The variable each statistics query binds to its count."""
DISTINCT_COUNT = "COUNT(DISTINCT ?record)"
"""How each statistics query counts: exact even when a statement about a resource is made
twice. Once the store is found to repeat none (REPEATS), it counts with COUNT(?record)."""
REPEATS = "repeated-statements"
"""The query (vocab/statistics/) that asks whether the store repeats a counted statement."""


@dataclass(frozen=True, slots=True)
class Cube:
    """One question: `slug` names its query file and is its dcterms:identifier; `dimensions`
    maps each grouping variable of the query to the property its observations carry."""

    slug: str
    title: str
    dimensions: tuple[tuple[str, str], ...]


CUBES = (
    Cube(
        "documents-per-archive-per-year",
        "Records per holding archive and year of creation",
        (("archive", "lod:holdingArchiveDimension"), ("year", SDMX_DIMENSION + "refPeriod")),
    ),
    Cube("languages", "Records per language", (("language", "lod:languageDimension"),)),
    Cube("document-types", "Records per document type", (("type", "lod:documentTypeDimension"),)),
    Cube("subjects", "Resources per subject heading", (("subject", "lod:subjectDimension"),)),
    Cube(
        "holding-archives",
        "Resources per holding archive",
        (("archive", "lod:holdingArchiveDimension"),),
    ),
)
"""`lod:` names the publication's own vocabulary (vocab/lod.ttl); other dimensions are IRIs."""


@cache
def cube_query(slug: str, folder: Path = QUERIES_DIR) -> str:
    path = folder / f"{slug}.rq"
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the statistics query {path}: {exc.strerror}") from exc


def counting_queries(store: Store) -> dict[str, str]:
    """Each cube's query as the build runs it on `store`: without DISTINCT when the store repeats
    no counted statement, so that counting holds the groups only, not every group's records."""
    queries = {cube.slug: cube_query(cube.slug) for cube in CUBES}
    for slug, text in queries.items():
        if DISTINCT_COUNT not in text:
            raise ConfigError(f"the statistics query {slug}.rq must count {DISTINCT_COUNT}")
    repeats = store.query(cube_query(REPEATS), use_default_graph_as_union=True)
    assert isinstance(repeats, QueryBoolean)
    if repeats:
        return queries
    plain = DISTINCT_COUNT.replace("DISTINCT ", "")
    return {slug: text.replace(DISTINCT_COUNT, plain) for slug, text in queries.items()}


def statistics_graph(base: str) -> str:
    return base + STATS_FILE


def dimension(prop: str, vocab: str) -> NamedNode:
    return NamedNode(expand(prop, vocab) if prop.startswith("lod:") else prop)


def cube_triples(store: Store, base: str, vocab: str, dataset: str) -> list[Triple]:
    """Run every statistics query on `store` (its union default graph) and describe the
    answers as Data Cube datasets of `dataset`. Observations are named from their dimension
    values, so an unchanged count keeps its IRI from build to build."""
    doc = statistics_graph(base)
    a, label = NamedNode(expand("rdf:type")), NamedNode(expand("rdfs:label"))
    qb = {name: NamedNode(QB + name) for name in ("dataSet", "structure", "component")}
    integer = NamedNode(XSD + "integer")
    measure = NamedNode(MEASURE)
    out = [Triple(measure, a, NamedNode(QB + "MeasureProperty"))]
    declared: set[NamedNode] = set()
    queries = counting_queries(store)
    for cube in CUBES:
        node = NamedNode(f"{doc}#{cube.slug}")
        structure = NamedNode(f"{doc}#{cube.slug}-structure")
        out += [
            Triple(node, a, NamedNode(QB + "DataSet")),
            Triple(node, label, Literal(cube.title, language="en")),
            Triple(node, NamedNode(expand("dcterms:identifier")), Literal(cube.slug)),
            Triple(node, NamedNode(expand("prov:wasDerivedFrom")), NamedNode(dataset)),
            Triple(node, qb["structure"], structure),
            Triple(structure, a, NamedNode(QB + "DataStructureDefinition")),
        ]
        dimensions = [(v, dimension(p, vocab)) for v, p in cube.dimensions]
        for variable, prop in (*dimensions, (COUNT, measure)):
            component = NamedNode(f"{doc}#{cube.slug}-{variable}")
            role = "measure" if variable == COUNT else "dimension"
            out += [
                Triple(structure, qb["component"], component),
                Triple(component, NamedNode(QB + role), prop),
                Triple(component, NamedNode(expand("dcterms:identifier")), Literal(variable)),
            ]
            if role == "dimension" and prop not in declared:
                declared.add(prop)
                out.append(Triple(prop, a, NamedNode(QB + "DimensionProperty")))
        solutions = store.query(queries[cube.slug], use_default_graph_as_union=True)
        assert isinstance(solutions, QuerySolutions)
        for solution in solutions:
            values = [(prop, solution[v]) for v, prop in dimensions]
            key = "\n".join(str(v) if v is not None else "" for _, v in values)
            obs = NamedNode(f"{doc}#{cube.slug}-{hashlib.sha1(key.encode()).hexdigest()[:16]}")
            count = solution[COUNT]
            assert isinstance(count, Literal)
            out += [
                Triple(obs, a, NamedNode(QB + "Observation")),
                Triple(obs, qb["dataSet"], node),
                Triple(obs, measure, Literal(count.value, datatype=integer)),
            ]
            for dim, value in values:
                if value is not None:
                    out.append(Triple(obs, dim, value))
    return out


def write_statistics(root: Path, base: str, vocab: str, dataset: str, store: Store) -> list[Triple]:
    """stats.ttl at the site's root; returns its triples for the store's graph of that name."""
    triples = cube_triples(store, base, vocab, dataset)
    prefixes = {
        "qb": QB,
        "sdmx-dimension": SDMX_DIMENSION,
        "sdmx-measure": SDMX_MEASURE,
        "lod": vocab,
        **{p: PREFIXES[p] for p in ("schema", "dcterms", "rdfs", "prov", "xsd")},
    }
    data = serialize(sorted(triples, key=str), format=RdfFormat.TURTLE, prefixes=prefixes)
    (root / STATS_FILE).write_bytes(data or b"")
    return triples
