"""External stores, for real: `lod push` into the Oxigraph server and Virtuoso, and `lod serve
--store` answering from them, checked against the embedded store.

Each server is started once per session (tests/store_servers.py) and loaded with the shared
corpus build; a second, small build of records/ under its own base URI shows what pushes send
again: nothing when nothing changed, one record's graph when one record changed, and a removal
for a deleted record.
"""

from __future__ import annotations

import http.server
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from pyoxigraph import (
    Literal,
    NamedNode,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Store,
    parse,
    parse_query_results,
)
from rdflib import Graph as RdfGraph
from rdflib.compare import isomorphic

import lod.push
from lod.cli import main
from lod.config import Config
from lod.curated import CuratedQuery, load_curated
from lod.errors import StoreError
from lod.publish.site import build
from lod.push import DATASET_GRAPH, STATE_GRAPH, build_graphs, push, pushed_state
from lod.remote import Endpoints, RemoteStore, store_session
from lod.serve.remote import PROV_ENTITY, PROVENANCE_OF_GRAPH
from tests.conftest import (
    ENCODED_IDS,
    RECORDS,
    free_port,
    running_server,
    wait_until_answering,
    write_encoded_ids,
)
from tests.store_servers import (
    StoreServer,
    oxigraph,
    oxigraph_command,
    virtuoso,
    virtuoso_binaries,
)
from tests.test_serve import get_as_sent

QUERIES = load_curated()
SMALL_BASE = "http://push.test/"
INTEGERS = {
    "http://www.w3.org/2001/XMLSchema#integer",
    "http://www.w3.org/2001/XMLSchema#int",
    "http://www.w3.org/2001/XMLSchema#long",
}
SERVERS = ("oxigraph", "virtuoso")


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreServer]:
    if oxigraph_command() is None:
        pytest.skip("needs the Oxigraph server: pip install oxigraph (in the test extra)")
    with oxigraph(tmp_path_factory.mktemp("oxigraph")) as server:
        yield server


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreServer]:
    if virtuoso_binaries() is None:
        pytest.skip("needs Virtuoso: apt-get install virtuoso-opensource (make test does, as root)")
    with virtuoso(tmp_path_factory.mktemp("virtuoso")) as server:
        yield server


@pytest.fixture(scope="session", params=SERVERS)
def server(request: pytest.FixtureRequest) -> StoreServer:
    return request.getfixturevalue(f"{request.param}_server")  # type: ignore[no-any-return]


def remote_for(server: StoreServer, *, gsp: bool = True) -> RemoteStore:
    session = store_session(server.user, server.password, server.auth, timeout=120, attempts=3)
    graph_store = server.graph_store if gsp else ""
    return RemoteStore(Endpoints(server.query, server.update, graph_store), session)


@pytest.fixture(scope="session")
def loaded(server: StoreServer, corpus_site: Path) -> StoreServer:
    """The server with the corpus build pushed into it, through the command line: into
    Oxigraph by Graph Store requests, into Virtuoso by batched SPARQL Update (its Graph Store
    takes ~30 ms a graph; both ways are tested on both servers with the small build below)."""
    how = ["--graph-store", server.graph_store] if server.name == "oxigraph" else []
    result = CliRunner().invoke(
        main,
        [
            "push",
            str(corpus_site),
            "--store",
            server.query,
            *how,
            *(["--update", server.update] if not how else []),
            "--no-progress",
            *(["--user", server.user, "--auth", server.auth] if server.user else []),
        ],
        env={"LOD_STORE_PASSWORD": server.password},
    )
    assert result.exit_code == 0, result.output
    assert "Pushed" in result.output and "0 unchanged" in result.output
    return server


@pytest.fixture(scope="session")
def served(loaded: StoreServer, corpus_site: Path) -> Iterator[str]:
    with running_server(corpus_site, store=loaded.query) as url:
        yield url


@pytest.fixture(scope="session")
def corpus_store(corpus_site: Path) -> Store:
    return Store.read_only(str(corpus_site / "store"))


# --- values compared across engines ---------------------------------------------------------


