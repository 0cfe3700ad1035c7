"""The SPARQL endpoint on a real `lod serve` process: protocol routes, result formats read back by
rdflib's parsers, the service description, and every hardening rule of a public endpoint."""

from __future__ import annotations

import http.server
import io
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from pyld import jsonld
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS
from rdflib.query import Result

from lod.config import Config
from lod.publish.site import build
from tests.conftest import BASE, RECORDS, ROOT, running_server

TITLE_QUERY = 'SELECT ?title WHERE { ?r dcterms:identifier "112095" ; dcterms:title ?title }'
SEED_TITLE = "Telegram from Mao Zedong to I.V. Stalin"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"


def sparql(
    url: str, query: str, accept: str = "application/sparql-results+json", **params: str
) -> requests.Response:
    return requests.get(
        url + "/sparql", params={"query": query, **params}, headers={"Accept": accept}, timeout=30
    )


def rows(response: requests.Response, fmt: str = "json") -> list[tuple[object, ...]]:
    assert response.status_code == 200, response.text
    return [tuple(row) for row in Result.parse(io.BytesIO(response.content), format=fmt)]


def count(url: str) -> int:
    return int(rows(sparql(url, COUNT))[0][0])  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("accept", "fmt", "media"),
    [
        ("application/sparql-results+json", "json", "application/sparql-results+json"),
        ("application/sparql-results+xml", "xml", "application/sparql-results+xml"),
        ("text/csv", "csv", "text/csv"),
        ("text/tab-separated-values", "tsv", "text/tab-separated-values"),
        ("application/json", "json", "application/json"),
        ("*/*", "json", "application/sparql-results+json"),
        ("", "json", "application/sparql-results+json"),
    ],
)
def test_select_in_every_result_format(
    records_server: str, accept: str, fmt: str, media: str
) -> None:
    r = sparql(records_server, TITLE_QUERY, accept)
    assert r.headers["Content-Type"] == media + "; charset=utf-8"
    (title,) = rows(r, fmt)[0]
    assert str(title).startswith(SEED_TITLE)
    if fmt in ("json", "xml", "tsv"):
        assert title == Literal(str(title), lang="en")
    assert r.headers["SPARQL-Result-Limit"] == "100000"


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_format_parameter(records_server: str, fmt: str) -> None:
    r = sparql(records_server, TITLE_QUERY, "text/html", format=fmt)
    assert str(rows(r, fmt)[0][0]).startswith(SEED_TITLE)


def test_three_routes_give_the_same_answer(records_server: str) -> None:
    by_get = sparql(records_server, TITLE_QUERY)
    by_form = requests.post(
        records_server + "/sparql",
        data={"query": TITLE_QUERY},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    by_body = requests.post(
        records_server + "/sparql",
        data=TITLE_QUERY.encode(),
        headers={
            "Content-Type": "application/sparql-query",
            "Accept": "application/sparql-results+json",
        },
        timeout=30,
    )
    assert rows(by_get) == rows(by_form) == rows(by_body)
    assert len(rows(by_get)) == 1


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_ask(records_server: str, fmt: str) -> None:
    yes = sparql(records_server, 'ASK { ?r dcterms:identifier "112095" }', format=fmt)
    no = sparql(records_server, 'ASK { ?r dcterms:identifier "no such id" }', format=fmt)
    if fmt in ("json", "xml"):
        assert Result.parse(io.BytesIO(yes.content), format=fmt).askAnswer is True
        assert Result.parse(io.BytesIO(no.content), format=fmt).askAnswer is False
    else:
        assert yes.text.split()[-1] == "true" and no.text.split()[-1] == "false"


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/rdf+xml", "xml"),
        ("application/ld+json", "json-ld"),
    ],
)
def test_construct_and_describe(records_server: str, accept: str, rdflib_format: str) -> None:
    construct = (
        "CONSTRUCT { ?r dcterms:title ?t } WHERE { ?r dcterms:identifier ?id ; dcterms:title ?t }"
    )
    r = sparql(records_server, construct, accept)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith(accept)
    if rdflib_format == "json-ld":
        nquads = jsonld.to_rdf(r.json(), {"format": "application/n-quads"})
        g = Graph().parse(data=nquads, format="nt")
    else:
        g = Graph().parse(data=r.text, format=rdflib_format)
    seed = URIRef(BASE + "record/112095")
    assert str(g.value(seed, DCTERMS.title)).startswith(SEED_TITLE)
    assert len(g) == 4  # one title per record of records/
    described = Graph().parse(
        data=sparql(records_server, f"DESCRIBE <{seed}>", "text/turtle").text, format="turtle"
    )
    assert (seed, DCTERMS.identifier, Literal("112095")) in described


