"""Hostile literals render inert in every HTML view, checked in a real headless Chromium
(issue 7).

Records in every source format (archive page text, CSV scrape, JSON API, TEI, OAI-PMH oai_dc)
carry script elements, attribute breakouts (`"><img onerror>`), `javascript:` URLs in the link
fields, `</textarea>` and `</script>` breakouts, template syntax and a quote breakout. The
readers clean some of these on the way in (lod.sources.text), so one record is harvested RDF,
published as it is: its literals reach the pages raw and only the pages' own escaping stands
between them and the browser. Every view is then loaded by Chromium from `lod serve`: the
record, entity and vocabulary pages, the index, the query page (hostile queries and hostile
results drawn by its JavaScript), search, /sparql for browsers, the 404 and 410 pages and the
OAI-PMH XML. Each page must run no injected script (no `window.__xss`, no dialog), log no
console error, and have no event-handler attribute, injected element or `javascript:` link.

Skipped where Chromium is not installed (`make test` installs it when run as root, as in CI)
or Playwright cannot start it.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit
from xml.sax.saxutils import escape

import pytest
import requests

from lod.config import Config
from lod.publish.site import build
from tests.conftest import BASE, running_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="needs playwright: pip install -e '.[test]'"
)

SCRIPT = "<script>window.__xss=1</script>"
BREAKOUT = '"><img src=x onerror="window.__xss=1">'
JAVASCRIPT = "javascript:window.__xss=1"
TEXTAREA = "</textarea><svg onload=window.__xss=1>"
SLASHED = "</textarea><svg/onload=window.__xss=1>"
"""No space before the handler, which browsers still take for one (the readers' cleaning
missed it before it looked for a slash or a quote there too)."""
TEMPLATE = "{{7*7}}"
QUOTE = "'-alert(1)-'"
SCRIPT_END = "</script><script>window.__xss=1</script>"
COMMENT = "<!--<script>"
"""In a script element, opens the state in which its own </script> no longer ends it."""
PAYLOADS = (SCRIPT, BREAKOUT, TEXTAREA, SLASHED, TEMPLATE, QUOTE, SCRIPT_END, COMMENT)
ALL = " ".join(PAYLOADS)
RAW = BASE + "record/hostile-rdf"
GONE = BASE + "record/hostile-gone"
INJECTED = "img, svg, iframe, frame, object, embed, base, math, meta[http-equiv]"
"""Elements no lod page has of its own: found in a page, they came from the data."""
AUDIT = """() => {
  const found = [];
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      if (/^on/i.test(attr.name)) { found.push(`${el.localName}[${attr.name}]`); }
      if (/^(href|src|action|formaction|xlink:href)$/i.test(attr.name)
          && /^\\s*javascript:/i.test(attr.value)) {
        found.push(`${el.localName}[${attr.name}=${attr.value}]`);
      }
    }
  }
  for (const a of document.querySelectorAll("a")) {
    if (a.protocol === "javascript:") { found.push(`a[href=${a.href}]`); }
  }
  for (const el of document.querySelectorAll(INJECTED)) { found.push(`<${el.localName}>`); }
  for (const s of document.scripts) {
    const runs = !s.type || /javascript|module/i.test(s.type);
    if (runs && /__xss|alert\\(/.test(s.textContent)) { found.push("<script> from the data"); }
  }
  return found;
}""".replace("INJECTED", json.dumps(INJECTED))
NETWORK_ERROR = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")


def hostile(label: str) -> str:
    return f"Hostile {label} {ALL}"


# --- the hostile records, one file per source format --------------------------------------


def write_records(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "hostile-page.txt").write_text(archive_page(), encoding="utf-8")
    (folder / "hostile-scrape.csv").write_text(csv_scrape(), encoding="utf-8")
    (folder / "hostile-api.json").write_text(json.dumps(api_document()), encoding="utf-8")
    (folder / "hostile-tei.xml").write_text(tei_document(), encoding="utf-8")
    (folder / "hostile-dc.xml").write_text(oai_dc_record(), encoding="utf-8")
    (folder / "hostile-rdf.xml").write_text(oai_rdf_record(RAW, "hostile-rdf"), encoding="utf-8")
    (folder / "hostile-gone.xml").write_text(oai_rdf_record(GONE, "hostile-gone"), encoding="utf-8")


def archive_page() -> str:
    fields = {
        "Source": "source",
        "Rights": "rights",
        "Type": "type",
        "Language": "language",
        "Authors": "author",
        "People": "person",
        "Places": "place",
        "Subjects": "subject",
        "Original Archive": "archive",
        "Donors": "donor",
        "Collections": "collection",
    }
    info = "".join(
        f"{heading}\n\n{hostile('page ' + label)}\n\n" for heading, label in fields.items()
    )
    return (
        f"Skip to content\n\nJanuary 16, 1951\n\n{hostile('page title')}\n\n"
        f"{hostile('page text')}\n\n###\n\n{hostile('page summary')}\n\n\n"
        f"Document Information\n\n{info}Record ID\n\nhostile-page\n"
    )


def csv_scrape() -> str:
    row = {
        "document_url": JAVASCRIPT,
        "original_publication_date": "November 1967",
        "title": hostile("csv title"),
        "text_body": hostile("csv text"),
        "summary": hostile("csv summary"),
        "authors": json.dumps([hostile("csv author")]),
        "associated_places": json.dumps([hostile("csv place")]),
        "subjects_discussed": json.dumps([hostile("csv subject")]),
        "associated_people_orgs": json.dumps([hostile("csv person")]),
        "document_contributors": json.dumps([hostile("csv contributor")]),
        "source": hostile("csv source"),
        "original_upload_date": "2024-01-15",
        "original_archive_title": json.dumps([hostile("csv archive")]),
        "language": json.dumps([hostile("csv language")]),
        "rights": hostile("csv rights"),
        "record_id": "hostile-csv",
        "original_classification": hostile("csv classification"),
        "donors": json.dumps([hostile("csv donor")]),
        "type": hostile("csv type"),
        "collections": json.dumps([hostile("csv collection")]),
        "reading_room_note": hostile("csv unknown column"),
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(row))
    writer.writeheader()
    writer.writerow(row)
    return out.getvalue()


def api_document() -> dict[str, Any]:
    def named(label: str) -> list[dict[str, str]]:
        return [{"id": "1", "name": hostile(f"json {label}"), "uri": JAVASCRIPT}]

    return {
        "id": "hostile-json",
        "uri": JAVASCRIPT,
        "title": hostile("json title"),
        "doc_date": "19580000",
        "frontend_doc_date": "1958",
        "description": f'<p>{hostile("json summary")}</p><a href="{JAVASCRIPT}">a link</a>',
        "source": hostile("json source"),
        "type": named("type"),
        "rights": {
            "id": "1",
            "name": hostile("json rights name"),
            "rights": hostile("json rights"),
        },
        "languages": named("language"),
        "creators": named("author"),
        "contributors": named("contributor"),
        "subjects": named("subject"),
        "original_coverages": [
            {"id": "2", "name": hostile("json place"), "parent": {"name": hostile("json parent")}}
        ],
        "collections": named("collection"),
        "repositories": named("archive"),
        "donors": named("donor"),
        "classifications": named("classification"),
        "translations": [
            {
                "id": "3",
                "filename": hostile("json translation"),
                "content_type": "text/html",
                "url": JAVASCRIPT,
                "html": f"<p>{hostile('json text')}</p>",
            }
        ],
        "media_files": [
            {"id": "4", "filename": hostile("json media"), "content_type": "x", "url": JAVASCRIPT}
        ],
        "first_published_at": "2018-06-26 18:48:04",
        "unknown_key": hostile("json unknown key"),
    }


def tei_document() -> str:
    def e(label: str) -> str:
        return escape(hostile(f"tei {label}"))

    return f"""<?xml version="1.0" encoding="UTF-8"?>
