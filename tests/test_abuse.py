"""Abusive SPARQL (issue 7, Hostile requests): each query of a list meant to hurt a public
endpoint gets the right status within the time limit, the server keeps serving, and it sends
no request anywhere: a listener on loopback counts what reaches it, and a watcher samples the
server's processes' sockets for any connection it opened (a SYN to a non-routable address
would sit in SYN_SENT for seconds)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest
import requests

from tests.conftest import running_server
from tests.test_sparql import _Listener

TIME_LIMIT = 2.0
MARGIN = 4.0
"""Seconds beyond the query time limit for the answer to arrive on a loaded machine."""
NON_ROUTABLE = "http://10.255.255.1/sparql"
X = "PREFIX x: <http://example.org/> "
NESTED = 3000
CUT_AT_THE_ROW_LIMIT = {"cross product, CONSTRUCT"}
"""Queries a fast machine may answer within the time limit (CI got a 200 for this one on an
idle machine, where slower runs got 503): such an answer must be cut at the row limit and say
so, never be the whole cross product."""

# (name, query, allowed statuses); LISTENER is replaced by the loopback listener's URL.
ABUSIVE: list[tuple[str, str, set[int]]] = [
    (
        "cross product",
        "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }",
        {503},
    ),
    (
        "cross product, CONSTRUCT",
        "CONSTRUCT { ?a ?b ?o } WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?o }",
        {200, 503},
    ),
    (
        "cross product, ORDER BY",
        "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?i ?f",
        {503},
    ),
    (
        "deep property path, any link",
        X + "SELECT (COUNT(*) AS ?n) WHERE { ?s (!x:none)* ?o }",
        {200, 503},
    ),
    (
        "deep property path, both ways",
        X + "SELECT (COUNT(*) AS ?n) WHERE { ?s (^!x:none|!x:none)+ ?o }",
        {200, 503},
    ),
    (
        "property path sequence",
        X + "SELECT (COUNT(*) AS ?n) WHERE { ?s (!x:none)*/(!x:none)*/(!x:none)*/(!x:none)* ?o }",
        {200, 503},
    ),
    ("huge OFFSET", "SELECT * WHERE { ?s ?p ?o } OFFSET 1000000000000", {200}),
    ("OFFSET past 64 bits", "SELECT * WHERE { ?s ?p ?o } OFFSET 99999999999999999999999", {400}),
    ("huge LIMIT", "SELECT * WHERE { ?s ?p ?o } LIMIT 9223372036854775807", {200}),
    ("DESCRIBE everything", "DESCRIBE ?s WHERE { ?s ?p ?o }", {200, 503}),
    (
        "regex with nested quantifiers",
        'SELECT * WHERE { ?s ?p ?o FILTER(REGEX(STR(?o), "(a+)+$")) }',
        {200},
    ),
    (
        "string blowup",
        'SELECT (STRLEN(GROUP_CONCAT(STR(?o); separator="xxxxxxxxxx")) AS ?n) WHERE { ?s ?p ?o . ?a ?b ?c }',
        {200, 503},
    ),
    ("nested groups", "SELECT * WHERE " + "{" * NESTED + " ?s ?p ?o " + "}" * NESTED, {200, 400}),
    (
        "nested expression",
        "SELECT * WHERE { ?s ?p ?o FILTER(" + "(" * NESTED + "?o" + ")" * NESTED + ") }",
        {200, 400},
    ),
    ("chain of &&", "ASK { FILTER(" + "&&".join(["true"] * 20000) + ") }", {400}),
    ("chain of !", "ASK { FILTER(" + "!" * 20000 + "true) }", {400}),
    ("chain of +", "SELECT (" + "+".join(["1"] * 20000) + " AS ?x) {}", {400}),
    (
        "long property path sequence",
        "ASK { ?s " + "/".join(["<http://x/p>"] * 20000) + " ?o }",
        {400},
    ),
    (
        "long property path alternative",
        "ASK { ?s " + "|".join(["<http://x/p>"] * 20000) + " ?o }",
        {400},
    ),
    (
        "long path sequence under the cap",
        "ASK { ?s " + "/".join(["<http://x/p>"] * 2000) + " ?o }",
        {200, 503},
    ),
    ("SERVICE to loopback", "SELECT * WHERE { SERVICE <LISTENER/sparql> { ?s ?p ?o } }", {400}),
    (
        "SERVICE SILENT to loopback",
        "SELECT * WHERE { SERVICE SILENT <LISTENER/sparql> { ?s ?p ?o } }",
        {400},
    ),
    (
        "SERVICE to a non-routable address",
        f"SELECT * WHERE {{ SERVICE <{NON_ROUTABLE}> {{ ?s ?p ?o }} }}",
        {400},
    ),
    (
        "SERVICE in a subquery",
        "SELECT * WHERE { { SELECT * WHERE { SERVICE <LISTENER/s> { ?s ?p ?o } } } }",
        {400},
    ),
    (
        "SERVICE by variable",
        "SELECT * WHERE { VALUES ?e { <LISTENER/s> } SERVICE ?e { ?s ?p ?o } }",
        {400},
    ),
    ("FROM a remote graph", "SELECT * FROM <LISTENER/data.ttl> WHERE { ?s ?p ?o }", {400}),
    (
        "FROM NAMED a remote graph",
        "SELECT * FROM NAMED <LISTENER/data.ttl> WHERE { GRAPH ?g { ?s ?p ?o } }",
        {400},
    ),
    ("LOAD", "LOAD <LISTENER/data.ttl>", {400, 403}),
    (
        "LOAD into a graph",
        f"LOAD SILENT <{NON_ROUTABLE}> INTO GRAPH <http://example.org/g>",
        {400, 403},
    ),
    ("INSERT DATA", "INSERT DATA { <http://x/s> <http://x/p> <http://x/o> }", {400, 403}),
    ("DELETE WHERE", "DELETE WHERE { ?s ?p ?o }", {400, 403}),
    ("DROP ALL", "DROP ALL", {400, 403}),
    ("update hidden after a query", "ASK {} ; CLEAR ALL", {400, 403}),
]


class Watcher:
    """Samples the sockets of a process and its children; records any connection one of them
    opened (a local port other than the server's own)."""

    def __init__(self, pid: int, port: int) -> None:
        self.root = psutil.Process(pid)
        self.port = port
        self.outbound: list[str] = []
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                processes = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for process in processes:
                try:
                    connections = process.net_connections(kind="inet")
                except psutil.NoSuchProcess:
                    continue
                for c in connections:
                    if c.raddr and c.laddr.port != self.port:
                        self.outbound.append(f"{process.pid}: {c.raddr} {c.status}")
            self.samples += 1
            self._stop.wait(0.01)

    @contextmanager
    def watching(self) -> Iterator[Watcher]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()


def server_pid(url: str) -> int:
    port = int(url.rsplit(":", 1)[1])
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "serve" in cmdline and str(port) in cmdline:
            return process.pid
    raise AssertionError(f"no lod serve process on port {port}")


@pytest.fixture(scope="module")
def abused(records_site: Path) -> Iterator[tuple[str, _Listener, Watcher]]:
    settings = {"query_timeout": str(TIME_LIMIT), "client_rate": "0"}
    with running_server(records_site, **settings) as url:
        listener = _Listener()
        watcher = Watcher(server_pid(url), int(url.rsplit(":", 1)[1]))
        with watcher.watching():
            yield url, listener, watcher
        listener.close()
        assert watcher.samples > 10, "the watcher looked"
        assert watcher.outbound == [], watcher.outbound
        assert listener.hits == []


@pytest.mark.parametrize(("name", "query", "allowed"), ABUSIVE, ids=[a[0] for a in ABUSIVE])
@pytest.mark.parametrize("route", ["get", "form", "direct"])
def test_abusive_query(
    abused: tuple[str, _Listener, Watcher], name: str, query: str, allowed: set[int], route: str
) -> None:
    url, listener, watcher = abused
    text = query.replace("LISTENER", listener.url)
    if route == "get" and len(quote(text)) > 8192:
        allowed = {414, 400}  # ours, or uvicorn's own 400 for a request line over its limit
    started = time.monotonic()
    r = ask(url, text, route)
    took = time.monotonic() - started
    assert r.status_code in allowed, (name, route, r.status_code, r.text[:300])
    assert took < TIME_LIMIT + MARGIN, (name, route, took)
    assert "Traceback" not in r.text and "pyoxigraph" not in r.text
    if r.status_code == 503:
        assert r.headers["Retry-After"]
    if r.status_code == 200 and name in CUT_AT_THE_ROW_LIMIT:
        assert r.headers["SPARQL-Result-Truncated"].startswith("true"), r.headers
    assert requests.get(url + "/robots.txt", timeout=5).status_code == 200, "still serving"
    assert listener.hits == [] and watcher.outbound == []


def ask(url: str, query: str, route: str) -> requests.Response:
    accept = {"Accept": "application/sparql-results+json, text/turtle;q=0.9"}
    if route == "get":
        return requests.get(url + "/sparql", params={"query": query}, headers=accept, timeout=30)
    if route == "form":
        return requests.post(url + "/sparql", data={"query": query}, headers=accept, timeout=30)
    direct = {**accept, "Content-Type": "application/sparql-query"}
    return requests.post(url + "/sparql", data=query.encode(), headers=direct, timeout=30)


@pytest.mark.parametrize("route", ["form", "direct", "update", "chunked"])
def test_ten_megabyte_bodies(abused: tuple[str, _Listener, Watcher], route: str) -> None:
    url, _, _ = abused
    body = b"ASK {} #" + b"x" * (10 << 20)
    kinds = {
        "form": "application/x-www-form-urlencoded",
        "direct": "application/sparql-query",
        "update": "application/sparql-update",
        "chunked": "application/sparql-query",
    }
    started = time.monotonic()
    status = post_raw(url, kinds[route], b"query=" + body if route == "form" else body, route)
    assert status.startswith(b"HTTP/1.1 413 "), status
    assert time.monotonic() - started < MARGIN
    assert requests.get(url + "/robots.txt", timeout=5).status_code == 200


def post_raw(url: str, kind: str, body: bytes, route: str) -> bytes:
    """POST `body` over a plain socket, declared by Content-Length or sent chunked, and return
    the status line: the server may answer and close before the client has sent it all."""
    host, port = url.removeprefix("http://").split(":")
    framing = (
        b"Transfer-Encoding: chunked" if route == "chunked" else b"Content-Length: %d" % len(body)
    )
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            b"POST /sparql HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\n%s\r\n\r\n"
            % (host.encode(), kind.encode(), framing)
        )
        with contextlib.suppress(OSError):
            for offset in range(0, len(body), 1 << 16):
                piece = body[offset : offset + (1 << 16)]
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if route == "chunked" else piece)
            if route == "chunked":
                sock.sendall(b"0\r\n\r\n")
        return sock.makefile("rb").readline()