def test_service_description_and_query_page(records_server: str) -> None:
    r = requests.get(records_server + "/sparql", headers={"Accept": "text/turtle"}, timeout=10)
    g = Graph().parse(data=r.text, format="turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    assert (None, URIRef(sd + "endpoint"), URIRef(records_server + "/sparql")) in g
    assert (None, URIRef(sd + "supportedLanguage"), URIRef(sd + "SPARQL11Query")) in g
    formats = set(g.objects(None, URIRef(sd + "resultFormat")))
    assert URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in formats
    page = requests.get(records_server + "/sparql", headers={"Accept": "text/html"}, timeout=10)
    assert page.headers["Content-Type"].startswith("text/html") and "<textarea" in page.text
    # lod refuses remote graphs, so it must not claim to fetch them
    assert URIRef(sd + "DereferencesURIs") not in set(g.objects(None, URIRef(sd + "feature")))


def test_the_html_answer_of_sparql_varies_by_accept(records_server: str) -> None:
    """/sparql answers a browser with the query page and a client with results, at one URL:
    a shared cache must know the answer depends on Accept."""
    for params in ({}, {"query": "ASK {}"}):
        page = requests.get(
            records_server + "/sparql",
            params=params,
            headers={"Accept": "text/html,*/*;q=0.8"},
            timeout=10,
        )
        assert page.headers["Content-Type"].startswith("text/html")
        assert "Accept" in {v.strip() for v in page.headers["Vary"].split(",")}, params


GRAPH_QUERY = (
    "CONSTRUCT { ?r dcterms:title ?t } WHERE { ?r dcterms:identifier ?i ; dcterms:title ?t }"
)


@pytest.mark.parametrize(
    ("formats", "media", "rdflib_format"),
    [
        # SPARQLWrapper's defaults for a CONSTRUCT: format=xml (with output= and results=)
        (["xml"], "application/rdf+xml", "xml"),
        # SPARQLWrapper's RDFXML: both spellings at once
        (["rdf+xml", "application/rdf+xml"], "application/rdf+xml", "xml"),
        (["json"], "application/ld+json", "json-ld"),
        (["unknown", "turtle"], "text/turtle", "turtle"),
    ],
)
def test_format_parameter_of_a_graph_query(
    records_server: str, formats: list[str], media: str, rdflib_format: str
) -> None:
    r = requests.get(
        records_server + "/sparql",
        params=[("query", GRAPH_QUERY), *(("format", f) for f in formats), ("output", "xml")],
        headers={"Accept": "application/rdf+xml"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == media
    if rdflib_format == "json-ld":
        nquads = jsonld.to_rdf(r.json(), {"format": "application/n-quads"})
        g = Graph().parse(data=nquads, format="nt")
    else:
        g = Graph().parse(data=r.content, format=rdflib_format)
    assert any(str(o).startswith(SEED_TITLE) for o in g.objects(None, DCTERMS.title))


def test_format_parameter_the_endpoint_cannot_write(records_server: str) -> None:
    r = sparql(records_server, TITLE_QUERY, format="rdf+xml")
    assert r.status_code == 406 and "text/csv" in r.text


RECORD_GRAPH = BASE + "doc/record/112095"
IN_NAMED = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


def test_the_protocols_dataset_is_the_graphs_named_and_only_those(records_server: str) -> None:
    """SPARQL 1.1 Protocol 2.1.4: given default-graph-uri or named-graph-uri, the dataset is
    made of the graphs named; a half not named is empty, as with FROM or FROM NAMED alone."""

    def n(query: str, **params: str) -> int:
        return int(rows(sparql(records_server, query, **params))[0][0])  # type: ignore[call-overload]

    in_record = n(COUNT, **{"default-graph-uri": RECORD_GRAPH})
    assert 20 < in_record < count(records_server)
    assert n(IN_NAMED, **{"default-graph-uri": RECORD_GRAPH}) == 0
    assert n(COUNT, **{"named-graph-uri": RECORD_GRAPH}) == 0
    assert n(IN_NAMED, **{"named-graph-uri": RECORD_GRAPH}) == in_record
    # the same dataset named in the query
    assert n(COUNT.replace("WHERE", f"FROM <{RECORD_GRAPH}> WHERE")) == in_record
    assert n(IN_NAMED.replace("WHERE", f"FROM <{RECORD_GRAPH}> WHERE")) == 0
    assert n(COUNT.replace("WHERE", f"FROM NAMED <{RECORD_GRAPH}> WHERE")) == 0
    assert n(IN_NAMED.replace("WHERE", f"FROM NAMED <{RECORD_GRAPH}> WHERE")) == in_record


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"default-graph-uri": "not an iri"}, "default-graph-uri 'not an iri' is not an absolute"),
        ({"named-graph-uri": "<x>"}, "named-graph-uri '<x>' is not an absolute"),
        ({"default-graph-uri": ""}, "default-graph-uri '' is not an absolute"),
        ({"named-graph-uri": "doc/record/112095"}, "is not an absolute IRI"),
        ({"query": "SELECT * FROM nope:x WHERE { ?s ?p ?o }"}, "prefix nope: of FROM"),
    ],
)
def test_a_graph_that_is_no_iri_is_the_clients_error(
    records_server: str, params: dict[str, str], says: str
) -> None:
    r = requests.get(records_server + "/sparql", params={"query": "ASK {}", **params}, timeout=30)
    assert r.status_code == 400 and says in r.text, r.text
    assert "Traceback" not in r.text