<TEI xmlns="http://www.tei-c.org/ns/1.0" xml:id="hostile-tei"><teiHeader><fileDesc>
<titleStmt><title type="complete">{e("title")}</title><title type="short">{e("short")}</title></titleStmt>
<publicationStmt><date type="posted" when="2024-02-01">February 1, 2024</date>
<date type="created" when="1951">ca. 1951</date></publicationStmt>
<sourceDesc><p>{e("description")}</p><ref target="{escape(JAVASCRIPT)}">{e("scan")}</ref></sourceDesc>
</fileDesc></teiHeader>
<text><body><p>Source: {e("source")}</p>
<div type="document"><head>{e("head")}</head><p>{e("text")}</p></div></body></text></TEI>
"""


def oai_dc_record() -> str:
    elements = "".join(
        f"<dc:{name}>{escape(hostile('dc ' + name))}</dc:{name}>"
        for name in (
            "title",
            "creator",
            "subject",
            "description",
            "source",
            "language",
            "coverage",
            "rights",
            "type",
            "relation",
            "publisher",
        )
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<record xmlns="http://www.openarchives.org/OAI/2.0/">
<header><identifier>oai:hostile:hostile-dc</identifier><datestamp>2024-01-01</datestamp></header>
<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"
 xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier>hostile-dc</dc:identifier>
<dc:identifier>{escape(JAVASCRIPT)}</dc:identifier><dc:date>1950</dc:date>{elements}
</oai_dc:dc></metadata></record>
"""


