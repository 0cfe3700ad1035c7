"""Provenance: each resource is a named graph (store and N-Quads dump) that says, in PROV-O,
which source file and line it came from, when, and which lod and mapping made it."""

from __future__ import annotations

import csv
import gzip
import io
import shutil
from pathlib import Path

import pytest
import requests
from conftest import BASE, RECORDS, corpus_path, running_server
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic

from lod import __version__
from lod.config import Config
from lod.provenance import mapping_version
from lod.publish.site import build
from lod.vocab import VOCAB_DIR

PROV = "http://www.w3.org/ns/prov#"
EPOCH = 1700000000
WHEN = "2023-11-14T22:13:20Z"
RDFLIB_OWN_DEPRECATION = pytest.mark.filterwarnings(
    "ignore:Dataset.default_context is deprecated:DeprecationWarning"
)
"""rdflib 7.6's N-Quads parser calls a property rdflib itself deprecates."""

QUERY = """
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX schema: <http://schema.org/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX lod: <http://127.0.0.1:8000/vocab/lod#>
SELECT ?file ?line ?time ?mapping ?version WHERE {
  GRAPH ?g {
    ?record dcterms:identifier "%s" .
    ?g prov:wasDerivedFrom ?source ; prov:generatedAtTime ?time ; prov:wasGeneratedBy ?run .
    ?source lod:sourceFile ?file .
    OPTIONAL { ?source lod:sourceLine ?line }
    ?run prov:used ?source ; lod:mappingVersion ?mapping ; prov:wasAssociatedWith ?agent .
  }
  ?agent schema:softwareVersion ?version .
}
"""