def plain(term: Any) -> Any:
    """A term as a comparable value: engines may type a count xsd:int or xsd:integer."""
    if term is None:
        return None
    if isinstance(term, NamedNode):
        return term.value
    assert isinstance(term, Literal), term
    if term.datatype.value in INTEGERS:
        return int(term.value)
    return (term.value, term.language, None if term.language else term.datatype.value)


def rows_of(solutions: QuerySolutions) -> list[tuple[Any, ...]]:
    names = [v.value for v in solutions.variables]
    return [tuple(plain(s[n]) for n in names) for s in solutions]


def embedded(store: Store, query: CuratedQuery) -> list[tuple[Any, ...]]:
    result = store.query(query.sparql, use_default_graph_as_union=True)
    assert isinstance(result, QuerySolutions)
    return rows_of(result)


def over_http(url: str, sparql: str) -> list[tuple[Any, ...]]:
    response = requests.post(
        url, data={"query": sparql}, headers={"Accept": "application/sparql-results+json"}
    )
    assert response.status_code == 200, response.text
    result = parse_query_results(response.content, QueryResultsFormat.JSON)
    assert isinstance(result, QuerySolutions)
    return rows_of(result)


def same_rows(got: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> None:
    """Same solutions, as a multiset (ties in ORDER BY may come in any order)."""
    assert sorted(got, key=repr) == sorted(expected, key=repr)
    assert len(got) == len(expected)


# --- the corpus, pushed and queried -----------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.slug)
def test_the_store_answers_a_curated_query_as_the_embedded_store(
    loaded: StoreServer, corpus_store: Store, query: CuratedQuery
) -> None:
    expected = embedded(corpus_store, query)
    assert expected, f"{query.slug} finds nothing in the corpus: nothing would be compared"
    same_rows(over_http(loaded.query, query.sparql), expected)


@pytest.mark.corpus
@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.slug)
def test_lod_serve_store_answers_a_curated_query_as_the_embedded_store(
    served: str, corpus_store: Store, query: CuratedQuery
) -> None:
    same_rows(over_http(served + "/sparql", query.sparql), embedded(corpus_store, query))


@pytest.mark.corpus
def test_every_triple_of_the_build_is_in_the_store(loaded: StoreServer, corpus_site: Path) -> None:
    base = "http://127.0.0.1:8000/"
    graphs = list(build_graphs(Store.read_only(str(corpus_site / "store")), base))
    remote = remote_for(loaded)
    count = remote.select(
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
        f'FILTER(STRSTARTS(STR(?g), "{base}") && !STRSTARTS(STR(?g), "{base}{STATE_GRAPH}")) }}'
    )
    assert int(count[0]["n"].value) == sum(g.data.count(b"\n") for g in graphs) > 8000
    assert pushed_state(remote, base).digests == {g.name: g.digest for g in graphs}
    assert base + DATASET_GRAPH in {g.name for g in graphs}


@pytest.mark.corpus
def test_pushing_the_same_build_again_sends_nothing(loaded: StoreServer, corpus_site: Path) -> None:
    report = push(corpus_site, remote_for(loaded))
    assert (report.sent, report.removed) == (0, 0)
    assert report.unchanged == report.graphs > 100
    assert report.requests == 2  # reading the push state: its pointer, its one part


