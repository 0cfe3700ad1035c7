"""`lod serve`: a real HTTP server on 127.0.0.1, fetched with real clients (requests, rdflib)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS

from tests.conftest import BASE


@pytest.fixture(scope="module")
def server(records_site: Path) -> Iterator[str]:
    from lod.serve.app import make_server

    httpd = make_server(records_site, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(
    ("accept", "suffix", "media"),
    [
        ("text/turtle", ".ttl", "text/turtle; charset=utf-8"),
        ("application/ld+json", ".jsonld", "application/ld+json; charset=utf-8"),
        ("application/n-triples", ".nt", "application/n-triples"),
        ("application/rdf+xml", ".rdf", "application/rdf+xml; charset=utf-8"),
        ("text/html", ".html", "text/html; charset=utf-8"),
    ],
)
def test_thing_uri_303_then_negotiated_document(
    server: str, accept: str, suffix: str, media: str
) -> None:
    r = requests.get(
        server + "/record/112095", headers={"Accept": accept}, allow_redirects=False, timeout=5
    )
    assert r.status_code == 303 and r.headers["Location"] == "/doc/record/112095"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    doc = requests.get(server + "/doc/record/112095", headers={"Accept": accept}, timeout=5)
    assert doc.status_code == 200 and doc.headers["Content-Type"] == media
    assert (
        doc.headers["Vary"] == "Accept"
        and doc.headers["Content-Location"] == "/doc/record/112095" + suffix
    )
    assert 'rel="alternate"' in doc.headers["Link"]


def test_rdflib_reads_what_is_served(server: str) -> None:
    g = Graph().parse(server + "/doc/record/112095.ttl", format="turtle")
    assert (URIRef(BASE + "record/112095"), DCTERMS.identifier, None) in g
    data = requests.get(
        server + "/doc/record/112095", headers={"Accept": "application/ld+json"}, timeout=5
    ).json()
    assert data["@id"] == BASE + "record/112095"


def test_406_lists_offers(server: str) -> None:
    r = requests.get(
        server + "/doc/record/112095", headers={"Accept": "application/pdf"}, timeout=5
    )
    assert r.status_code == 406 and "text/turtle" in r.text


def test_404_for_unknown_ids(server: str) -> None:
    for path in ("/record/nope", "/doc/record/nope", "/agent/../../etc/passwd", "/store/CURRENT"):
        assert requests.get(server + path, timeout=5, allow_redirects=False).status_code == 404, (
            path
        )


def test_void_and_dumps(server: str) -> None:
    r = requests.get(server + "/.well-known/void", timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")
    assert "void:dataDump" in r.text
    gz = requests.get(
        server + "/dumps/dataset.nt.gz", timeout=5, headers={"Accept-Encoding": "identity"}
    )
    assert gz.status_code == 200 and gz.content[:2] == b"\x1f\x8b"
    assert json.loads(requests.get(server + "/context.jsonld", timeout=5).text)["@context"][
        "schema"
    ]


def test_index_page(server: str) -> None:
    r = requests.get(server + "/", timeout=5)
    assert r.status_code == 200 and "Telegram from Mao Zedong" in r.text
