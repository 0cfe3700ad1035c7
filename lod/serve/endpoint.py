"""The SPARQL 1.1 Protocol at /sparql, for a public read-only endpoint.

Query by GET, by form POST or by direct POST (section 2.1); results by `Accept` or `format`;
the service description when no query is given (section 3 of the Service Description note).
Before a query reaches a worker it is checked: updates by any route get 403, SERVICE gets
400 (no outbound request is ever made), bodies over 1 MB get 413 and GET queries over 8 KB
get 414 with a hint to POST.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qs

from pyoxigraph import Literal, NamedNode, Triple

from lod.errors import (
    QueryError,
    QueryRefused,
    QuerySyntaxError,
    QueryTimeout,
    QueryUnavailable,
)
from lod.formats import MediaType, negotiate, with_charset
from lod.namespaces import expand
from lod.serve.http import Request, Response, error
from lod.serve.pool import Job, Runner
from lod.sparql import GRAPH_WRITERS, Analysis, analyse

MAX_BODY = 1 << 20
MAX_GET_QUERY = 8 * 1024
RESULT_OFFERS = (
    MediaType("json", "application/sparql-results+json"),
    MediaType("xml", "application/sparql-results+xml"),
    MediaType("csv", "text/csv"),
    MediaType("tsv", "text/tab-separated-values"),
    MediaType("json", "application/json"),
    MediaType("xml", "application/xml"),
    MediaType("html", "text/html"),
)
GRAPH_OFFERS = (
    MediaType("turtle", "text/turtle"),
    MediaType("jsonld", "application/ld+json"),
    MediaType("ntriples", "application/n-triples"),
    MediaType("rdfxml", "application/rdf+xml"),
    MediaType("html", "text/html"),
)
FORMAT_PARAM = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "json-ld": "application/ld+json",
    "ntriples": "application/n-triples",
    "nt": "application/n-triples",
    "rdfxml": "application/rdf+xml",
    "rdf": "application/rdf+xml",
    "rdf+xml": "application/rdf+xml",
    "html": "text/html",
}
GRAPH_FORMAT_PARAM = {**FORMAT_PARAM, "xml": "application/rdf+xml", "json": "application/ld+json"}
"""A graph has no SPARQL results: `format=xml` or `json` on a CONSTRUCT means its RDF/XML or
JSON-LD, as SPARQLWrapper and Virtuoso read them."""
STATUS = {
    QuerySyntaxError: HTTPStatus.BAD_REQUEST,
    QueryRefused: HTTPStatus.BAD_REQUEST,
    QueryTimeout: HTTPStatus.SERVICE_UNAVAILABLE,
    QueryUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
    QueryError: HTTPStatus.INTERNAL_SERVER_ERROR,
}
FORMATS_NS = "http://www.w3.org/ns/formats/"
SD = "http://www.w3.org/ns/sparql-service-description#"


@dataclass(frozen=True, slots=True)
class Protocol:
    """What a request asked for, once the protocol rules are checked."""

    query: str
    default_graphs: list[str] | None
    named_graphs: list[str] | None
    params: dict[str, list[str]]


def parse(request: Request) -> Protocol | Response | None:
    """The query of a request; an error Response; or None when no query was given."""
    params = request.params
    if request.method in ("GET", "HEAD"):
        if "update" in params:
            return _read_only()
        if len(request.query_string) > MAX_GET_QUERY:
            return error(
                HTTPStatus.REQUEST_URI_TOO_LONG,
                f"the query string is over {MAX_GET_QUERY // 1024} KB; send long queries by "
                "POST (application/sparql-query or a form) instead",
            )
    elif request.method == "POST":
        kind = request.header("content-type").split(";")[0].strip().lower()
        charset = _charset(request.header("content-type"))
        if kind == "application/sparql-update":
            return _read_only()
        if kind not in ("application/x-www-form-urlencoded", "application/sparql-query"):
            return error(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "POST a query as application/sparql-query or as an "
                "application/x-www-form-urlencoded form with a 'query' field",
            )
        if charset not in ("", "utf-8", "utf8"):
            return error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "queries must be encoded as UTF-8")
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            return error(HTTPStatus.BAD_REQUEST, "the request body is not valid UTF-8")
        if kind == "application/sparql-query":
            if "query" in params:
                return error(HTTPStatus.BAD_REQUEST, "give the query once: in the body or the URL")
            params = {**params, "query": [text]}
        else:
            form = parse_qs(text, keep_blank_values=True)
            if "update" in form:
                return _read_only()
            params = {**params, **{k: params.get(k, []) + v for k, v in form.items()}}
    else:
        return error(
            HTTPStatus.METHOD_NOT_ALLOWED,
            f"{request.method} is not allowed on the SPARQL endpoint; use GET or POST",
            Allow="GET, HEAD, POST, OPTIONS",
        )
    queries = params.get("query", [])
    if not queries:
        return (
            error(HTTPStatus.BAD_REQUEST, "no 'query' given") if request.method == "POST" else None
        )
    if len(queries) > 1:
        return error(HTTPStatus.BAD_REQUEST, "give exactly one 'query' parameter")
    default_graphs, named_graphs = params.get("default-graph-uri"), params.get("named-graph-uri")
    for name, iris in (("default-graph-uri", default_graphs), ("named-graph-uri", named_graphs)):
        for iri in iris or []:
            try:
                NamedNode(iri)
            except ValueError:
                return error(
                    HTTPStatus.BAD_REQUEST,
                    f"{name} {iri[:200]!r} is not an absolute IRI; give the full IRI of a "
                    "graph of this dataset",
                )
    if default_graphs is not None or named_graphs is not None:
        # The dataset is then the graphs named and only those (section 2.1.4): a half not
        # given is empty, not the whole store.
        default_graphs, named_graphs = default_graphs or [], named_graphs or []
    return Protocol(queries[0], default_graphs, named_graphs, params)


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return ""


def _read_only() -> Response:
    return error(
        HTTPStatus.FORBIDDEN,
        "this SPARQL endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, ...) "
        "is not accepted",
    )


def choose(
    protocol: Protocol, accept: str, search_iri: str, prefixes: dict[str, str]
) -> tuple[MediaType, Analysis] | Response:
    """Check the query's tokens (updates and federation are refused here, before any worker
    sees it), then pick the answer's media type from the query form and `format` or `Accept`.
    The analysis goes on to the worker with the query."""
    try:
        analysis = analyse(protocol.query, search_iri, prefixes)
    except QueryError as exc:
        return error(STATUS[type(exc)], str(exc))
    form = analysis.form
    graph = form in ("CONSTRUCT", "DESCRIBE")
    offers, names = (GRAPH_OFFERS, GRAPH_FORMAT_PARAM) if graph else (RESULT_OFFERS, FORMAT_PARAM)
    wanted = protocol.params.get("format")
    if wanted:
        # Clients send more than one (SPARQLWrapper: `format=rdf+xml&format=application/rdf+xml`):
        # the first this endpoint offers wins.
        media = [names.get(w.strip().lower(), w.strip().lower()) for w in wanted]
        chosen = next((o for m in media for o in offers if o.media_type == m), None)
    else:
        chosen = negotiate(accept, offers)
    if chosen is None:
        listed = ", ".join(o.media_type for o in offers)
        return error(
            HTTPStatus.NOT_ACCEPTABLE, f"a {form} query can answer as: {listed}", Vary="Accept"
        )
    return chosen, analysis


async def answer(
    pool: Runner, protocol: Protocol, chosen: MediaType, row_limit: int, analysis: Analysis
) -> Response:
    """Run the query on the pool and wrap the bytes; errors become safe 4xx/5xx answers."""
    try:
        result = await pool.run(
            Job(
                protocol.query,
                chosen.name,
                row_limit,
                protocol.default_graphs,
                protocol.named_graphs,
                analysis,
            )
        )
    except QueryError as exc:
        status = STATUS[type(exc)]
        extra = {"Retry-After": "5"} if status == HTTPStatus.SERVICE_UNAVAILABLE else {}
        return error(status, str(exc), **extra)
    headers = {
        "Content-Type": with_charset(chosen.media_type),
        "Vary": "Accept",
        "SPARQL-Result-Limit": str(row_limit),
    }
    if result.truncated:
        headers["SPARQL-Result-Truncated"] = (
            f"true; only the first {row_limit} results are given; add LIMIT/OFFSET to page"
        )
    return Response(HTTPStatus.OK, headers, result.body)


def service_description(endpoint: str, triples: int, accept: str) -> Response:
    """The SPARQL Service Description of this endpoint, in the RDF format asked for."""
    chosen = negotiate(accept, GRAPH_OFFERS[:-1]) or GRAPH_OFFERS[0]
    s = NamedNode(endpoint + "#service")
    dataset = NamedNode(endpoint + "#dataset")
    graph = NamedNode(endpoint + "#default-graph")
    sd: Callable[[str], NamedNode] = lambda name: NamedNode(SD + name)  # noqa: E731
    rdf_type = NamedNode(expand("rdf:type"))
    out = [
        Triple(s, rdf_type, sd("Service")),
        Triple(s, sd("endpoint"), NamedNode(endpoint)),
        Triple(s, sd("supportedLanguage"), sd("SPARQL11Query")),
        Triple(s, sd("feature"), sd("UnionDefaultGraph")),
        Triple(
            s, sd("defaultEntailmentRegime"), NamedNode("http://www.w3.org/ns/entailment/Simple")
        ),
        Triple(s, sd("defaultDataset"), dataset),
        Triple(dataset, rdf_type, sd("Dataset")),
        Triple(dataset, sd("defaultGraph"), graph),
        Triple(graph, rdf_type, sd("Graph")),
        Triple(
            graph,
            NamedNode(expand("void:triples")),
            Literal(str(triples), datatype=NamedNode(expand("xsd:integer"))),
        ),
    ]
    for name in (
        "SPARQL_Results_JSON",
        "SPARQL_Results_XML",
        "SPARQL_Results_CSV",
        "SPARQL_Results_TSV",
        "Turtle",
        "JSON-LD",
        "N-Triples",
        "RDF_XML",
    ):
        out.append(Triple(s, sd("resultFormat"), NamedNode(FORMATS_NS + name)))
    prefixes = {"sd": SD, "void": expand("void:"), "xsd": expand("xsd:")}
    body = GRAPH_WRITERS[chosen.name](out, prefixes)
    return Response(
        HTTPStatus.OK, {"Content-Type": with_charset(chosen.media_type), "Vary": "Accept"}, body
    )