def oai_rdf_record(uri: str, record_id: str) -> str:
    """A record harvested as RDF: published triple for triple, its literals never cleaned."""

    def e(label: str) -> str:
        return escape(hostile(f"rdf {label}"))

    js = escape(JAVASCRIPT)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<record xmlns="http://www.openarchives.org/OAI/2.0/">
<header><identifier>{uri}</identifier><datestamp>2024-01-01</datestamp></header>
<metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns:dcterms="http://purl.org/dc/terms/" xmlns:schema="http://schema.org/">
<rdf:Description rdf:about="{uri}">
<rdf:type rdf:resource="http://schema.org/CreativeWork"/>
<dcterms:identifier>{record_id}</dcterms:identifier>
<dcterms:title>{e("title")}</dcterms:title>
<dcterms:abstract>{e("summary")}</dcterms:abstract>
<schema:text>{e("text")}</schema:text>
<dcterms:rights xml:lang="en">{e("rights")}</dcterms:rights>
<dcterms:language>{e("language")}</dcterms:language>
<dcterms:type rdf:datatype="http://example.org/{quote(QUOTE)}">{e("type")}</dcterms:type>
<schema:url rdf:resource="{js}"/>
<schema:sameAs rdf:resource="{js}"/>
<schema:mentions rdf:resource="{BASE}agent/{record_id}-person"/>
<schema:contentLocation rdf:resource="{BASE}place/{record_id}-place"/>
</rdf:Description>
<rdf:Description rdf:about="{BASE}agent/{record_id}-person">
<rdf:type rdf:resource="http://schema.org/Person"/>
<schema:name>{e("person")}</schema:name><schema:sameAs rdf:resource="{js}"/>
</rdf:Description>
<rdf:Description rdf:about="{BASE}place/{record_id}-place">
<rdf:type rdf:resource="http://schema.org/Place"/><schema:name>{e("place")}</schema:name>
</rdf:Description>
</rdf:RDF></metadata></record>
"""


# --- the site, the server and the browser ------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built twice: the second build no longer has hostile-gone, so it has a tombstone."""
    work = tmp_path_factory.mktemp("xss")
    sources, out = work / "records", work / "site"
    write_records(sources)
    config = Config(base_uri=BASE, progress=False)
    first = build([sources], out, config, base_dir=work)
    assert (first.published, first.rejected) == (7, 0), first.errors
    (sources / "hostile-gone.xml").unlink()
    second = build([sources], out, config, base_dir=work)
    assert (second.published, second.rejected) == (6, 0), second.errors
    return out


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    with running_server(site) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        except sync_api.Error as exc:
            pytest.skip(f"playwright cannot start {CHROMIUM}: {exc.message.splitlines()[0]}")
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """What one page did in the browser."""

    url: str
    status: int
    text: str
    query_status: str
    """The query page's status line once its script ran ("1 result in 5 ms"); "" elsewhere."""
    problems: list[str]