def select(server: str, query: str) -> list[dict[str, str]]:
    response = requests.post(
        server + "/sparql",
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return [
        {name: cell["value"] for name, cell in row.items()}
        for row in response.json()["results"]["bindings"]
    ]


@pytest.fixture(scope="module")
def dated_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("prov") / "site"
    config = Config(base_uri=BASE, progress=False, source_date_epoch=EPOCH)
    build([RECORDS], out, config, base_dir=RECORDS.parent)
    return out


def test_a_record_says_where_when_and_by_what_it_was_made(dated_site: Path) -> None:
    with running_server(dated_site) as server:
        rows = select(server, QUERY % "112095")
    assert rows == [
        {
            "file": "records/112095.txt",
            "line": "1",
            "time": WHEN,
            "mapping": mapping_version(VOCAB_DIR),
            "version": __version__,
        }
    ]


@RDFLIB_OWN_DEPRECATION
def test_graphs_are_the_dump_split_by_resource_plus_provenance(dated_site: Path) -> None:
    """Every resource of the N-Triples dump is one named graph of the N-Quads dump (read by
    rdflib); without the provenance statements the graphs add up to the N-Triples dump."""
    dataset = Dataset()
    nquads = gzip.decompress((dated_site / "dumps/dataset.nq.gz").read_bytes()).decode()
    dataset.parse(data=nquads, format="nquads")
    names = {str(g.identifier) for g in dataset.graphs() if len(g)}
    pages = {
        BASE + "doc/" + str(p.relative_to(dated_site / "doc").with_suffix(""))
        for p in (dated_site / "doc").rglob("*.ttl")
        if p.name != "dataset.ttl"
    }
    assert names == pages
    record = dataset.graph(URIRef(BASE + "doc/record/112095"))
    assert (URIRef(BASE + "record/112095"), None, None) in record
    union = Graph()
    for quad in dataset.quads((None, None, None, None)):
        s, p, o, _g = quad
        provenance = str(p).startswith(PROV) or str(o).startswith(PROV)
        if not provenance and not str(s).endswith(("#source", "#generation")):
            union.add((s, p, o))
    triples = gzip.decompress((dated_site / "dumps/dataset.nt.gz").read_bytes()).decode()
    assert isomorphic(union, Graph().parse(data=triples, format="nt"))


@RDFLIB_OWN_DEPRECATION
def test_entities_name_their_generation_but_no_source(dated_site: Path) -> None:
    dataset = Dataset()
    nquads = gzip.decompress((dated_site / "dumps/dataset.nq.gz").read_bytes()).decode()
    dataset.parse(data=nquads, format="nquads")
    doc = URIRef(BASE + "doc/agent/mao-zedong")
    graph = dataset.graph(doc)
    assert graph.value(doc, URIRef(PROV + "generatedAtTime")).toPython().isoformat() == (
        "2023-11-14T22:13:20+00:00"
    )
    assert graph.value(doc, URIRef(PROV + "wasDerivedFrom")) is None


def test_the_default_graph_is_the_union_and_from_picks_one_graph(dated_site: Path) -> None:
    graph = f"{BASE}doc/record/112095"
    one = f"SELECT (COUNT(*) AS ?n) FROM <{graph}> WHERE {{ ?s ?p ?o }}"
    named = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    union = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    with running_server(dated_site) as server:
        (from_count,) = select(server, one)
        (graph_count,) = select(server, named)
        (all_count,) = select(server, union)
        description = requests.get(
            server + "/sparql", headers={"Accept": "text/turtle"}, timeout=30
        ).text
    assert from_count == graph_count and 50 < int(from_count["n"]) < int(all_count["n"])
    assert "UnionDefaultGraph" in description


def csv_lines(path: Path) -> dict[str, int]:
    """Record ID -> the line its CSV row starts at (rows may span lines)."""
    text = path.read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    column = header.index("record_id")
    lines, start = {}, reader.line_num + 1
    for row in reader:
        if row and row[column]:
            lines[row[column]] = start
        start = reader.line_num + 1
    return lines


def test_a_csv_record_names_its_line_even_after_rows_above_it_go(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    scrape = source / "scrape.csv"
    shutil.copy(corpus_path("wilson-da", "scrape", "wilson_archive.csv"), scrape)
    out = tmp_path / "site"
    config = Config(base_uri=BASE, progress=False, workers=1, source_date_epoch=EPOCH)
    build([source], out, config, base_dir=source)
    lines = csv_lines(scrape)
    third = list(lines)[2]
    with running_server(out) as server:
        (row,) = select(server, QUERY % third)
    assert row["file"] == "scrape.csv" and int(row["line"]) == lines[third] > 2

    # drop the first row: the third record is not mapped again, yet its line is right
    with scrape.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    with scrape.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([rows[0], *rows[2:]])
    later = Config(base_uri=BASE, progress=False, workers=1, source_date_epoch=EPOCH + 86400)
    report = build([source], out, later, base_dir=source)
    assert report.incremental and report.changes["deleted"] >= 1
    moved = csv_lines(scrape)
    assert moved[third] < lines[third]
    with running_server(out) as server:
        (row,) = select(server, QUERY % third)
    assert int(row["line"]) == moved[third] and row["time"] == "2023-11-15T22:13:20Z"


def test_links_awaiting_review_change_no_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lod reconcile` writes vocab/proposed-links.csv, which no build reads: neither the
    mapping version nor the build's fingerprint (a full rebuild) may depend on it."""
    from lod.publish import site

    vocab = tmp_path / "vocab"
    shutil.copytree(VOCAB_DIR, vocab)
    monkeypatch.setattr(site, "VOCAB_DIR", vocab)
    config = Config(base_uri=BASE)
    before = mapping_version(vocab), site.fingerprint(config)
    (vocab / "proposed-links.csv").write_text("slug,target\nx,http://example.org/x\n")
    assert (mapping_version(vocab), site.fingerprint(config)) == before
    (vocab / "links.csv").write_text((vocab / "links.csv").read_text() + "\n")
    assert mapping_version(vocab) != before[0] and site.fingerprint(config) != before[1]


def test_the_software_agent_is_a_software_application() -> None:
    """schema:softwareVersion is a property of schema:SoftwareApplication: the agent that
    carries it is typed so, beside prov:SoftwareAgent."""
    from lod.provenance import Generation, Provenance

    made = Generation("2026-01-01T00:00:00Z", "1.2.3", "m")
    triples = Provenance(BASE, BASE + "vocab/lod#", made).agent_triples()
    types = {t.object.value for t in triples if t.predicate.value.endswith("#type")}
    assert types == {
        "http://www.w3.org/ns/prov#SoftwareAgent",
        "http://schema.org/SoftwareApplication",
    }