def test_syntax_error_gives_position_not_internals(records_server: str) -> None:
    r = sparql(records_server, "SELECT * WHERE { ?s ?p }")
    assert r.status_code == 400
    assert "1:" in r.text and "Traceback" not in r.text and "pyoxigraph" not in r.text


# Hardening ---------------------------------------------------------------------------------


class _Listener:
    """An HTTP listener on 127.0.0.1 that counts the requests it gets (it must get none)."""

    def __init__(self) -> None:
        hits: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                self.send_response(200)
                self.end_headers()

            do_POST = do_GET

            def log_message(self, *args: object) -> None:
                return

        self.hits = hits
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[_Listener]:
    server = _Listener()
    yield server
    server.close()


def test_federation_is_refused_before_execution(records_server: str, listener: _Listener) -> None:
    target = listener.url + "/sparql"
    queries = [
        f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"select * where {{ service silent <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SeRvIcE # a comment\n <{target}> {{ ?s ?p ?o }} }}",
        f"PREFIX remote: <{listener.url}/> SELECT * WHERE {{ SERVICE remote:sparql {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o SERVICE <{target}> {{ ?s ?p ?o }} }} LIMIT 1",
        "SELECT * WHERE { SERVICE <http://10.255.255.1/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } VALUES ?endpoint { <" + target + "> } }",
    ]
    for query in queries:
        r = sparql(records_server, query)
        assert r.status_code == 400 and "SERVICE" in r.text, query
        form = requests.post(records_server + "/sparql", data={"query": query}, timeout=10)
        assert form.status_code == 400, query
    time.sleep(0.2)
    assert listener.hits == []


def test_service_inside_strings_iris_and_comments_is_fine(records_server: str) -> None:
    query = (
        "# SERVICE <http://127.0.0.1:9/>\n"
        'SELECT ?x WHERE { VALUES ?x { "SERVICE <http://127.0.0.1:9/>" <http://example.org/SERVICE> } '
        "?service_var <http://example.org/service> ?x } LIMIT 1"
    )
    assert sparql(records_server, query).status_code == 200


UPDATE_FORM = "application/sparql-update"
READ_ONLY_CASES = [
    ("get", {"params": {"update": "CLEAR ALL"}}),
    ("post", {"data": {"update": "CLEAR ALL"}}),
    ("post", {"data": b"CLEAR ALL", "headers": {"Content-Type": UPDATE_FORM}}),
    ("post", {"data": {"query": "INSERT DATA { <http://x/s> <http://x/p> <http://x/o> }"}}),
    ("post", {"data": {"query": "DELETE WHERE { ?s ?p ?o }"}}),
    ("get", {"params": {"query": "DROP ALL"}}),
    ("get", {"params": {"query": "PREFIX x: <http://x/> CLEAR DEFAULT"}}),
    ("get", {"params": {"query": "LOAD <LISTENER/data.ttl>"}}),
    ("post", {"data": b"LOAD <LISTENER/data.ttl>", "headers": {"Content-Type": UPDATE_FORM}}),
    ("put", {"data": b"ASK {}"}),
    ("delete", {}),
]


@pytest.mark.parametrize(("method", "kwargs"), READ_ONLY_CASES)
def test_read_only_by_every_route(
    records_server: str, listener: _Listener, method: str, kwargs: dict[str, Any]
) -> None:
    before = count(records_server)
    resolved = {key: _with_listener(value, listener.url) for key, value in kwargs.items()}
    r = requests.request(method, records_server + "/sparql", timeout=10, **resolved)
    assert 400 <= r.status_code < 500, (method, kwargs, r.status_code)
    assert count(records_server) == before
    assert listener.hits == []


def _with_listener(value: Any, url: str) -> Any:
    if isinstance(value, dict):
        return {k: _with_listener(v, url) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.replace(b"LISTENER", url.encode())
    return value.replace("LISTENER", url) if isinstance(value, str) else value


def test_body_and_url_limits(records_server: str) -> None:
    big = requests.post(
        records_server + "/sparql",
        data=b"ASK {} #" + b"x" * (1 << 20),
        headers={"Content-Type": "application/sparql-query"},
        timeout=30,
    )
    assert big.status_code == 413
    long_get = sparql(records_server, "ASK {} #" + "x" * 9000)
    assert long_get.status_code == 414 and "POST" in long_get.text
    long_post = requests.post(
        records_server + "/sparql",
        data="ASK {} #" + "x" * 9000,
        headers={"Content-Type": "application/sparql-query"},
        timeout=30,
    )
    assert long_post.status_code == 200


def test_row_cap_is_stated(records_site: Path) -> None:
    with running_server(records_site, query_row_limit="10") as url:
        r = sparql(url, "SELECT * WHERE { ?s ?p ?o }")
        assert len(rows(r)) == 10
        assert r.headers["SPARQL-Result-Limit"] == "10"
        assert r.headers["SPARQL-Result-Truncated"].startswith("true")
        graph = sparql(url, "CONSTRUCT WHERE { ?s ?p ?o }", "application/n-triples")
        assert len(graph.text.strip().splitlines()) == 10
        small = sparql(url, "SELECT * WHERE { ?s ?p ?o } LIMIT 3")
        assert len(rows(small)) == 3 and "SPARQL-Result-Truncated" not in small.headers


def test_a_large_answer_arrives_whole(records_site: Path) -> None:
    # Over a megabyte the server reads the worker's answer off the event loop, in a thread.
    with running_server(records_site, query_row_limit="20000") as url:
        r = requests.get(
            url + "/sparql",
            params={"query": "SELECT * WHERE { ?s ?p ?o . ?a ?b ?c }"},
            headers={"Accept": "application/sparql-results+json", "Accept-Encoding": "identity"},
            timeout=60,
        )
        assert len(r.content) > 1 << 20
        assert len(r.json()["results"]["bindings"]) == 20000
        assert r.headers["SPARQL-Result-Truncated"].startswith("true")
        assert str(rows(sparql(url, TITLE_QUERY))[0][0]).startswith(SEED_TITLE)


def test_runaway_query_is_stopped_and_the_server_recovers(records_site: Path) -> None:
    with running_server(records_site, query_timeout="2", query_workers="1") as url:
        started = time.monotonic()
        r = sparql(url, RUNAWAY)
        took = time.monotonic() - started
        assert r.status_code == 503 and "time limit" in r.text and r.headers["Retry-After"]
        assert took < 6
        started = time.monotonic()
        assert str(rows(sparql(url, TITLE_QUERY))[0][0]).startswith(SEED_TITLE)
        assert time.monotonic() - started < 5
        assert (
            requests.get(url + "/record/112095", allow_redirects=False, timeout=5).status_code
            == 303
        )


def test_documents_are_served_while_a_query_runs(records_site: Path) -> None:
    with running_server(records_site, query_timeout="3", query_workers="1") as url:
        with ThreadPoolExecutor(2) as pool:
            slow = pool.submit(sparql, url, RUNAWAY)
            time.sleep(0.3)
            started = time.monotonic()
            doc = requests.get(url + "/doc/record/112095.ttl", timeout=5)
            assert doc.status_code == 200 and time.monotonic() - started < 1
            assert slow.result().status_code == 503


def test_concurrent_clients(records_server: str) -> None:
    expected = count(records_server)

    def one(i: int) -> bool:
        if i % 3 == 0:
            return count(records_server) == expected
        if i % 3 == 1:
            return str(rows(sparql(records_server, TITLE_QUERY))[0][0]).startswith(SEED_TITLE)
        return requests.get(records_server + "/doc/record/112095.nt", timeout=10).status_code == 200

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(one, range(48)))