class Tab:
    """One browser tab that visits pages one after another and notes, for each, every sign of
    injected script: what it logged as an error, threw, or opened as a dialog."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        self.expected: dict[str, int] = {}
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        page.on("dialog", self._dialog)

    def _console(self, message: Any) -> None:
        """Chromium logs each answer that is no success as a console error ("Failed to load
        resource"); those the visit expects are no problem."""
        where = message.location.get("url", "")
        network = NETWORK_ERROR.match(message.text)
        if message.type == "error" and not (
            network and self.expected.get(where) == int(network[1])
        ):
            self.problems.append(f"console error: {message.text} ({where})")

    def _dialog(self, dialog: Any) -> None:
        self.problems.append(f"dialog: {dialog.type} {dialog.message!r}")
        dialog.dismiss()

    def visit(self, url: str, *, status: int = 200, fetches: dict[str, int] | None = None) -> Visit:
        """Load `url`, let its scripts finish, and audit the page. `status`: what the page
        answers; `fetches` (path -> status): what the requests of its script get."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        self.expected = {url: status} | {origin + p: code for p, code in (fetches or {}).items()}
        self.problems = []
        page = self.page
        response = page.goto(url, wait_until="load")
        assert response is not None, url
        query_status = ""
        if page.query_selector("#status") is not None:  # the query page: wait for its fetch
            page.wait_for_function(
                "() => !/^Running/.test(document.getElementById('status').textContent)"
            )
            query_status = page.text_content("#status") or ""
        if page.evaluate("() => window.__xss") is not None:
            self.problems.append("window.__xss was set: injected script ran")
        self.problems.extend(page.evaluate(AUDIT))
        text = page.evaluate("() => document.documentElement.textContent")
        return Visit(response.url, response.status, text, query_status, self.problems)


@pytest.fixture(scope="module")
def tab(browser: Any) -> Iterator[Tab]:
    context = browser.new_context()
    yield Tab(context.new_page())
    context.close()


def check(found: Visit, status: int = 200) -> None:
    assert found.problems == [], found.url
    assert found.status == status, found.url


# --- the views ------------------------------------------------------------------------------


def test_every_page_that_shows_hostile_data(tab: Tab, server: str, site: Path) -> None:
    """The index, every page that shows a hostile value (records, people, places, subjects,
    archives, collections), and one page of each other kind (vocabularies, concepts, the
    dataset): by its thing URI (303 to the document, HTML for the browser) and by its file."""
    pages: dict[str, str] = {}
    for path in sorted(site.glob("doc/**/*.html")):
        thing = path.relative_to(site / "doc").with_suffix("").as_posix()
        kind = thing.rsplit("/", 1)[0] if thing.startswith("vocab/") else thing.split("/")[0]
        if "Hostile" in path.read_text(encoding="utf-8") or kind not in pages.values():
            pages[thing] = kind
    kinds = set(pages.values())
    assert {"record", "agent", "place", "subject", "archive", "collection", "dataset"} <= kinds
    assert {"vocab", "vocab/type", "vocab/language", "vocab/rights"} <= kinds
    assert len([t for t, kind in pages.items() if kind == "record"]) == 6
    check(tab.visit(server + "/"))
    for thing in pages:
        found = tab.visit(f"{server}/{quote(thing)}")
        check(found)
        assert found.url == f"{server}/doc/{quote(thing)}", found.url
    check(tab.visit(f"{server}/doc/record/hostile-rdf.html"))


def test_raw_literals_are_shown_as_text(tab: Tab, server: str) -> None:
    """The harvested record's literals reach its page uncleaned and read as written."""
    for path in ("/record/hostile-rdf", "/agent/hostile-rdf-person", "/"):
        found = tab.visit(server + path)
        check(found)
        for payload in PAYLOADS:
            assert payload in found.text, (path, payload)


def test_the_query_page(tab: Tab, server: str) -> None:
    check(tab.visit(server + "/query"))
    check(tab.visit(server + "/query?" + urlencode({"example": SCRIPT_END})))
    check(tab.visit(server + "/sparql"))  # a browser's Accept gets the query page
    for payload in PAYLOADS:
        # A query that does not parse: the endpoint's 400 message is shown as the status.
        found = tab.visit(query_url(server, payload), fetches={"/sparql": 400})
        check(found)
        assert found.query_status and "result" not in found.query_status, found.query_status


def test_hostile_results_in_the_query_page(tab: Tab, server: str) -> None:
    """Hostile literals and IRIs (javascript:) as query results, drawn by the page's script,
    and a hostile query text that runs: the editor, permalink and JSON data keep it inert."""
    titles = """SELECT ?record ?title ?url ?type WHERE {
  ?record dcterms:title ?title .
  OPTIONAL { ?record schema:url ?url }
  OPTIONAL { ?record dcterms:type ?type }
  FILTER(CONTAINS(?title, "Hostile"))
}"""
    found = tab.visit(query_url(server, titles))
    check(found)
    assert found.query_status.startswith("6 results"), found.query_status
    for payload in PAYLOADS:
        assert payload in found.text, payload
    assert JAVASCRIPT in found.text
    for payload in PAYLOADS:
        literal = json.dumps(payload)
        text = f"# {payload}\nSELECT ?x WHERE {{ BIND({literal} AS ?x) }}"
        found = tab.visit(query_url(server, text))
        check(found)
        assert found.query_status.startswith("1 result "), (payload, found.query_status)
    via_sparql = server + "/sparql?" + urlencode({"query": titles})
    check(tab.visit(via_sparql))


def test_search(tab: Tab, server: str) -> None:
    """Hits with hostile titles and snippets (the snippets' <mark> is the page's own markup),
    hostile words to search for, and a hostile kind (400)."""
    found = tab.visit(server + "/search?q=rdf")
    check(found)
    assert "3 results" in found.text
    for payload in PAYLOADS:
        assert payload in found.text, payload
    check(tab.visit(server + "/search?q=Hostile"))
    check(tab.visit(server + "/search?q=Hostile&offset=20"))
    for payload in (*PAYLOADS, JAVASCRIPT):
        check(tab.visit(server + "/search?" + urlencode({"q": payload})))
    bad_kind = server + "/search?" + urlencode({"q": "x", "kind": BREAKOUT})
    check(tab.visit(bad_kind, status=400), status=400)


def test_error_pages(tab: Tab, server: str) -> None:
    """404 for hostile paths (their text echoed in the message), 410 for the deleted record."""
    for payload in (*PAYLOADS, JAVASCRIPT):
        for root in ("/record/", "/doc/", "/nothing/"):
            url = server + root + quote(payload, safe="")
            check(tab.visit(url, status=404), status=404)
    gone = tab.visit(server + "/record/hostile-gone", status=410)
    check(gone, status=410)
    assert SCRIPT in gone.text and TEMPLATE in gone.text


def test_oai_pmh_in_the_browser(tab: Tab, server: str) -> None:
    """OAI-PMH is XML, which a browser draws as a tree: escaped, no XHTML script can hide."""
    for prefix in ("oai_dc", "rdf"):
        found = tab.visit(f"{server}/oai?verb=ListRecords&metadataPrefix={prefix}")
        check(found)
        assert "Hostile" in found.text
    check(tab.visit(server + "/oai?" + urlencode({"verb": SCRIPT})))


def query_url(server: str, text: str) -> str:
    return server + "/query?" + urlencode({"query": text})


def test_html_answers_carry_a_policy(server: str) -> None:
    """Every HTML answer forbids scripts but the query page's own, named by its hash; a
    browser asking for /favicon.ico by itself learns there is none without a 404."""
    html = {"Accept": "text/html"}
    for path, status in (
        ("/", 200),
        ("/doc/record/hostile-rdf", 200),
        ("/search?q=rdf", 200),
        ("/record/nothing", 404),
        ("/record/hostile-gone", 410),
    ):
        r = requests.get(server + path, headers=html, timeout=10)
        assert r.status_code == status and r.headers["Content-Type"].startswith("text/html")
        assert "script-src 'none'" in r.headers["Content-Security-Policy"], path
        assert "base-uri 'none'" in r.headers["Content-Security-Policy"], path
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    query = requests.get(server + "/query", headers=html, timeout=10)
    (script,) = re.findall(r"<script>(.*?)</script>", query.text, re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}';" in query.headers["Content-Security-Policy"]
    icon = requests.get(server + "/favicon.ico", timeout=10)
    assert icon.status_code == 204 and icon.content == b""


DETECTOR_PAGE = (
    '<!DOCTYPE html><link rel="icon" href="data:,">'
    f"<p>{BREAKOUT}<a href='{JAVASCRIPT}'>x</a><script>alert(1)</script></p>"
)
"""Markup as it would be if a page forgot to escape: an event handler, a javascript: link and
a script that opens a dialog (the empty icon keeps the browser's favicon request out of it)."""


def test_the_checks_see_script_that_runs(tab: Tab, tmp_path: Path) -> None:
    """The checks themselves, on a plain static server with no policy: unescaped markup runs
    and is caught every way."""
    (tmp_path / "hostile.html").write_text(DETECTOR_PAGE, encoding="utf-8")
    handler = partial(Quiet, directory=str(tmp_path))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as plain:
        thread = threading.Thread(target=plain.serve_forever, daemon=True)
        thread.start()
        try:
            found = tab.visit(f"http://127.0.0.1:{plain.server_address[1]}/hostile.html")
        finally:
            plain.shutdown()
            thread.join()
    assert found.status == 200
    assert "window.__xss was set: injected script ran" in found.problems
    assert "dialog: alert '1'" in found.problems
    assert {"img[onerror]", "<img>", f"a[href={JAVASCRIPT}]", "<script> from the data"} <= set(
        found.problems
    )


def test_the_policy_stops_script_that_got_through(tab: Tab, server: str, site: Path) -> None:
    """The same markup served by lod: its Content-Security-Policy refuses the script and the
    handler (Chromium logs each refusal as an error), so nothing runs."""
    (site / "unescaped.html").write_text(DETECTOR_PAGE, encoding="utf-8")
    found = tab.visit(server + "/unescaped.html")
    assert found.status == 200
    assert "window.__xss was set: injected script ran" not in found.problems
    assert not [p for p in found.problems if p.startswith("dialog")], found.problems
    refused = [p for p in found.problems if "Content Security Policy" in p]
    assert len(refused) == 2, found.problems  # the <script> and the onerror handler


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass
