"""An external store's answers are held to the limits of untrusted RDF: a store that is
misconfigured, or not the one the publisher meant, cannot take `lod serve --store` down with a
huge graph or RDF/XML nested beyond any parser's stack. A real HTTP server on 127.0.0.1 plays
that store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from pyoxigraph import NamedNode

from lod.errors import StoreError
from lod.remote import Endpoints, RemoteStore, read_triples, store_session
from lod.sources.rdf import MAX_BYTES, MAX_DEPTH, MAX_TRIPLES

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
S = "http://x/record/a"


def ntriples(count: int) -> bytes:
    return "".join(f'<{S}> <http://x/p> "{n}" .\n' for n in range(count)).encode()


def nested_rdfxml(depth: int) -> bytes:
    opening = "".join(
        f'<p xmlns="http://x/"><rdf:Description rdf:about="{S}{n}">' for n in range(depth)
    )
    closing = "</rdf:Description></p>" * depth
    return (
        f'<rdf:RDF xmlns:rdf="{RDF}"><rdf:Description rdf:about="{S}">'
        f"{opening}{closing}</rdf:Description></rdf:RDF>"
    ).encode()


ANSWERS: dict[str, tuple[str, bytes]] = {
    "small": ("application/n-triples", ntriples(3)),
    "many": ("application/n-triples", ntriples(MAX_TRIPLES + 1)),
    "huge": ("text/turtle", b"# padding\n" * (MAX_BYTES // 10 + 1)),
    "deep": ("application/rdf+xml", nested_rdfxml(MAX_DEPTH)),
    "junk": ("text/turtle", b"<a> <b> ."),
}


class Store(BaseHTTPRequestHandler):
    """Answers a query by the answer named in the graph IRI (`.../deep`), and records the
    Accept header it was sent."""

    accepts: list[str] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        Store.accepts.append(self.headers.get("Accept", ""))
        name = next((n for n in ANSWERS if f"%2F{n}%3E" in body), "small")
        kind, data = ANSWERS[name]
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Store)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    server.shutdown()
    server.server_close()


def remote(url: str) -> RemoteStore:
    return RemoteStore(Endpoints(url), store_session(timeout=10, attempts=1))


def test_a_graph_within_the_limits_is_read(url: str) -> None:
    triples = remote(url).graph("http://x/small")
    assert sorted(t.object.value for t in triples) == ["0", "1", "2"]
    assert {t.subject for t in triples} == {NamedNode(S)}
    assert "application/rdf+xml" in Store.accepts[-1]


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("many", f"more than {MAX_TRIPLES:,} triples"),
        ("huge", f"over {MAX_BYTES:,} bytes"),
        ("deep", f"more than {MAX_DEPTH} deep"),
        ("junk", "unreadable graph"),
    ],
)
def test_a_graph_past_a_limit_is_refused_by_name(url: str, name: str, words: str) -> None:
    with pytest.raises(StoreError) as caught:
        remote(url).graph(f"http://x/{name}")
    assert f"<http://x/{name}>" in str(caught.value) and words in str(caught.value)


def test_a_streamed_construct_answer_is_never_rdfxml(url: str) -> None:
    """Answers streamed to a client are parsed as they come, which RDF/XML's nesting check
    cannot be: such an answer is refused, and it is not asked for."""
    query = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <http://x/deep> { ?s ?p ?o } }"
    with requests.post(url, data={"query": query}, stream=True, timeout=10) as response:
        with pytest.raises(StoreError, match="answered a graph query as application/rdf"):
            read_triples(response.raw, response, url)
    with requests.post(url, data={"query": "x/small>"}, stream=True, timeout=10) as response:
        assert [t.object.value for t in read_triples(response.raw, response, url)] == [
            "0",
            "1",
            "2",
        ]
