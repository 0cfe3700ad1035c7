"""An external SPARQL 1.1 store, over the standard protocols only, so any server will do.

Three endpoints, as the W3C recommendations name them: the query endpoint (SPARQL 1.1
Protocol), the update endpoint (same protocol, `update=` form posts) and the Graph Store HTTP
Protocol endpoint (`?graph=IRI`; GET, PUT, POST, DELETE). Oxigraph, Virtuoso, Fuseki, GraphDB
and Neptune each give them different paths, so each is its own URL. Every write lod makes is
idempotent (PUT a graph, DELETE a graph, DROP + INSERT DATA of a whole graph), so a write that
failed half-way is simply sent again.

`answer_remote` is the read-only path of `lod serve --store`: the same checks as the embedded
store (lod.sparql: no update, no SERVICE but lod:search, the union default graph), plus
refusing Virtuoso's extensions that reach outside the data (DEFINE pragmas, bif: and sql:
functions), a deadline on the whole answer and the row cap applied while the answer streams in.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import requests
import requests.auth
from pyoxigraph import (
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Triple,
    parse,
    parse_query_results,
)

from lod.capped import NATIVE_WRITERS, ResultWriter, cap_query
from lod.errors import (
    ConfigError,
    QueryError,
    QueryRefused,
    QuerySyntaxError,
    QueryTimeout,
    QueryUnavailable,
    StoreError,
    TooLargeError,
)
from lod.harvest.http import Politeness, PoliteSession
from lod.model import Origin
from lod.sources.rdf import MAX_BYTES, parse_graph
from lod.sparql import (
    BOOLEAN_WRITERS,
    QUERY_FORMS,
    Analysis,
    Answer,
    Search,
    Token,
    dataset_iris,
    not_in_dataset,
    prepare_query,
    tokenize,
    write_answer,
)

RESULTS_JSON = "application/sparql-results+json"
GRAPH_TYPES = {
    "application/n-triples": RdfFormat.N_TRIPLES,
    "text/plain": RdfFormat.N_TRIPLES,
    "text/turtle": RdfFormat.TURTLE,
    "application/x-turtle": RdfFormat.TURTLE,
    "application/rdf+xml": RdfFormat.RDF_XML,
}
"""What a store may answer a CONSTRUCT with (Virtuoso names N-Triples text/plain)."""
STREAM_TYPES = {kind: f for kind, f in GRAPH_TYPES.items() if f is not RdfFormat.RDF_XML}
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"
"""A resource's graph, read whole and held to the limits of untrusted RDF (`parse_graph`)."""
STREAM_ACCEPT = "application/n-triples, text/turtle;q=0.9"
"""A CONSTRUCT answer, parsed as it streams to the client under the row and time limits: only
formats whose parser needs no other limit. RDF/XML's nesting can be measured only whole."""
UPLOAD_TYPE = "text/turtle"
"""N-Triples are Turtle, and every Graph Store implementation reads Turtle (Virtuoso 7 does
not know the N-Triples media type)."""
EXTENSION_PREFIXES = ("bif", "sql")
"""Virtuoso's built-in prefixes for its SQL functions, some of which read files or the web."""
PROLOGUE = ("PREFIX", "BASE")
UNAVAILABLE = "the store behind this endpoint cannot answer now; try again shortly"


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where a store answers: `query` always; `update` and `graph_store` for writes."""

    query: str
    update: str = ""
    graph_store: str = ""


AUTH_SCHEMES: dict[str, Callable[[str, str], requests.auth.AuthBase]] = {
    "basic": requests.auth.HTTPBasicAuth,
    "digest": requests.auth.HTTPDigestAuth,
}
"""HTTP authentication schemes stores use (Virtuoso's /sparql-auth asks for digest)."""


def store_session(
    user: str = "",
    password: str = "",
    scheme: str = "basic",
    *,
    timeout: float = 60.0,
    attempts: int = 5,
) -> PoliteSession:
    """A session for a store the publisher runs: no spacing between requests, retries with
    backoff on 5xx, 429 and dropped connections, credentials when given."""
    if scheme not in AUTH_SCHEMES:
        raise ConfigError(f"store_auth must be one of {', '.join(AUTH_SCHEMES)}, not {scheme!r}")
    auth = AUTH_SCHEMES[scheme](user, password) if user else None
    return PoliteSession(
        Politeness(interval=0.0, timeout=timeout, attempts=attempts, backoff=1.0, max_wait=60.0),
        error=StoreError,
        again="check the store's URL, that it runs, and the credentials, then push again",
        auth=auth,
    )


class RemoteStore:
    """A SPARQL store reached over HTTP; writes need `update` or `graph_store` endpoints."""

    def __init__(self, endpoints: Endpoints, session: PoliteSession) -> None:
        self.endpoints = endpoints
        self.session = session

    # --- reading --------------------------------------------------------------------------

    def select(self, text: str) -> list[dict[str, Any]]:
        """A SELECT query's solutions as dicts of pyoxigraph terms (small answers only)."""
        response = self._query(text, RESULTS_JSON)
        try:
            result = parse_query_results(response.content, QueryResultsFormat.JSON)
        except SyntaxError as exc:
            raise StoreError(f"{self.endpoints.query}: unreadable SPARQL results: {exc}") from exc
        if not isinstance(result, QuerySolutions):
            raise StoreError(f"{self.endpoints.query}: answered a SELECT query with a boolean")
        names = [v.value for v in result.variables]
        return [{name: row[name] for name in names} for row in result]

    def ask(self, text: str) -> bool:
        response = self._query(text, RESULTS_JSON)
        try:
            result = parse_query_results(response.content, QueryResultsFormat.JSON)
        except SyntaxError as exc:
            raise StoreError(f"{self.endpoints.query}: unreadable SPARQL results: {exc}") from exc
        return boolean(result)

    def graph(self, iri: str) -> list[Triple]:
        """The triples of one named graph (by a CONSTRUCT query: only the query endpoint is
        needed to serve documents)."""
        text = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"
        url = self.endpoints.query
        with self._query(text, GRAPH_ACCEPT, stream=True) as response:
            rdf_format = graph_format(response, url, GRAPH_TYPES)
            data = bytearray()
            for chunk in response.iter_content(1 << 16):
                data += chunk
                if len(data) > MAX_BYTES:
                    raise StoreError(f"{url}: the graph <{iri}> is over {MAX_BYTES:,} bytes")
        try:
            return parse_graph(bytes(data), rdf_format, origin=Origin(url), record_id=iri)
        except TooLargeError as exc:
            raise StoreError(f"{url}: the graph <{iri}> is refused: {exc.message}") from exc
        except (SyntaxError, ValueError) as exc:
            raise StoreError(f"{url}: unreadable graph <{iri}>: {exc}") from exc

    def _query(self, text: str, accept: str, stream: bool = False) -> requests.Response:
        return self.session.request(
            "POST",
            self.endpoints.query,
            data={"query": text},
            headers={"Accept": accept},
            stream=stream,
        )

    # --- writing --------------------------------------------------------------------------

    def replace(self, graphs: list[tuple[str, bytes]]) -> None:
        """Make each named graph hold exactly these N-Triples: a Graph Store PUT per graph, or
        one update request (DROP, then INSERT DATA) for the whole batch."""
        if self.endpoints.graph_store:
            for iri, data in graphs:
                self._gsp("PUT", iri, data)
            return
        self.update(" ;\n".join(_replace_operation(iri, data) for iri, data in graphs))

    def append(self, iri: str, data: bytes) -> None:
        """Add N-Triples to a graph (a chunk of a graph too large for one request)."""
        if self.endpoints.graph_store:
            self._gsp("POST", iri, data)
        else:
            self.update(f"INSERT DATA {{ GRAPH <{iri}> {{\n{data.decode('utf-8')}}} }}")

    def drop(self, iris: list[str]) -> None:
        """Remove named graphs; graphs already gone are fine (pushes are idempotent)."""
        if self.endpoints.graph_store:
            for iri in iris:
                self.session.request(
                    "DELETE", self.endpoints.graph_store, params={"graph": iri}, accept=(404,)
                )
            return
        self.update(" ;\n".join(f"DROP SILENT GRAPH <{iri}>" for iri in iris))

    def update(self, text: str) -> None:
        if not self.endpoints.update:
            raise StoreError(
                "this push needs a SPARQL Update endpoint: give --update URL (or --graph-store URL)"
            )
        try:
            self.session.request("POST", self.endpoints.update, data={"update": text})
        except StoreError as exc:
            if self.endpoints.update != self.endpoints.query:
                raise
            raise StoreError(
                f"{exc} ({self.endpoints.update} is the query endpoint, taken for updates as "
                "no other was given: give the store's update endpoint with --update URL, or "
                "its Graph Store endpoint with --graph-store URL)"
            ) from exc

    def _gsp(self, method: str, iri: str, data: bytes) -> None:
        self.session.request(
            method,
            self.endpoints.graph_store,
            params={"graph": iri},
            data=data,
            headers={"Content-Type": f"{UPLOAD_TYPE}; charset=utf-8"},
        )


def _replace_operation(iri: str, data: bytes) -> str:
    body = data.decode("utf-8")
    drop = f"DROP SILENT GRAPH <{iri}>"
    return f"{drop} ;\nINSERT DATA {{ GRAPH <{iri}> {{\n{body}}} }}" if body.strip() else drop


def boolean(result: QueryBoolean | QuerySolutions) -> bool:
    """An ASK answer. Virtuoso 7 answers ASK as a table: one row (`__ASK_RETVAL` 1) for true,
    none for false."""
    if isinstance(result, QueryBoolean):
        return bool(result)
    return any(
        term is not None and term.value not in ("0", "false")
        for row in result
        for term in (row[v.value] for v in result.variables)
    )


def graph_format(response: requests.Response, url: str, known: dict[str, RdfFormat]) -> RdfFormat:
    """The RDF format of a graph answer, which must be one of those asked for."""
    kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    rdf_format = known.get(kind)
    if rdf_format is None:
        raise StoreError(f"{url}: answered a graph query as {kind or 'no media type'}")
    return rdf_format


def read_triples(source: IO[bytes], response: requests.Response, url: str) -> Any:
    """Triples from a streamed CONSTRUCT answer, in a format of STREAM_ACCEPT."""
    rdf_format = graph_format(response, url, STREAM_TYPES)
    try:
        return parse(source, rdf_format)
    except SyntaxError as exc:
        raise StoreError(f"{url}: unreadable {rdf_format.media_type} answer: {exc}") from exc


# --- the read-only path of `lod serve --store` -----------------------------------------------


def check_portable(tokens: list[Token]) -> None:
    """Refuse what only Virtuoso understands and what could reach outside the data: DEFINE
    pragmas (`define get:soft` makes Virtuoso fetch web pages) before the query form, and its
    bif:/sql: functions."""
    for token in tokens:
        if token.kind == "word" and token.text.upper() in QUERY_FORMS:
            break
        if token.kind == "word" and token.text.upper() not in PROLOGUE:
            raise QueryRefused(
                f"{token.text} is not SPARQL 1.1; only PREFIX and BASE may precede the query"
            )
    for token in tokens:
        named = token.text[1:] if token.kind == "iri" else token.text
        if token.kind in ("pname", "iri") and named.split(":", 1)[0].lower() in EXTENSION_PREFIXES:
            raise QueryRefused(f"{token.text}: store-specific functions are not allowed here")


def declared_prefixes(tokens: list[Token]) -> set[str]:
    return {
        tokens[i].text[:-1]
        for i in range(1, len(tokens))
        if tokens[i].kind == "pname" and tokens[i - 1].text.upper() == "PREFIX"
    }


class Deadline(io.RawIOBase):
    """A streamed answer that stops being read at the time limit."""

    def __init__(self, raw: IO[bytes], until: float, limit: float) -> None:
        super().__init__()
        self.raw = raw
        self.until = until
        self.limit = limit

    def readinto(self, buffer: Any) -> int:
        if time.monotonic() > self.until:
            raise QueryTimeout.after(self.limit)
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True


def answer_remote(
    remote: RemoteStore,
    text: str,
    fmt: str | None,
    *,
    vocab_ns: str,
    search: Search | None,
    row_limit: int,
    base_iri: str,
    timeout: float,
    default_graphs: list[str] | None = None,
    named_graphs: list[str] | None = None,
    analysis: Analysis | None = None,
) -> Answer:
    """lod.sparql.answer_query, answered by the external store: checked the same way, sent
    with lod's prefixes and the build's base, cut at `row_limit`, stopped at `timeout`.
    `analysis` is analyse(text) where the caller has it."""
    started = time.monotonic()
    query = prepare_query(text, fmt, vocab_ns, search, analysis)
    tokens = tokenize(text)
    check_portable(tokens)
    analysis, fmt, prefixes, graph, expanded = (
        query.analysis,
        query.fmt,
        query.prefixes,
        query.graph,
        query.text,
    )
    missing = {k: v for k, v in prefixes.items() if k not in declared_prefixes(tokens)}
    # On the query's own first line, so a parser's error position keeps its line number.
    prologue = f"BASE <{base_iri}> " + "".join(f"PREFIX {k}: <{v}> " for k, v in missing.items())
    if default_graphs is None and named_graphs is None and analysis.dataset:
        # The query's FROM clauses, restated as the protocol's dataset, which means the same
        # (SPARQL 1.1 Protocol 2.1.4) and which a store with a union default graph cannot
        # override (Oxigraph's --union-default-graph does override FROM).
        default_graphs, named_graphs = dataset_iris(tokens, analysis, base_iri)
    for iri in (default_graphs or []) + (named_graphs or []):
        if time.monotonic() > started + timeout:
            raise QueryTimeout.after(timeout)
        try:
            known = remote.ask(f"ASK {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}")
        except StoreError as exc:
            raise QueryUnavailable(UNAVAILABLE) from exc
        if not known:
            raise not_in_dataset(iri)
    # As on the embedded store: the store sends at most one row over the cap, and pyoxigraph
    # writes the answer (lod.capped) rather than Python, row by row.
    native = NATIVE_WRITERS.get(fmt) if analysis.form == "SELECT" else None
    # the query's own tokens, unless keyword hits were spliced into it
    expanded_tokens = tokens if expanded == text else tokenize(expanded)
    capped = cap_query(expanded, expanded_tokens, row_limit) if native else None
    if capped is not None and capped != expanded and _sorted(expanded_tokens):
        # Virtuoso refuses a sorted LIMIT over 10,000 rows (SR353) that it would answer
        # without one: a sorted query goes as written, its rows taken as they arrive.
        capped = None
    params = [("query", prologue + (capped or expanded))]
    params += [("default-graph-uri", g) for g in default_graphs or []]
    params += [("named-graph-uri", g) for g in named_graphs or []]
    until = started + timeout
    try:
        response = remote.session.session.post(
            remote.endpoints.query,
            data=params,
            headers={"Accept": STREAM_ACCEPT if graph else RESULTS_JSON},
            timeout=max(0.1, until - time.monotonic()),
            stream=True,
        )
    except requests.Timeout as exc:
        raise QueryTimeout.after(timeout) from exc
    except requests.RequestException as exc:
        raise QueryUnavailable(UNAVAILABLE) from exc
    with response:
        if response.status_code == 400:
            raise QuerySyntaxError(_clip(response.text))
        if response.status_code >= 500:
            raise QueryUnavailable(UNAVAILABLE)
        if response.status_code >= 400:
            raise QueryError(f"the store behind this endpoint answered HTTP {response.status_code}")
        response.raw.decode_content = True
        stream = io.BufferedReader(Deadline(response.raw, until, timeout))
        try:
            if analysis.form == "ASK":
                yes = boolean(parse_query_results(stream, QueryResultsFormat.JSON))
                return Answer(BOOLEAN_WRITERS[fmt](yes), False)
            answer = _write(
                remote,
                response,
                stream,
                fmt,
                prefixes,
                row_limit,
                graph,
                native if capped else None,
            )
        except requests.RequestException as exc:
            raise QueryTimeout.after(timeout) from exc
        except (SyntaxError, StoreError) as exc:
            raise QueryError("the store behind this endpoint gave an unreadable answer") from exc
    if time.monotonic() > until:
        # Read in time but written after it: late is late, as on the embedded store.
        raise QueryTimeout.after(timeout)
    return answer


def _sorted(tokens: list[Token]) -> bool:
    return any(t.kind == "word" and t.text.upper() == "ORDER" for t in tokens)


def _write(
    remote: RemoteStore,
    response: requests.Response,
    stream: IO[bytes],
    fmt: str,
    prefixes: dict[str, str],
    row_limit: int,
    graph: bool,
    native: ResultWriter | None = None,
) -> Answer:
    if graph:
        triples = read_triples(stream, response, remote.endpoints.query)
        return write_answer(triples, fmt, prefixes, row_limit)
    result = parse_query_results(stream, QueryResultsFormat.JSON)
    if native is not None and isinstance(result, QuerySolutions):
        return Answer(*native.write(result, row_limit))
    # a SELECT answered as a boolean is written as one
    return write_answer(result, fmt, prefixes, row_limit)


def _clip(message: str, limit: int = 400) -> str:
    message = " ".join(message.split())
    return "the store could not parse the query: " + (
        message if len(message) <= limit else message[:limit] + "…"
    )


__all__ = [
    "AUTH_SCHEMES",
    "Endpoints",
    "RemoteStore",
    "answer_remote",
    "store_session",
]