@pytest.mark.corpus
def test_a_document_from_the_store_is_the_resources_graph(served: str, corpus_store: Store) -> None:
    doc = "http://127.0.0.1:8000/doc/record/112095"
    expected = RdfGraph()
    for quad in corpus_store.quads_for_pattern(None, None, None, NamedNode(doc)):
        t = quad.triple
        provenance = t.subject.value.startswith(doc + "#") or (
            t.subject == NamedNode(doc)
            and (t.predicate.value in PROVENANCE_OF_GRAPH or (t.predicate, t.object) == PROV_ENTITY)
        )
        if not provenance:
            expected.parse(data=str(t) + " .", format="nt")
    response = requests.get(served + "/doc/record/112095", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.headers["Content-Location"] == "/doc/record/112095.ttl"
    got = RdfGraph().parse(data=response.text, format="turtle")
    assert len(got) == len(expected) > 30
    assert isomorphic(got, expected)
    html = requests.get(served + "/doc/record/112095.html")
    assert html.status_code == 200 and "Telegram from Mao Zedong" in html.text
    missing = requests.get(served + "/doc/record/no-such-record.ttl")
    assert missing.status_code == 404


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("field", "query", "status", "message"),
    [
        ("query", 'define get:soft "soft" SELECT * WHERE { ?s ?p ?o }', 400, "not SPARQL 1.1"),
        ("query", "SELECT * WHERE { ?s bif:contains ?o }", 400, "store-specific"),
        ("query", "SELECT * WHERE { SERVICE <http://example.org/> { ?s ?p ?o } }", 400, "SERVICE"),
        ("query", "INSERT DATA { <urn:a> <urn:b> <urn:c> }", 400, "read-only"),
        ("update", "INSERT DATA { <urn:a> <urn:b> <urn:c> }", 403, "read-only"),
        ("query", "SELECT * WHERE { ?s ?p ", 400, "could not parse"),
    ],
)
def test_lod_serve_store_keeps_the_endpoint_read_only(
    served: str, field: str, query: str, status: int, message: str
) -> None:
    response = requests.post(served + "/sparql", data={field: query})
    assert response.status_code == status
    assert message in response.text


@pytest.mark.corpus
def test_lod_serve_store_keeps_the_row_limit_and_the_time_limit(
    oxigraph_server: StoreServer, corpus_site: Path
) -> None:
    push(corpus_site, remote_for(oxigraph_server))
    settings = {"store": oxigraph_server.query, "query_row_limit": "5", "query_timeout": "1"}
    with running_server(corpus_site, **settings) as url:
        capped = requests.post(
            url + "/sparql",
            data={"query": "SELECT * WHERE { ?s ?p ?o }"},
            headers={"Accept": "text/csv"},
        )
        assert capped.status_code == 200
        assert len(capped.text.strip().splitlines()) == 1 + 5
        assert "only the first 5" in capped.headers["SPARQL-Result-Truncated"]
        slow = requests.post(
            url + "/sparql",
            data={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"},
        )
        assert slow.status_code == 503
        assert "time limit of 1 s" in slow.text


class SlowStore:
    """A store on 127.0.0.1 that takes `delay` seconds over every answer: each request within
    any per-request timeout, their sum past the query's time limit."""

    def __init__(self, delay: float) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(delay)
                body = b'{"head": {}, "boolean": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.query = f"http://127.0.0.1:{self.server.server_address[1]}/query"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_lod_serve_store_answers_at_the_time_limit_however_the_time_is_spent(
    records_site: Path,
) -> None:
    """Four graphs of the protocol's dataset are each checked with the store (0.6 s apiece),
    then the query runs: no single request is slow, yet the client hears at the 1 s limit,
    not after 3 s."""
    store = SlowStore(0.6)
    graphs = [("default-graph-uri", f"http://127.0.0.1:8000/doc/record/{n}") for n in range(4)]
    try:
        with running_server(records_site, store=store.query, query_timeout="1") as url:
            started = time.monotonic()
            answer = requests.post(
                url + "/sparql", data=[("query", "ASK { ?s ?p ?o }"), *graphs], timeout=60
            )
            elapsed = time.monotonic() - started
    finally:
        store.close()
    assert answer.status_code == 503 and "time limit of 1 s" in answer.text, answer.text
    assert elapsed < 1.6, elapsed


# --- what a push sends --------------------------------------------------------------------------


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, Path]:
    """records/ copied, built under its own base URI: (sources, site)."""
    sources = tmp_path / "records"
    shutil.copytree(RECORDS, sources)
    site = tmp_path / "site"
    build([sources], site, Config(base_uri=SMALL_BASE, progress=False), base_dir=tmp_path)
    return sources, site


def graph_triples(remote: RemoteStore, iri: str) -> set[str]:
    return {str(t) for t in remote.graph(iri)}


