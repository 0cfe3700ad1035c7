"""`lod serve`, linked data over HTTP: a real server process on 127.0.0.1, fetched with real
clients (requests, rdflib, pyld), checked against the dumps."""

from __future__ import annotations

import gzip
import html
import json
import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from pyld import jsonld
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS

from lod.config import Config
from lod.publish.site import build
from lod.uris import file_path, uri_path
from tests.conftest import BASE, ENCODED_IDS, RECORDS, ROOT, running_server, write_encoded_ids
from tests.test_formats import local_loader

SEED = "/record/112095"
DOC = "/doc/record/112095"


def get(url: str, accept: str = "", **headers: str) -> requests.Response:
    if accept:
        headers["Accept"] = accept
    return requests.get(url, headers=headers, allow_redirects=False, timeout=10)


@pytest.mark.parametrize(
    ("accept", "suffix", "media"),
    [
        ("text/turtle", ".ttl", "text/turtle; charset=utf-8"),
        ("application/ld+json", ".jsonld", "application/ld+json; charset=utf-8"),
        ("application/n-triples", ".nt", "application/n-triples"),
        ("application/rdf+xml", ".rdf", "application/rdf+xml; charset=utf-8"),
        ("text/html", ".html", "text/html; charset=utf-8"),
        ("text/turtle;q=0.5, application/ld+json", ".jsonld", "application/ld+json; charset=utf-8"),
        ("application/*", ".jsonld", "application/ld+json; charset=utf-8"),
        ("text/*;q=0.9, application/rdf+xml", ".rdf", "application/rdf+xml; charset=utf-8"),
        ("*/*", ".html", "text/html; charset=utf-8"),
        ("", ".html", "text/html; charset=utf-8"),
        (
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            ".html",
            "text/html; charset=utf-8",
        ),
        ("text/turtle;q=0, */*;q=0.1", ".html", "text/html; charset=utf-8"),
        ("application/rdf+xml;q=0.8, text/turtle", ".ttl", "text/turtle; charset=utf-8"),
    ],
)
def test_thing_uri_303_then_negotiated_document(
    records_server: str, records_site: Path, accept: str, suffix: str, media: str
) -> None:
    r = get(records_server + SEED, accept)
    assert r.status_code == 303 and r.headers["Location"] == DOC
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["Link"] == f'<{DOC}>; rel="describedby"'
    assert "Accept" in r.headers["Vary"]
    doc = get(records_server + DOC, accept)
    assert doc.status_code == 200 and doc.headers["Content-Type"] == media
    assert "Accept" in doc.headers["Vary"] and doc.headers["Content-Location"] == DOC + suffix
    links = doc.headers["Link"]
    assert links.count('rel="alternate"') == 4 and f"<{DOC}{suffix}>" not in links
    assert doc.content == (records_site / ("." + DOC + suffix)).read_bytes()


@pytest.mark.parametrize(
    ("path", "media"),
    [
        (SEED + "?format=ttl", "text/turtle"),
        (DOC + "?format=turtle", "text/turtle"),
        (DOC + "?format=jsonld", "application/ld+json"),
        (DOC + ".nt", "application/n-triples"),
        (DOC + ".rdf", "application/rdf+xml"),
    ],
)
def test_format_parameter_and_suffix_override_accept(
    records_server: str, path: str, media: str
) -> None:
    r = requests.get(records_server + path, headers={"Accept": "text/html"}, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].split(";")[0] == media


def test_406_lists_offers_and_404_is_negotiated(records_server: str) -> None:
    r = get(records_server + DOC, "application/pdf")
    assert r.status_code == 406 and r.headers["Access-Control-Allow-Origin"] == "*"
    for media in ("text/turtle", "application/ld+json", "application/rdf+xml", "text/html"):
        assert media in r.text
    ttl = get(records_server + "/record/nope", "text/turtle")
    assert ttl.status_code == 404 and ttl.headers["Content-Type"].startswith("text/turtle")
    assert len(Graph().parse(data=ttl.text, format="turtle")) == 0
    ld = get(records_server + "/doc/record/nope", "application/ld+json")
    assert ld.status_code == 404 and ld.json()["error"]["status"] == 404
    xml = get(records_server + "/doc/record/nope", "application/rdf+xml")
    assert xml.status_code == 404 and len(Graph().parse(data=xml.text, format="xml")) == 0
    html = get(records_server + "/agent/nobody", "text/html")
    assert html.status_code == 404 and "<h1>404 Not Found</h1>" in html.text