def test_rebuild_never_shows_half_of_the_new_data(tmp_path: Path) -> None:
    """Readers hammer the endpoint while a rebuild with one more record swaps in: every answer
    is the old count or the new one, never an error or a mix."""
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(RECORDS / "112095.txt", one / "112095.txt")
    two = tmp_path / "two"
    shutil.copytree(one, two)
    shutil.copy(RECORDS / "examples" / "example-scrape.csv", two / "extra.csv")
    out = tmp_path / "site"
    config = Config(base_uri=BASE, progress=False, workers=1)
    build([one], out, config, base_dir=ROOT)
    with running_server(out) as url:
        old = count(url)
        seen: set[int] = set()
        errors: list[str] = []
        stop = threading.Event()

        def reader() -> None:
            while not stop.is_set():
                r = sparql(url, COUNT)
                if r.status_code != 200:
                    errors.append(r.text)
                else:
                    seen.add(int(rows(r)[0][0]))  # type: ignore[call-overload]
                doc = requests.get(url + "/doc/record/112095.ttl", timeout=10)
                if doc.status_code != 200:
                    errors.append(f"doc {doc.status_code}")

        threads = [threading.Thread(target=reader) for _ in range(3)]
        for thread in threads:
            thread.start()
        build([two], out, config, base_dir=ROOT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(seen) < 2:
            time.sleep(0.1)
        new = count(url)
        stop.set()
        for thread in threads:
            thread.join()
    assert new > old and errors == []
    assert seen <= {old, new} and new in seen


def test_lod_query_command(records_site: Path) -> None:
    from click.testing import CliRunner

    from lod.cli import main

    runner = CliRunner()
    site = ["--site", str(records_site)]
    tsv = runner.invoke(main, ["query", TITLE_QUERY, *site])
    assert tsv.exit_code == 0 and tsv.output.splitlines()[0] == "?title"
    assert tsv.output.splitlines()[1].startswith(f'"{SEED_TITLE}')
    csv = runner.invoke(main, ["query", TITLE_QUERY, "--format", "csv", *site])
    assert csv.output.splitlines()[:1] == ["title"]
    assert csv.output.splitlines()[1].startswith(f'"{SEED_TITLE}')  # quoted: it holds commas
    ttl = runner.invoke(
        main, ["query", "CONSTRUCT WHERE { <record/112095> dcterms:identifier ?id }", *site]
    )
    g = Graph().parse(data=ttl.output, format="turtle")
    assert list(g.objects(URIRef(BASE + "record/112095"), DCTERMS.identifier)) == [
        Literal("112095")
    ]
    assert "@prefix schema:" not in ttl.output  # only the prefixes the answer uses
    bad = runner.invoke(main, ["query", "SELECT * {", *site])
    assert bad.exit_code == 1 and "error at 1:" in bad.output
    wrong = runner.invoke(main, ["query", TITLE_QUERY, "--format", "turtle", *site])
    assert wrong.exit_code == 1 and "json, xml, csv, tsv" in wrong.output
    missing = runner.invoke(main, ["query", "ASK {}", "--site", str(records_site / "nope")])
    assert missing.exit_code == 1 and "not a lod build" in missing.output


# Keyword search ----------------------------------------------------------------------------


def test_search_api_and_page(records_server: str) -> None:
    r = requests.get(
        records_server + "/search", params={"q": "Filippov", "format": "json"}, timeout=10
    )
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    data = r.json()
    by_uri = {hit["uri"]: hit for hit in data["hits"]}
    assert data["total"] == len(data["hits"]) >= 2
    assert by_uri[BASE + "agent/joseph-stalin"]["kind"] == "agent"  # FILIPPOV is his code name
    seed = by_uri[BASE + "record/112095"]
    assert seed["href"] == "/record/112095" and seed["kind"] == "record"
    assert "filippov" in seed["snippet"].lower() and "<mark>" in seed["snippet_html"]
    by_accept = requests.get(
        records_server + "/search",
        params={"q": "Filippov"},
        headers={"Accept": "application/json"},
        timeout=10,
    )
    assert by_accept.json()["hits"] == data["hits"]
    page = requests.get(
        records_server + "/search",
        params={"q": "Filippov"},
        headers={"Accept": "text/html"},
        timeout=10,
    )
    assert (
        page.status_code == 200
        and '<a href="/record/112095">' in page.text
        and "<mark>" in page.text
    )
    agents = requests.get(
        records_server + "/search",
        params={"q": "Stalin", "kind": "agent", "format": "json"},
        timeout=10,
    ).json()
    assert agents["hits"] and {h["kind"] for h in agents["hits"]} == {"agent"}


@pytest.mark.parametrize(
    "q", ["<script>alert(1)</script>", '"unbalanced', "NEAR(", "*", "-", "a" * 5000, ""]
)
def test_search_survives_hostile_words(records_server: str, q: str) -> None:
    page = requests.get(
        records_server + "/search", params={"q": q}, headers={"Accept": "text/html"}, timeout=10
    )
    assert page.status_code == 200 and "<script>alert(1)" not in page.text
    data = requests.get(
        records_server + "/search", params={"q": q, "format": "json"}, timeout=10
    ).json()
    assert isinstance(data["total"], int)


def test_search_bad_parameters(records_server: str) -> None:
    kind = requests.get(records_server + "/search", params={"q": "x", "kind": "nope"}, timeout=10)
    offset = requests.get(
        records_server + "/search", params={"q": "x", "offset": "ten"}, timeout=10
    )
    assert kind.status_code == 400 and offset.status_code == 400


def test_keyword_search_joins_graph_patterns_in_sparql(records_server: str) -> None:
    query = """SELECT ?record ?id ?score WHERE {
      SERVICE lod:search { ?record lod:query "Filippov" ; lod:score ?score }
      ?record dcterms:identifier ?id .
    } ORDER BY DESC(?score)"""
    found = rows(sparql(records_server, query))
    assert found[0][0] == URIRef(BASE + "record/112095") and str(found[0][1]) == "112095"
    assert float(found[0][2]) > 0  # type: ignore[arg-type]
    full_iri = query.replace("SERVICE lod:search", f"SERVICE <{BASE}vocab/lod#search>")
    assert rows(sparql(records_server, full_iri)) == found
    nothing = query.replace("Filippov", "zzzxqv")
    assert rows(sparql(records_server, nothing)) == []
    bad = query.replace('lod:query "Filippov"', "lod:query ?words")
    assert sparql(records_server, bad).status_code == 400


def test_curated_queries_answer_the_same_over_http(corpus_server: str, corpus_site: Path) -> None:
    """The endpoint (prefixes, base IRI, worker processes) answers each curated query exactly as
    the store does in-process; tests/test_curated.py checks those answers against the sources."""
    from pyoxigraph import QueryResultsFormat, QuerySolutions, Store

    from lod.curated import load_curated

    store = Store.read_only(str(corpus_site / "store"))
    for query in load_curated():
        direct = store.query(query.sparql, use_default_graph_as_union=True)
        assert isinstance(direct, QuerySolutions)
        expected = Result.parse(
            io.BytesIO(direct.serialize(format=QueryResultsFormat.JSON)), format="json"
        )
        served = rows(sparql(corpus_server, query.sparql))
        assert served == [tuple(row) for row in expected], query.slug


def test_service_description_with_a_hostile_host_header(records_server: str) -> None:
    r = requests.get(
        records_server + "/sparql",
        headers={"Accept": "text/turtle", "Host": "evil>host<x"},
        timeout=10,
    )
    assert r.status_code < 500
    if r.status_code == 200:
        assert "<http://127.0.0.1/sparql>" in r.text or "127.0.0.1/sparql" in r.text