def digests(site: Path) -> dict[str, str]:
    return {
        g.name: g.digest for g in build_graphs(Store.read_only(str(site / "store")), SMALL_BASE)
    }


@pytest.mark.parametrize("gsp", [True, False], ids=["graph-store", "update"])
def test_a_push_sends_only_what_changed_and_removes_what_was_deleted(
    server: StoreServer, small: tuple[Path, Path], gsp: bool
) -> None:
    sources, site = small
    remote = remote_for(server, gsp=gsp)
    remote.drop([SMALL_BASE + STATE_GRAPH])  # each case starts from an unknown state
    first = push(site, remote, chunk_bytes=64 * 1024)
    assert first.sent == first.graphs > 50
    record = SMALL_BASE + "doc/record/example-csv-1"
    built = {g.name: g for g in build_graphs(Store.read_only(str(site / "store")), SMALL_BASE)}
    assert graph_triples(remote, record) == {
        str(t) for t in parse(built[record].data, RdfFormat.N_TRIPLES)
    }
    again = push(site, remote)
    assert (again.sent, again.removed, again.unchanged) == (0, 0, first.graphs)

    before = digests(site)
    csv = sources / "examples/example-scrape.csv"
    csv.write_text(
        csv.read_text(encoding="utf-8").replace(
            "[Example] Letter, Jane Example", "[Example] Letter, Jane Example (revised)"
        ),
        encoding="utf-8",
    )
    (sources / "112095.txt").unlink()
    build([sources], site, Config(base_uri=SMALL_BASE, progress=False), base_dir=sources.parent)
    after = digests(site)
    changed = sorted(name for name, digest in after.items() if before.get(name) != digest)
    deleted = sorted(set(before) - set(after))
    assert record in changed and SMALL_BASE + "doc/record/112095" in deleted

    third = push(site, remote)
    assert sorted(third.names) == changed
    assert third.removed == len(deleted)
    assert not graph_triples(remote, SMALL_BASE + "doc/record/112095")
    titles = remote.select(
        f"SELECT ?t WHERE {{ GRAPH <{record}> {{ <{SMALL_BASE}record/example-csv-1> "
        "<http://purl.org/dc/terms/title> ?t } }"
    )
    assert [row["t"].value for row in titles] == [
        "[Example] Letter, Jane Example (revised) to the Example Committee"
    ]
    assert push(site, remote).sent == 0

    remote.drop([SMALL_BASE + STATE_GRAPH])  # a push that knows nothing sends all again...
    assert push(site, remote).sent == len(after)
    count = remote.select(  # ...and leaves the same data: every graph replaced, none doubled
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
        f'FILTER(STRSTARTS(STR(?g), "{SMALL_BASE}") && '
        f'!STRSTARTS(STR(?g), "{SMALL_BASE}{STATE_GRAPH}")) }}'
    )
    now = build_graphs(Store.read_only(str(site / "store")), SMALL_BASE)
    assert int(count[0]["n"].value) == sum(g.data.count(b"\n") for g in now)


def test_a_single_graph_push_holds_every_triple_and_replaces_the_graphs(
    oxigraph_server: StoreServer, small: tuple[Path, Path]
) -> None:
    _, site = small
    remote = remote_for(oxigraph_server, gsp=False)
    push(site, remote)
    single = SMALL_BASE + "everything"
    report = push(site, remote, single_graph=single, chunk_bytes=16 * 1024)
    total = sum(
        g.data.count(b"\n") for g in build_graphs(Store.read_only(str(site / "store")), SMALL_BASE)
    )
    assert report.sent == 1 and report.removed > 50
    count = remote.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{single}> {{ ?s ?p ?o }} }}")
    assert int(count[0]["n"].value) == total
    assert not graph_triples(remote, SMALL_BASE + "doc/record/example-csv-1")
    assert push(site, remote, single_graph=single).sent == 0


def test_push_names_what_is_missing(records_site: Path) -> None:
    site = records_site
    result = CliRunner().invoke(main, ["push", str(site)])
    assert result.exit_code == 2 and "--store" in result.output
    result = CliRunner().invoke(
        main, ["push", str(site), "--store", "http://127.0.0.1:9/query", "--retries", "0"]
    )
    assert result.exit_code == 1
    assert "http://127.0.0.1:9/query" in result.output and "push again" in result.output