@pytest.mark.parametrize(
    "path",
    [
        "/record/nope",
        "/doc/record/nope.ttl",
        "/agent/../../etc/passwd",
        "/doc/%2e%2e/%2e%2e/etc/passwd",
        "/record/%00",
        "/record/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/store/CURRENT",
        "/search.sqlite",
        "/build.json",
        "/changes.sqlite",
        "/.lod-state.sqlite",
        "/.lod-output",
        "/" + "x" * 4000,
        "/doc/record/112095.exe",
    ],
)
def test_unknown_paths_are_404_never_500(records_server: str, path: str) -> None:
    r = get(records_server + path, "text/html")
    assert r.status_code == 404, path
    assert "<script>" not in r.text and "Traceback" not in r.text


def test_cors_everywhere(records_server: str) -> None:
    for response in (
        get(records_server + SEED),
        get(records_server + "/nope"),
        requests.options(records_server + DOC, timeout=10),
        requests.options(records_server + "/sparql", timeout=10),
    ):
        assert response.headers["Access-Control-Allow-Origin"] == "*", response.url
    preflight = requests.options(
        records_server + "/sparql",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=10,
    )
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip() for h in preflight.headers["Access-Control-Allow-Headers"].split(",")}
    # Cache-Control and Pragma: a page on another origin may ask for a fresh answer too
    assert {"Content-Type", "Cache-Control", "Pragma"} <= allowed


