"""Comunica, the JavaScript SPARQL engine many linked-data users query with, against a real
`lod serve` on 127.0.0.1:

- as a SPARQL 1.1 Protocol client (source `sparql@.../sparql`): every curated query answers the
  rows, in the order, the endpoint answers itself (the corpus build where the shared corpus is,
  else the sample), and a DESCRIBE the graph;
- as a linked-data client: a record's document in each RDF syntax, its HTML page (JSON-LD in a
  script element), the document URI negotiated and the thing URI through its 303 all give the
  record's title and identifier; JSON-LD makes Comunica fetch /context.jsonld over HTTP; given
  /sparql with no type, Comunica finds the endpoint from its Service Description;
- /.well-known/void gives the SPARQL endpoint's address.

A build names its things, and its JSON-LD names its context, under its base URI: served at
another address, its JSON-LD cannot be read (Comunica fails on the context it cannot fetch). So
the linked-data checks serve a build made for the test server's own address, as `make serve`
does.

`make test` installs Comunica's CLI (the versions tests/comunica/package-lock.json pins) into
.cache/comunica with npm; without node or that install these tests skip. Each `comunica-sparql`
run is a Node.js process that takes about a second to start, so the runs go in parallel, once
per module."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import requests
from rdflib import Graph
from rdflib.compare import isomorphic

from lod.config import Config
from lod.curated import load_curated
from lod.publish.site import build
from tests.conftest import (
    CORPUS,
    ENCODED_IDS,
    RECORDS,
    ROOT,
    free_port,
    running_server,
    write_encoded_ids,
)

COMUNICA_DIR = ROOT / ".cache" / "comunica"
COMUNICA = COMUNICA_DIR / "node_modules" / ".bin" / "comunica-sparql"


def missing_comunica() -> str:
    if shutil.which("node") is None:
        return "node (Node.js) is not installed; Comunica runs on it"
    if not (COMUNICA_DIR / ".installed").exists() or not COMUNICA.exists():
        return "Comunica's CLI is not in .cache/comunica (`make test` installs it with npm)"
    return ""


pytestmark = pytest.mark.skipif(bool(missing_comunica()), reason=missing_comunica())

RESULTS = "application/sparql-results+json"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
CURATED = {query.slug: query for query in load_curated()}
ORDER_BY = re.compile(r"\bORDER\s+BY\b", re.IGNORECASE)
COLOUR = re.compile(r"\x1b\[[0-9;]*m")
UNBOUND = re.compile(r"WARN: The endpoint \S+ failed to provide a binding for (\w+)\.")

Term = tuple[str, ...]
Row = frozenset[tuple[str, Term]]


class Run(NamedTuple):
    """One `comunica-sparql` run: its sources, the query, the media type it writes the answer
    in, and how much it logs."""

    sources: list[str]
    query: str
    output: str = RESULTS
    log_level: str = "warn"


@dataclass(frozen=True, slots=True)
class Answer:
    """What one `comunica-sparql` run answered, and what it logged (stderr, without colours)."""

    body: str
    log: str

    @property
    def rows(self) -> list[Row]:
        return read_rows(json.loads(self.body))

    def complaints(self) -> list[str]:
        return [line for line in self.log.splitlines() if " WARN:" in line or " ERROR:" in line]


def read_term(term: dict[str, str]) -> Term:
    """An RDF term of SPARQL JSON results (section 3.2.2) in one spelling: a simple literal with
    or without xsd:string, a language tag in any case, "typed-literal" of older writers."""
    if term["type"] in ("literal", "typed-literal"):
        datatype = term.get("datatype", "")
        if datatype in (XSD_STRING, RDF_LANG_STRING):
            datatype = ""
        return ("literal", term["value"], datatype, term.get("xml:lang", "").lower())
    if term["type"] == "bnode":
        return ("bnode",)  # labels are local to one results document
    return (term["type"], term["value"])


def read_rows(results: dict[str, Any]) -> list[Row]:
    return [
        frozenset((name, read_term(term)) for name, term in binding.items())
        for binding in results["results"]["bindings"]
    ]


def select(url: str, query: str) -> list[Row]:
    """The rows lod's endpoint answers to `query`, asked directly."""
    response = requests.post(
        url + "/sparql", data={"query": query}, headers={"Accept": RESULTS}, timeout=60
    )
    assert response.status_code == 200, response.text[:500]
    return read_rows(response.json())


def comunica(run: Run) -> Answer:
    """`comunica-sparql SOURCES -q QUERY -t OUTPUT -l LEVEL`."""
    done = subprocess.run(
        [str(COMUNICA), *run.sources, "-q", run.query, "-t", run.output, "-l", run.log_level],
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = COLOUR.sub("", done.stderr)
    assert done.returncode == 0, f"comunica-sparql {' '.join(run.sources)} failed: {log[-2000:]}"
    return Answer(done.stdout, log)


def run_all(runs: dict[str, Run]) -> dict[str, Answer]:
    """Several Comunica runs at once."""
    with ThreadPoolExecutor(3) as pool:
        futures = {key: pool.submit(comunica, run) for key, run in runs.items()}
        return {key: future.result() for key, future in futures.items()}


# The SPARQL endpoint


@pytest.fixture(scope="module")
def endpoint(request: pytest.FixtureRequest) -> Iterator[str]:
    site: Path = request.getfixturevalue("corpus_site" if CORPUS.exists() else "records_site")
    with running_server(site) as url:
        yield url


@pytest.fixture(scope="module")
def curated_answers(endpoint: str) -> dict[str, Answer]:
    source = f"sparql@{endpoint}/sparql"
    return run_all({slug: Run([source], query.sparql) for slug, query in CURATED.items()})


def unexplained(answer: Answer, expected: list[Row]) -> list[str]:
    """Comunica's warnings and errors, less one it gives by mistake. An endpoint leaves a
    variable unbound in a row by leaving it out (SPARQL 1.1 Query Results JSON, 3.2.2); Comunica
    expects that only of variables it finds may be unbound, and looks for them in the outermost
    OPTIONAL alone, so a variable of an OPTIONAL nested under another ("failed to provide a
    binding for archive") is reported though the row is right."""

    def explained(line: str) -> bool:
        match = UNBOUND.search(line)
        return match is not None and any(match.group(1) not in dict(row) for row in expected)

    return [line for line in answer.complaints() if not explained(line)]


@pytest.mark.parametrize("slug", sorted(CURATED))
def test_comunica_answers_each_curated_query_as_the_endpoint_does(
    endpoint: str, curated_answers: dict[str, Answer], slug: str
) -> None:
    query = CURATED[slug].sparql
    expected = select(endpoint, query)
    answer = curated_answers[slug]
    assert Counter(answer.rows) == Counter(expected)
    if ORDER_BY.search(query):
        assert answer.rows == expected
    assert unexplained(answer, expected) == []


def test_the_curated_queries_compared_answer_rows(curated_answers: dict[str, Answer]) -> None:
    """The comparison above is not between empty answers."""
    answered = [slug for slug, answer in curated_answers.items() if answer.rows]
    assert len(answered) >= len(CURATED) // 2, answered


# Linked data: documents, the thing URI, the dataset description


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample records and records whose IDs need encoding, built for, and served at, one
    address on 127.0.0.1."""
    port = free_port()
    work = tmp_path_factory.mktemp("comunica")
    shutil.copytree(RECORDS, work / "src")
    write_encoded_ids(work / "src", list(ENCODED_IDS))
    config = Config(base_uri=f"http://127.0.0.1:{port}/", progress=False)
    build([work / "src"], work / "site", config, base_dir=work)
    with running_server(work / "site", port=port) as url:
        yield url


RECORD = "/record/112095"
RECORD_SOURCES = {
    "Turtle": "/doc/record/112095.ttl",
    "JSON-LD": "/doc/record/112095.jsonld",
    "N-Triples": "/doc/record/112095.nt",
    "RDF/XML": "/doc/record/112095.rdf",
    "HTML": "/doc/record/112095.html",
    "the document URI, negotiated": "/doc/record/112095",
    "the thing URI, through its 303": RECORD,
    "the endpoint, found by its Service Description": "/sparql",
}
JSON_LD_SOURCES = {"JSON-LD", "HTML"}
TITLE_QUERY = """PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?title ?identifier WHERE {{ <{thing}> dcterms:title ?title ; dcterms:identifier ?identifier }}"""
DESCRIBE = "DESCRIBE <{thing}>"
NT = "application/n-triples"
VOID_QUERY = """PREFIX void: <http://rdfs.org/ns/void#>
SELECT ?dataset ?endpoint WHERE { ?dataset void:sparqlEndpoint ?endpoint }"""


@pytest.fixture(scope="module")
def linked_answers(home: str) -> dict[str, Answer]:
    title = TITLE_QUERY.format(thing=home + RECORD)
    runs = {
        name: Run([home + path], title, log_level="info") for name, path in RECORD_SOURCES.items()
    }
    for record_id, segment in ENCODED_IDS.items():
        thing = f"{home}/record/{segment}"
        runs[record_id] = Run([thing], TITLE_QUERY.format(thing=thing))
    runs["void"] = Run([home + "/.well-known/void"], VOID_QUERY)
    runs["describe"] = Run([f"sparql@{home}/sparql"], DESCRIBE.format(thing=home + RECORD), NT)
    return run_all(runs)


@pytest.mark.parametrize("source", list(RECORD_SOURCES))
def test_comunica_reads_a_records_title_and_identifier(
    home: str, linked_answers: dict[str, Answer], source: str
) -> None:
    expected = select(home, TITLE_QUERY.format(thing=home + RECORD))
    assert [dict(row)["identifier"] for row in expected] == [("literal", "112095", "", "")]
    answer = linked_answers[source]
    assert Counter(answer.rows) == Counter(expected)
    assert answer.complaints() == []
    if source in JSON_LD_SOURCES:
        assert f"Requesting {home}/context.jsonld " in answer.log
    if source.startswith("the endpoint"):
        assert f"Identified {home}/sparql as sparql source" in answer.log


@pytest.mark.parametrize("record_id", list(ENCODED_IDS))
def test_comunica_follows_the_thing_uri_of_an_id_that_needs_encoding(
    home: str, linked_answers: dict[str, Answer], record_id: str
) -> None:
    """Node.js's URL parser, not Python's, reads the URI, the 303 and the document's IRIs."""
    answer = linked_answers[record_id]
    thing = f"{home}/record/{ENCODED_IDS[record_id]}"
    assert answer.rows == select(home, TITLE_QUERY.format(thing=thing))
    assert [dict(row)["identifier"] for row in answer.rows] == [("literal", record_id, "", "")]
    assert answer.complaints() == []


def test_comunica_describes_a_record_as_the_endpoint_does(
    home: str, linked_answers: dict[str, Answer]
) -> None:
    """A DESCRIBE goes to the endpoint whole and comes back as N-Triples, blank nodes and all."""
    query = DESCRIBE.format(thing=home + RECORD)
    response = requests.post(
        home + "/sparql", data={"query": query}, headers={"Accept": NT}, timeout=60
    )
    assert response.status_code == 200
    expected = Graph().parse(data=response.text, format="nt")
    got = Graph().parse(data=linked_answers["describe"].body, format="nt")
    assert len(expected) > 20
    assert isomorphic(got, expected)
    assert linked_answers["describe"].complaints() == []


def test_comunica_finds_the_sparql_endpoint_in_well_known_void(
    home: str, linked_answers: dict[str, Answer]
) -> None:
    answer = linked_answers["void"]
    assert answer.rows == [
        frozenset(
            {("dataset", ("uri", home + "/dataset")), ("endpoint", ("uri", home + "/sparql"))}
        )
    ]
    assert answer.complaints() == []
