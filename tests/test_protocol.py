"""The W3C SPARQL 1.1 Protocol tests (w3c/rdf-tests, sparql/sparql11/protocol/manifest.ttl),
encoded as a table and run against a real `lod serve`.

Every `bad_*` case must get a 4xx. The `query_*` cases pass, with one deliberate difference:
their requests name remote graphs (`default-graph-uri` / `named-graph-uri` at kasei.us) that a
public endpoint will not load, so each is answered with a clear 400 and then, without those
parameters, must give the answer the manifest expects. The `update_*` cases get 403: the
endpoint is read-only.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
import requests
from rdflib import Graph
from rdflib.query import Result

KASEI = "http://kasei.us/2009/09/sparql/data/"
DATA0 = "default-graph-uri=" + quote(KASEI + "data0.rdf", safe="")
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"
TWO_GRAPHS = f"ASK {{ <{KASEI}data1.rdf> a ?type . <{KASEI}data2.rdf> a ?type . }}"
NAMED = f"ASK {{ GRAPH ?g1 {{ <{KASEI}data1.rdf> a ?type }} GRAPH ?g2 {{ <{KASEI}data2.rdf> a ?type }} }}"


def graphs(param: str, *names: str) -> str:
    return "&".join(f"{param}=" + quote(KASEI + name, safe="") for name in names)


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    query_string: str = ""
    body: bytes | None = None
    content_type: str | None = None
    expect: str = "4xx"  # "4xx", "boolean", "tabular", "rdf", "403", "400-remote"
    plain: str = ""  # for 400-remote: the query string without the remote graphs, to run
    plain_expect: str = ""
    headers: dict[str, str] = field(default_factory=dict)


def q(text: str) -> str:
    return "query=" + quote(text, safe="")


CASES = [
    Case(
        "query_post_form", "POST", DATA0, b"query=ASK%20%7B%7D", FORM, "400-remote", "", "boolean"
    ),
    Case(
        "query_dataset_default_graphs_get",
        "GET",
        q(TWO_GRAPHS) + "&" + graphs("default-graph-uri", "data1.rdf", "data2.rdf"),
        expect="400-remote",
    ),
    Case(
        "query_dataset_default_graphs_post",
        "POST",
        graphs("default-graph-uri", "data1.rdf", "data2.rdf"),
        TWO_GRAPHS.encode(),
        DIRECT,
        "400-remote",
    ),
    Case(
        "query_dataset_named_graphs_post",
        "POST",
        graphs("named-graph-uri", "data1.rdf", "data2.rdf"),
        NAMED.encode(),
        DIRECT,
        "400-remote",
    ),
    Case(
        "query_dataset_named_graphs_get",
        "GET",
        q(NAMED) + "&" + graphs("named-graph-uri", "data1.rdf", "data2.rdf"),
        expect="400-remote",
    ),
    Case(
        "query_dataset_full",
        "POST",
        graphs("default-graph-uri", "data3.rdf")
        + "&"
        + graphs("named-graph-uri", "data1.rdf", "data2.rdf"),
        NAMED.encode(),
        DIRECT,
        "400-remote",
    ),
    Case(
        "query_multiple_dataset",
        "POST",
        "named-graph-uri="
        + quote(KASEI + "data1.rdf&named-graph-uri=" + KASEI + "data2.rdf", safe=""),
        f"ASK FROM <{KASEI}data3.rdf> {NAMED[4:]}".encode(),
        DIRECT,
        "400-remote",
    ),
    Case(
        "query_get",
        "GET",
        q("ASK {}") + "&" + DATA0,
        expect="400-remote",
        plain=q("ASK {}"),
        plain_expect="boolean",
    ),
    Case(
        "query_content_type_select",
        "POST",
        DATA0,
        b"SELECT (1 AS ?value) {}",
        DIRECT,
        "400-remote",
        "",
        "tabular",
    ),
    Case("query_content_type_ask", "POST", DATA0, b"ASK {}", DIRECT, "400-remote", "", "boolean"),
    Case(
        "query_content_type_describe",
        "POST",
        DATA0,
        b"DESCRIBE <http://example.org/>",
        DIRECT,
        "400-remote",
        "",
        "rdf",
    ),
    Case(
        "query_content_type_construct",
        "POST",
        DATA0,
        b"CONSTRUCT { <s> <p> 1 } WHERE {}",
        DIRECT,
        "400-remote",
        "",
        "rdf",
    ),
    Case("query_post_direct", "POST", "", b"ASK {}", DIRECT, "boolean"),
    Case(
        "update_dataset_default_graph",
        "POST",
        graphs("using-graph-uri", "data1.rdf"),
        b"CLEAR ALL",
        UPDATE,
        "403",
    ),
    Case(
        "update_dataset_default_graphs",
        "POST",
        graphs("using-graph-uri", "data1.rdf", "data2.rdf"),
        b"CLEAR ALL",
        UPDATE,
        "403",
    ),
    Case(
        "update_dataset_named_graphs",
        "POST",
        graphs("using-named-graph-uri", "data1.rdf"),
        b"CLEAR ALL",
        UPDATE,
        "403",
    ),
    Case(
        "update_dataset_full",
        "POST",
        graphs("using-graph-uri", "data3.rdf"),
        b"CLEAR ALL",
        UPDATE,
        "403",
    ),
    Case("update_post_form", "POST", "", b"update=CLEAR%20ALL", FORM, "403"),
    Case("update_post_direct", "POST", "", b"CLEAR ALL", UPDATE, "403"),
    Case(
        "update_base_uri",
        "POST",
        "",
        b"BASE <http://example.org/> INSERT DATA { <s> <p> 1 }",
        UPDATE,
        "403",
    ),
    Case("bad_query_method", "PUT", q("ASK {}")),
    Case("bad_multiple_queries", "GET", q("ASK {}") + "&" + q("SELECT * {}")),
    Case("bad_query_wrong_media_type", "POST", "", b"ASK {}", "text/plain"),
    Case("bad_query_missing_form_type", "POST", "", b"query=ASK%20%7B%7D"),
    Case("bad_query_missing_direct_type", "POST", "", b"ASK {}"),
    Case("bad_query_non_utf8", "POST", "", "ASK {}".encode("utf-16"), DIRECT + "; charset=UTF-16"),
    Case("bad_query_syntax", "GET", "query=ASK%20%7B"),
    Case("bad_update_get", "GET", "update=CLEAR%20ALL"),
    Case("bad_multiple_updates", "POST", "", b"update=CLEAR%20NAMED&update=CLEAR%20DEFAULT", FORM),
    Case("bad_update_wrong_media_type", "POST", "", b"CLEAR NAMED", "text/plain"),
    Case("bad_update_missing_form_type", "POST", "", b"update=CLEAR%20NAMED"),
    Case(
        "bad_update_non_utf8",
        "POST",
        "",
        "CLEAR NAMED".encode("utf-16"),
        UPDATE + "; charset=UTF-16",
    ),
    Case("bad_update_syntax", "POST", "", b"CLEAR XYZ", UPDATE),
    Case(
        "bad_update_dataset_conflict",
        "POST",
        graphs("using-graph-uri", "data1.rdf"),
        b"PREFIX dc: <http://purl.org/dc/terms/> CLEAR ALL ; INSERT { GRAPH <http://example.org/g> { ?s a dc:X } } USING <http://example.org/u> WHERE { ?s ?p ?o }",
        UPDATE,
    ),
]


def send(url: str, case: Case, query_string: str) -> requests.Response:
    headers = {"Accept": "application/sparql-results+json, text/turtle;q=0.9", **case.headers}
    if case.content_type:
        headers["Content-Type"] = case.content_type
    target = url + "/sparql/" + ("?" + query_string if query_string else "")
    return requests.request(case.method, target, data=case.body, headers=headers, timeout=30)


def check(response: requests.Response, expect: str) -> None:
    status = response.status_code
    if expect == "4xx":
        assert 400 <= status < 500, (status, response.text)
        assert "Traceback" not in response.text
        return
    if expect == "403":
        assert status == 403 and "read-only" in response.text
        return
    if expect == "400-remote":
        assert status == 400 and "does not load remote graphs" in response.text, response.text
        return
    assert 200 <= status < 400, (status, response.text)
    media = response.headers["Content-Type"].split(";")[0]
    if expect == "boolean":
        assert media == "application/sparql-results+json"
        assert Result.parse(io.BytesIO(response.content), format="json").askAnswer is True
    elif expect == "tabular":
        assert media in (
            "application/sparql-results+json",
            "application/sparql-results+xml",
            "text/csv",
            "text/tab-separated-values",
        )
        assert [
            int(row[0]) for row in Result.parse(io.BytesIO(response.content), format="json")
        ] == [1]  # type: ignore[call-overload]
    elif expect == "rdf":
        assert media in (
            "text/turtle",
            "application/rdf+xml",
            "application/n-triples",
            "application/ld+json",
        )
        Graph().parse(data=response.text, format="turtle")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_w3c_protocol_case(records_server: str, case: Case) -> None:
    check(send(records_server, case, case.query_string), case.expect)
    if case.expect == "400-remote" and case.plain_expect:
        check(send(records_server, case, case.plain), case.plain_expect)


def test_every_manifest_entry_is_encoded() -> None:
    """The 34 entries of the manifest, each once."""
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)) == 34