def test_a_push_to_a_query_only_endpoint_names_the_options_to_give(
    oxigraph_server: StoreServer, records_site: Path
) -> None:
    result = CliRunner().invoke(
        main, ["push", str(records_site), "--store", oxigraph_server.query, "--retries", "0"]
    )
    assert result.exit_code == 1
    assert "--update URL" in result.output and "--graph-store URL" in result.output


def test_graphs_larger_than_a_request_go_in_pieces(
    oxigraph_server: StoreServer, small: tuple[Path, Path]
) -> None:
    _, site = small
    remote = remote_for(oxigraph_server, gsp=False)
    remote.drop([SMALL_BASE + STATE_GRAPH])
    report = push(site, remote, chunk_bytes=2048)
    assert len(report.names) == len(set(report.names)) == report.sent == report.graphs
    built = {g.name: g for g in build_graphs(Store.read_only(str(site / "store")), SMALL_BASE)}
    large = [g for g in built.values() if len(g.data) > 2048]
    assert len(large) >= 4
    for graph in large:
        assert graph_triples(remote, graph.name) == {
            str(t) for t in parse(graph.data, RdfFormat.N_TRIPLES)
        }
    assert report.requests > len(built) + len(large)


BLANK_RECORD = """<?xml version="1.0" encoding="UTF-8"?>
<record xmlns="http://www.openarchives.org/OAI/2.0/"><header>
<identifier>{base}record/related</identifier><datestamp>2026-01-01T00:00:00Z</datestamp>
</header><metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns:dcterms="http://purl.org/dc/terms/" xmlns:schema="http://schema.org/">
<rdf:Description rdf:about="{base}record/related">
<rdf:type rdf:resource="http://schema.org/ArchiveComponent"/>
<dcterms:title>A record of related items</dcterms:title>
<dcterms:identifier>related</dcterms:identifier>
{relations}
</rdf:Description></rdf:RDF></metadata></record>
"""


@pytest.mark.parametrize("gsp", [True, False], ids=["graph-store", "update"])
def test_blank_nodes_stay_whole_when_a_graph_goes_in_pieces(
    oxigraph_server: StoreServer, tmp_path: Path, gsp: bool
) -> None:
    """Each request makes its blank nodes anew: a cut between two lines naming one would
    leave two nodes where the record has one."""
    relations = "".join(
        f"<dcterms:relation><rdf:Description><schema:name>Related item {n}</schema:name>"
        f"<schema:position>{n}</schema:position></rdf:Description></dcterms:relation>"
        for n in range(60)
    )
    (tmp_path / "harvest").mkdir()
    (tmp_path / "harvest/related.xml").write_text(
        BLANK_RECORD.format(base=SMALL_BASE, relations=relations), encoding="utf-8"
    )
    site = tmp_path / "site"
    build([tmp_path / "harvest"], site, Config(base_uri=SMALL_BASE, progress=False))
    graph = SMALL_BASE + "doc/record/related"
    (built,) = [
        g for g in build_graphs(Store.read_only(str(site / "store")), SMALL_BASE) if g.name == graph
    ]
    assert built.data.count(b"_:") >= 120 and len(built.data) > 4 * 1024
    remote = remote_for(oxigraph_server, gsp=gsp)
    remote.drop([SMALL_BASE + STATE_GRAPH])
    push(site, remote, chunk_bytes=1024)
    pushed = RdfGraph().parse(data="".join(f"{t} .\n" for t in remote.graph(graph)), format="nt")
    assert isomorphic(pushed, RdfGraph().parse(data=built.data.decode(), format="nt"))