def test_validators_and_304_after_negotiation(records_server: str) -> None:
    ttl = get(records_server + DOC, "text/turtle")
    html = get(records_server + DOC, "text/html")
    etag = ttl.headers["ETag"]
    assert etag.startswith('"') and etag != html.headers["ETag"]
    again = get(records_server + DOC, "text/turtle", **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    assert again.headers["Access-Control-Allow-Origin"] == "*"
    # no length at all rather than a wrong one: a 304's would have to be the 200's
    assert "Content-Length" not in again.headers
    other = get(records_server + DOC, "text/html", **{"If-None-Match": etag})
    assert other.status_code == 200
    since = get(
        records_server + DOC, "text/turtle", **{"If-Modified-Since": ttl.headers["Last-Modified"]}
    )
    assert since.status_code == 304
    old = get(
        records_server + DOC,
        "text/turtle",
        **{"If-Modified-Since": "Mon, 01 Jan 1990 00:00:00 GMT"},
    )
    assert old.status_code == 200


def test_gzip_when_asked(records_server: str) -> None:
    plain = get(records_server + DOC, "text/turtle", **{"Accept-Encoding": "identity"})
    zipped = requests.get(
        records_server + DOC,
        headers={"Accept": "text/turtle", "Accept-Encoding": "gzip"},
        timeout=10,
        stream=True,
    )
    raw = zipped.raw.read(decode_content=False)
    assert zipped.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    assert gzip.decompress(raw) == plain.content
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    assert "Accept-Encoding" in zipped.headers["Vary"]


def test_head_matches_get(records_server: str) -> None:
    got = get(records_server + DOC, "text/turtle", **{"Accept-Encoding": "identity"})
    head = requests.head(
        records_server + DOC,
        headers={"Accept": "text/turtle", "Accept-Encoding": "identity"},
        timeout=10,
    )
    assert head.status_code == 200 and head.content == b""
    for name in ("Content-Type", "Content-Length", "ETag", "Content-Location"):
        assert head.headers[name] == got.headers[name]


def test_range_on_dumps(records_server: str, records_site: Path) -> None:
    whole = (records_site / "dumps/dataset.nt.gz").read_bytes()
    url = records_server + "/dumps/dataset.nt.gz"
    part = get(url, Range="bytes=0-9")
    assert part.status_code == 206 and part.content == whole[:10]
    assert part.headers["Content-Range"] == f"bytes 0-9/{len(whole)}"
    tail = get(url, Range="bytes=-5")
    assert tail.status_code == 206 and tail.content == whole[-5:]
    rest = get(url, Range=f"bytes={len(whole) - 3}-")
    assert rest.content == whole[-3:]
    bad = get(url, Range=f"bytes={len(whole) + 10}-")
    assert bad.status_code == 416 and bad.headers["Content-Range"] == f"bytes */{len(whole)}"
    full = get(url)
    assert full.status_code == 200 and full.content == whole
    assert full.headers["Accept-Ranges"] == "bytes"


def test_served_graphs_are_the_dump(records_server: str, records_site: Path) -> None:
    """Every resource, fetched as Turtle (rdflib) and as JSON-LD (pyld), is the dump's graph
    (the dataset description is not in the dump: it describes the dump)."""
    dump = Graph().parse(
        data=gzip.decompress((records_site / "dumps/dataset.nt.gz").read_bytes()), format="nt"
    )
    served_ttl, served_ld = Graph(), Graph()
    paths = sorted(
        "/" + str(p.relative_to(records_site).with_suffix(""))
        for p in (records_site / "doc").rglob("*.ttl")
        if p.name != "dataset.ttl"
    )
    assert len(paths) > 20
    for path in paths:
        thing = path.removeprefix("/doc")
        served_ttl.parse(
            data=requests.get(
                records_server + thing, headers={"Accept": "text/turtle"}, timeout=10
            ).text,
            format="turtle",
        )
        document = requests.get(
            records_server + thing, headers={"Accept": "application/ld+json"}, timeout=10
        ).json()
        nquads = jsonld.to_rdf(
            document,
            {"format": "application/n-quads", "documentLoader": local_loader(records_site)},
        )
        served_ld.parse(data=nquads, format="nt")
    assert isomorphic(served_ttl, served_ld)
    assert isomorphic(served_ttl, dump)


def test_rdflib_reads_what_is_served(records_server: str) -> None:
    g = Graph().parse(records_server + DOC + ".ttl", format="turtle")
    assert (URIRef(BASE + "record/112095"), DCTERMS.identifier, None) in g


@pytest.mark.parametrize(
    ("accept", "media_type", "syntax"),
    [
        ("*/*", "text/turtle", "turtle"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "text/turtle", "turtle"),
        ("text/html", "text/turtle", "turtle"),
        ("application/rdf+xml", "application/rdf+xml", "xml"),
        ("application/ld+json", "application/ld+json", "json-ld"),
        ("application/n-triples, text/turtle;q=0.5", "application/n-triples", "nt"),
    ],
)
def test_the_well_known_void_speaks_each_rdf_syntax(
    records_server: str, records_site: Path, accept: str, media_type: str, syntax: str
) -> None:
    """A harvester that reads only RDF/XML or JSON-LD gets the dataset description in it, as
    from /dataset; anything else (any type, a browser) gets the Turtle a static host serves."""
    r = get(records_server + "/.well-known/void", accept)
    assert r.status_code == 200 and r.headers["Content-Type"].split(";")[0] == media_type
    assert "Accept" in r.headers["Vary"]
    if syntax == "json-ld":
        options = {"format": "application/n-quads", "documentLoader": local_loader(records_site)}
        graph = Graph().parse(data=jsonld.to_rdf(r.json(), options), format="nt")
    else:
        graph = Graph().parse(data=r.content, format=syntax, publicID=BASE + "dataset")
    turtle = Graph().parse(records_site / ".well-known/void", format="turtle")
    assert len(turtle) > 50 and isomorphic(graph, turtle)


def test_void_names_endpoint_and_dumps(records_server: str) -> None:
    r = get(records_server + "/.well-known/void")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")
    g = Graph().parse(data=r.text, format="turtle")
    void = "http://rdfs.org/ns/void#"
    assert (None, URIRef(void + "sparqlEndpoint"), URIRef(BASE + "sparql")) in g
    dumps = {str(o) for o in g.objects(None, URIRef(void + "dataDump"))}
    assert BASE + "dumps/dataset.nt.gz" in dumps
    lines = get(records_server + "/dumps/records.jsonl")
    # JSON Lines, not one JSON-LD document: a JSON-LD parser given the file would fail
    assert lines.headers["Content-Type"] == "application/jsonl; charset=utf-8"
    assert all(json.loads(line)["@context"] for line in lines.text.splitlines())
    assert json.loads(get(records_server + "/context.jsonld").text)["@context"]["schema"]


def test_index_page(records_server: str) -> None:
    r = get(records_server + "/")
    assert r.status_code == 200 and "Telegram from Mao Zedong" in r.text


def test_200_with_content_location_when_redirects_are_off(records_site: Path) -> None:
    with running_server(records_site, thing_redirect="false") as url:
        r = get(url + SEED, "text/turtle")
    assert r.status_code == 200 and r.headers["Content-Location"] == DOC + ".ttl"
    assert f'<{DOC}>; rel="describedby"' in r.headers["Link"]
    assert (URIRef(BASE + "record/112095"), DCTERMS.identifier, None) in Graph().parse(
        data=r.text, format="turtle"
    )


def test_any_base_uri_is_served_by_path(tmp_path: Path) -> None:
    out = tmp_path / "site"
    build(
        [RECORDS],
        out,
        Config(base_uri="https://archive.example/lod/", progress=False),
        base_dir=ROOT,
    )
    with running_server(out) as url:
        r = get(url + SEED, "text/turtle")
        assert r.status_code == 303 and r.headers["Location"] == DOC
        doc = get(url + DOC, "text/turtle")
    g = Graph().parse(data=doc.text, format="turtle")
    assert (URIRef("https://archive.example/lod/record/112095"), DCTERMS.identifier, None) in g


def test_several_server_processes_share_the_port(records_site: Path) -> None:
    with running_server(records_site, serve_workers="2") as url:
        answers = {get(url + DOC, "text/turtle").headers["ETag"] for _ in range(20)}
        ask = requests.get(
            url + "/sparql",
            params={"query": 'ASK { ?r dcterms:identifier "112095" }'},
            headers={"Accept": "application/sparql-results+json"},
            timeout=30,
        )
    assert len(answers) == 1 and ask.json()["boolean"] is True


def get_as_sent(url: str, accept: str = "") -> requests.Response:
    """GET with the path as written, as curl sends it: requests would decode '%2E%2E' to '..'
    (as browsers and Node.js resolve it away, see lod.sources.limits.unaddressable)."""
    request = requests.Request("GET", url, headers={"Accept": accept} if accept else {}).prepare()
    request.url = url
    with requests.Session() as session:
        return session.send(request, allow_redirects=False, timeout=10)


DOCUMENT_FORMATS = [
    ("text/turtle", ".ttl", "text/turtle; charset=utf-8"),
    ("application/ld+json", ".jsonld", "application/ld+json; charset=utf-8"),
    ("application/n-triples", ".nt", "application/n-triples"),
    ("application/rdf+xml", ".rdf", "application/rdf+xml; charset=utf-8"),
    ("text/html", ".html", "text/html; charset=utf-8"),
]


def test_ids_that_need_encoding_dereference(encoded_site: Path) -> None:
    """A record `Doc 5` is minted as record/Doc%205, and its files are named as a static server
    decodes the request path (`Doc 5.ttl`); an encoded '/' or '%' stays in one file name."""
    names = {p.stem for p in (encoded_site / "doc/record").glob("*.ttl")}
    assert names == {"Doc 5", "dok-ü", "oai:archive.org:123", "a%2Fb", "100%25"}
    with running_server(encoded_site) as url:
        for record_id, segment in ENCODED_IDS.items():
            thing = get_as_sent(f"{url}/record/{segment}", "text/turtle")
            assert thing.status_code == 303, record_id
            assert thing.headers["Location"] == f"/doc/record/{segment}"
            for accept, suffix, media in DOCUMENT_FORMATS:
                negotiated = get_as_sent(url + thing.headers["Location"], accept)
                by_suffix = get_as_sent(f"{url}/doc/record/{segment}{suffix}")
                for doc in (negotiated, by_suffix):
                    assert doc.status_code == 200, (record_id, suffix)
                    assert doc.headers["Content-Type"] == media
            turtle = get_as_sent(url + thing.headers["Location"], "text/turtle").text
            graph = Graph().parse(data=turtle, format="turtle")
            uri = URIRef(f"{BASE}record/{segment}")
            assert graph.value(uri, DCTERMS.identifier) == Literal(record_id)
        index = get_as_sent(url + "/", "text/html").text
        links = re.findall(r'href="(doc/record/[^"]+)"', index)
        assert sorted(links) == sorted(f"doc/record/{s}.html" for s in ENCODED_IDS.values())
        for link in links:
            page = get_as_sent(f"{url}/{link}", "text/html")
            assert page.status_code == 200 and "<h1>Record " in page.text, link


def test_removed_records_with_encoded_ids_leave_no_files_and_answer_410(tmp_path: Path) -> None:
    kept = ["dok-ü", "100%"]
    write_encoded_ids(tmp_path / "src", list(ENCODED_IDS))
    out = tmp_path / "site"
    config = Config(base_uri=BASE, progress=False)
    build([tmp_path / "src"], out, config, base_dir=tmp_path)
    assert (out / "doc/record/Doc 5.ttl").is_file() and (out / "doc/record/a%2Fb.ttl").is_file()
    write_encoded_ids(tmp_path / "src", kept)
    report = build([tmp_path / "src"], out, config, base_dir=tmp_path)
    assert report.incremental and report.changes["deleted"] == len(ENCODED_IDS) - len(kept)
    assert sorted(p.name for p in (out / "doc/record").iterdir()) == sorted(
        f"{name}{suffix}" for name in ("dok-ü", "100%25") for _, suffix, _ in DOCUMENT_FORMATS
    )
    with running_server(out) as url:
        for record_id, segment in ENCODED_IDS.items():
            expected = 303 if record_id in kept else 410
            assert get_as_sent(f"{url}/record/{segment}", "text/turtle").status_code == expected
            expected = 200 if record_id in kept else 410
            assert get_as_sent(f"{url}/doc/record/{segment}.nt").status_code == expected, record_id
        oai = requests.get(
            f"{url}/oai",
            params={
                "verb": "GetRecord",
                "metadataPrefix": "oai_dc",
                "identifier": f"{BASE}record/dok-%C3%BC",
            },
            timeout=10,
        )
        assert ">Record dok-ü</dc:title>" in oai.text and "<dc:identifier>dok-ü<" in oai.text


def site_links(site: Path) -> set[str]:
    """The site paths every built HTML page links to, each href resolved against its page."""
    targets = set()
    for page in site.rglob("*.html"):
        here = "/" + uri_path(page.relative_to(site).as_posix())
        for href in re.findall(r'href="([^"]+)"', page.read_text(encoding="utf-8")):
            href = html.unescape(href)
            if not urlsplit(href).scheme and not href.startswith("#"):
                targets.add(urljoin(here, href).split("#", 1)[0])
    return targets


@pytest.mark.parametrize("built", ["records_site", "encoded_site"])
def test_every_internal_link_of_the_pages_resolves(
    built: str, request: pytest.FixtureRequest
) -> None:
    """A page links a record or entity to its HTML document, and any other IRI under the base
    (a dump, the endpoint, a term of lod's vocabulary) to itself: a file of the output or a
    route of `lod serve`, never a doc/dumps/dataset.nt.gz.html that no build writes."""
    site: Path = request.getfixturevalue(built)
    targets = site_links(site)
    routes = {t for t in targets if not (site / file_path(t.lstrip("/"))).is_file()}
    assert len(targets) > 20 and "/doc/dataset.html" in targets
    with running_server(site) as url:
        answers = {path: get_as_sent(url + path).status_code for path in sorted(routes)}
    assert {path for path, status in answers.items() if status not in (200, 303)} == set()
    assert {"/vocab/lod", "/sparql"} <= routes  # lod's terms and the endpoint, linked as such