def test_the_push_state_is_read_back_whole_from_many_parts(
    oxigraph_server: StoreServer, small: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, site = small
    monkeypatch.setattr(lod.push, "STATE_PART", 7)  # a state of ~100 graphs in ~15 parts
    remote = remote_for(oxigraph_server, gsp=False)
    remote.drop([SMALL_BASE + STATE_GRAPH])
    first = push(site, remote)
    state = pushed_state(remote, SMALL_BASE)
    assert state.digests == digests(site) and state.parts == -(-first.graphs // 7) > 10
    assert push(site, remote).sent == 0
    # the slots take turns (the new graph is entered first, then the state written), and
    # the parts of the state given up are dropped
    again = push(site, remote, single_graph=SMALL_BASE + "everything")
    assert again.removed == first.graphs
    now = pushed_state(remote, SMALL_BASE)
    assert now.parts == 1 and set(now.digests) == {SMALL_BASE + "everything"}
    left = {
        f"{slot}/{index}"
        for slot in (SMALL_BASE + STATE_GRAPH + "/a", SMALL_BASE + STATE_GRAPH + "/b")
        for index in range(state.parts + 2)
        if graph_triples(remote, f"{slot}/{index}")
    }
    assert left == {now.slot + "/0"}


class StopsAt(RemoteStore):
    """The real store, but the push stops (as a dropped connection would stop it) at the
    `at`-th write of the push state's pointer graph."""

    def __init__(self, remote: RemoteStore, at: int) -> None:
        super().__init__(remote.endpoints, remote.session)
        self.at = at

    def replace(self, graphs: list[tuple[str, bytes]]) -> None:
        if any(name == SMALL_BASE + STATE_GRAPH for name, _ in graphs):
            self.at -= 1
            if self.at == 0:
                raise StoreError("the connection dropped")
        super().replace(graphs)


@pytest.mark.parametrize("gsp", [True, False], ids=["graph-store", "update"])
def test_a_graph_sent_by_a_push_that_stopped_is_removed_with_its_record(
    oxigraph_server: StoreServer, small: tuple[Path, Path], gsp: bool
) -> None:
    """A push that stops after sending a new graph, before its state is written, must not
    leave that graph in the target for good once its record is deleted."""
    sources, site = small
    config = Config(base_uri=SMALL_BASE, progress=False)
    held = sources.parent / "112095.txt"
    (sources / "112095.txt").rename(held)
    build([sources], site, config, base_dir=sources.parent)
    remote = remote_for(oxigraph_server, gsp=gsp)
    remote.drop([SMALL_BASE + STATE_GRAPH])
    push(site, remote)
    held.rename(sources / "112095.txt")
    build([sources], site, config, base_dir=sources.parent)
    record = SMALL_BASE + "doc/record/112095"
    with pytest.raises(StoreError):
        push(site, StopsAt(remote, 2))  # the second pointer write: the final state's
    assert graph_triples(remote, record)  # sent
    (sources / "112095.txt").unlink()
    build([sources], site, config, base_dir=sources.parent)
    report = push(site, remote)
    assert not graph_triples(remote, record) and report.removed >= 1
    assert pushed_state(remote, SMALL_BASE).digests == digests(site)


def test_lod_serve_store_answers_503_while_the_store_is_down(records_site: Path) -> None:
    with running_server(records_site, store=f"http://127.0.0.1:{free_port()}/query") as url:
        query = requests.post(url + "/sparql", data={"query": "ASK { ?s ?p ?o }"})
        assert query.status_code == 503
        assert "cannot answer now" in query.text and query.headers["Retry-After"]
        document = requests.get(url + "/doc/record/112095.ttl")
        assert document.status_code == 503 and document.headers["Retry-After"]


@pytest.mark.corpus
def test_lod_serve_store_passes_the_protocols_dataset_and_refuses_unknown_graphs(
    served: str,
) -> None:
    doc = "http://127.0.0.1:8000/doc/record/112095"
    titles = "SELECT DISTINCT ?t WHERE { ?r <http://purl.org/dc/terms/title> ?t }"
    one = requests.post(
        served + "/sparql",
        data={"query": titles, "default-graph-uri": doc},
        headers={"Accept": "text/csv"},
    )
    assert one.status_code == 200
    assert len(one.text.strip().splitlines()) == 2 and "Telegram from Mao Zedong" in one.text
    unknown = requests.post(
        served + "/sparql",
        data={"query": titles, "default-graph-uri": "http://example.org/elsewhere"},
    )
    assert unknown.status_code == 400 and "not in this dataset" in unknown.text
    own = requests.post(
        served + "/sparql",
        data={"query": titles.replace("WHERE", "FROM <doc/record/112095> WHERE")},
        headers={"Accept": "text/csv"},
    )
    assert own.status_code == 200 and own.text == one.text
    elsewhere = requests.post(
        served + "/sparql",
        data={"query": titles.replace("WHERE", "FROM <http://example.org/web-page> WHERE")},
    )
    assert elsewhere.status_code == 400 and "not in this dataset" in elsewhere.text


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("query", "expected"),
    [("ASK { <record/112095> ?p ?o }", True), ("ASK { <record/no-such-record> ?p ?o }", False)],
)
def test_lod_serve_store_answers_ask_as_a_boolean(served: str, query: str, expected: bool) -> None:
    response = requests.post(
        served + "/sparql",
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.status_code == 200
    assert response.json()["boolean"] is expected


def test_lod_serve_takes_the_store_on_its_command_line(
    oxigraph_server: StoreServer, records_site: Path
) -> None:
    marker = "http://example.org/only-in-the-store"
    remote = remote_for(oxigraph_server, gsp=False)
    remote.replace([(marker, f"<{marker}> <{marker}> <{marker}> .\n".encode())])
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "lod.cli", "serve", str(records_site), "--port", str(port)]
        + ["--store", oxigraph_server.query],
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_answering(url + "/robots.txt", process)
        answer = requests.post(
            url + "/sparql",
            data={"query": f"ASK {{ GRAPH <{marker}> {{ ?s ?p ?o }} }}"},
            headers={"Accept": "application/sparql-results+json"},
        )
        assert answer.status_code == 200 and answer.json()["boolean"] is True
    finally:
        process.terminate()
        process.wait(10)
        assert process.stderr is not None
        process.stderr.close()
        remote.drop([marker])


@pytest.mark.corpus
def test_lod_serve_store_answers_construct_as_the_embedded_store(
    served: str, corpus_store: Store
) -> None:
    query = (
        "CONSTRUCT { ?record ?p ?o } WHERE { ?record a <https://www.ica.org/standards/RiC/"
        "ontology#Record> ; ?p ?o . FILTER(?record = <record/112095>) }"
    )
    response = requests.post(
        served + "/sparql", data={"query": query}, headers={"Accept": "text/turtle"}
    )
    assert response.status_code == 200
    got = RdfGraph().parse(data=response.text, format="turtle")
    expected = RdfGraph()
    answer = corpus_store.query(
        query, use_default_graph_as_union=True, base_iri="http://127.0.0.1:8000/"
    )
    for triple in answer:
        expected.parse(data=str(triple) + " .", format="nt")
    assert len(got) == len(expected) > 20
    assert isomorphic(got, expected)


def test_lod_serve_store_answers_ids_that_need_encoding(
    server: StoreServer, tmp_path: Path
) -> None:
    """Documents from the store of records whose IDs need encoding: found by their encoded
    graph names, and their pages link their other formats encoded (`oai%3A...ttl`, which a
    browser would otherwise read as a URI of scheme `oai:`)."""
    base = "http://encoded.test/"
    write_encoded_ids(tmp_path / "src", list(ENCODED_IDS))
    site = tmp_path / "site"
    build([tmp_path / "src"], site, Config(base_uri=base, progress=False), base_dir=tmp_path)
    push(site, remote_for(server))
    with running_server(site, store=server.query) as url:
        for record_id, segment in ENCODED_IDS.items():
            turtle = get_as_sent(f"{url}/doc/record/{segment}", "text/turtle")
            assert turtle.status_code == 200, record_id
            assert f"<{base}record/{segment}>" in turtle.text
            html = get_as_sent(f"{url}/doc/record/{segment}", "text/html")
            assert html.status_code == 200 and f"<h1>Record {record_id}</h1>" in html.text
            assert f'href="{segment}.ttl"' in html.text
