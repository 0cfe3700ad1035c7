"""Change feeds and tombstones: ResourceSync, the Activity Streams feed and 410 Gone, all from
the change log, checked on a real `lod serve` across a rebuild that drops one source record.

ResourceSync lists are read with resync (the reference client library), RDF with rdflib,
Activity Streams JSON-LD with pyld through a loader that fetches nothing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import requests
from pyld import jsonld
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, XSD
from resync import ChangeList, ResourceList

from lod.changelog import LOG_FILE, ChangeLog
from lod.config import Config
from lod.publish.site import build
from lod.serve import activity, resourcesync
from lod.serve.app import App
from tests.conftest import BASE, RECORDS, free_port, running_server

AS = Namespace("https://www.w3.org/ns/activitystreams#")
RS = resourcesync.RS
REMOVED_FILE = "example-tei.xml"
REMOVED = BASE + "record/example-tei-1"
KEPT = BASE + "record/112095"
VERBS = {"Create": "created", "Update": "updated", "Delete": "deleted"}
AS_CONTEXT: dict[str, Any] = {
    "@vocab": "_:",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "as": str(AS),
    "id": "@id",
    "type": "@type",
    **{name: f"as:{name}" for name in ("Create", "Update", "Delete", "Tombstone")},
    "OrderedCollection": "as:OrderedCollection",
    "OrderedCollectionPage": "as:OrderedCollectionPage",
    **{
        name: {"@id": f"as:{name}", "@type": "@id"}
        for name in ("first", "last", "next", "prev", "partOf", "object")
    },
    "orderedItems": {"@id": "as:items", "@type": "@id", "@container": "@list"},
    "totalItems": {"@id": "as:totalItems", "@type": "xsd:nonNegativeInteger"},
    **{
        name: {"@id": f"as:{name}", "@type": "xsd:dateTime"}
        for name in ("published", "updated", "endTime")
    },
    "summary": "as:summary",
    "name": "as:name",
}
"""The Activity Streams 2.0 context's definitions of the terms the feed uses, so pyld reads it
without fetching https://www.w3.org/ns/activitystreams."""


def as_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    if url != activity.CONTEXT:
        raise AssertionError(f"pyld tried to fetch {url}")
    return {"contextUrl": None, "documentUrl": url, "document": {"@context": AS_CONTEXT}}


def parse(data: str | bytes, parser: str) -> Graph:
    """rdflib for Turtle, N-Triples and RDF/XML; pyld for JSON-LD (rdflib's JSON-LD parser warns
    under -W error), through a loader that fetches nothing but the local AS context."""
    if parser != "json-ld":
        return Graph().parse(data=data, format=parser)
    nquads = jsonld.to_rdf(
        json.loads(data), {"format": "application/n-quads", "documentLoader": as_loader}
    )
    return Graph().parse(data=nquads, format="nt")


@dataclass
class History:
    """A published site built twice, the second time without one source record, and the
    server that answered both builds."""

    site: Path
    url: str
    before: dict[str, Any]


def local(url: str, server: str) -> str:
    """A URL minted under BASE, as this test's server answers it."""
    return url.replace(BASE, server + "/", 1)


def get(url: str, accept: str = "", **headers: str) -> requests.Response:
    if accept:
        headers["Accept"] = accept
    return requests.get(url, headers=headers, allow_redirects=False, timeout=10)


def read_log(site: Path) -> ChangeLog:
    return ChangeLog(site / LOG_FILE, readonly=True)


def publish(sources: Path, site: Path) -> None:
    build([sources], site, Config(base_uri=BASE, progress=False), base_dir=sources.parent)


def activities(server: str) -> list[dict[str, Any]]:
    """Every activity of the feed, newest first, walking from `first` along `next`."""
    entry = get(server + "/activity").json()
    items: list[dict[str, Any]] = []
    ref = entry.get("first")
    while ref:
        page = get(ref["id"]).json()
        items.extend(page["orderedItems"])
        ref = page.get("next")
    assert len(items) == entry["totalItems"]
    return items


def read_list(kind: type[ResourceList] | type[ChangeList], url: str) -> list[Any]:
    """The entries of a ResourceSync list (and of a Resource List Index's parts), read by resync."""
    listing = kind()
    listing.read(uri=url)
    return list(listing)


def _describes(resource: Any) -> str:
    """The thing a ResourceSync entry's document describes."""
    return next(link["href"] for link in resource.ln if link["rel"] == "describes")


def snapshot(server: str) -> dict[str, Any]:
    return {
        "resources": {
            _describes(r)
            for r in read_list(ResourceList, server + "/resourcesync/resourcelist.xml")
        },
        "activities": activities(server),
        "record": get(server + "/record/example-tei-1").status_code,
    }


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    work = tmp_path_factory.mktemp("history")
    sources = work / "records"
    shutil.copytree(RECORDS, sources)
    site = work / "site"
    publish(sources, site)
    with running_server(site) as url:
        before = snapshot(url)
        (sources / "examples" / REMOVED_FILE).unlink()
        publish(sources, site)
        deadline = time.monotonic() + 15
        while get(url + "/record/example-tei-1").status_code != 410:
            assert time.monotonic() < deadline, "the server did not follow the rebuild"
            time.sleep(0.1)
        yield History(site, url, before)


def test_the_first_build_lists_the_record(history: History) -> None:
    assert history.before["record"] == 303
    assert REMOVED in history.before["resources"]
    assert [a["type"] for a in history.before["activities"]] == ["Create"] * len(
        history.before["activities"]
    )


def test_a_removed_record_is_deleted_in_the_change_list(history: History) -> None:
    changes = read_list(ChangeList, history.url + "/resourcesync/changelist.xml")
    mine = [c for c in changes if _describes(c) == REMOVED]
    assert [c.change for c in mine] == ["created", "deleted"]
    assert mine[-1].uri == BASE + "doc/record/example-tei-1.ttl"
    assert mine[-1].sha256 is None and mine[-1].datetime
    listed = {
        _describes(r)
        for r in read_list(ResourceList, history.url + "/resourcesync/resourcelist.xml")
    }
    assert REMOVED not in listed and KEPT in listed
    assert listed == history.before["resources"] - {REMOVED}


def test_a_removed_record_is_deleted_in_the_activity_feed(history: History) -> None:
    items = activities(history.url)
    newest = items[0]
    assert newest["type"] == "Delete" and newest["object"]["id"] == REMOVED
    assert newest["object"]["type"] == "https://www.ica.org/standards/RiC/ontology#RecordResource"
    assert newest["published"] == newest["endTime"] == newest["object"]["updated"]
    assert [a["type"] for a in items if a["object"]["id"] == REMOVED] == ["Delete", "Create"]
    assert len(items) == len(history.before["activities"]) + 1


TOMBSTONE_CASES = [
    ("text/turtle", "turtle", "text/turtle; charset=utf-8"),
    ("application/ld+json", "json-ld", "application/ld+json; charset=utf-8"),
    ("application/n-triples", "nt", "application/n-triples"),
    ("application/rdf+xml", "xml", "application/rdf+xml; charset=utf-8"),
    ("text/turtle;q=0.5, application/rdf+xml", "xml", "application/rdf+xml; charset=utf-8"),
]


@pytest.mark.parametrize(("accept", "parser", "media"), TOMBSTONE_CASES)
@pytest.mark.parametrize("path", ["/record/example-tei-1", "/doc/record/example-tei-1"])
def test_a_deleted_uri_answers_410_with_a_tombstone(
    history: History, path: str, accept: str, parser: str, media: str
) -> None:
    r = get(history.url + path, accept)
    assert r.status_code == 410 and r.headers["Content-Type"] == media
    assert r.headers["Access-Control-Allow-Origin"] == "*" and "Accept" in r.headers["Vary"]
    check_tombstone(parse(r.content, parser), history.site)


@pytest.mark.parametrize(
    ("suffix", "parser"),
    [(".ttl", "turtle"), (".jsonld", "json-ld"), (".nt", "nt"), (".rdf", "xml")],
)
def test_deleted_documents_answer_410_by_suffix_and_format(
    history: History, suffix: str, parser: str
) -> None:
    by_suffix = get(history.url + "/doc/record/example-tei-1" + suffix, "text/html")
    by_param = get(f"{history.url}/record/example-tei-1?format={suffix[1:]}")
    for r in (by_suffix, by_param):
        assert r.status_code == 410
        check_tombstone(parse(r.content, parser), history.site)


def test_a_deleted_uri_answers_410_to_browsers(history: History) -> None:
    r = get(history.url + "/record/example-tei-1", "text/html,*/*;q=0.8")
    assert r.status_code == 410 and r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "no longer in the sources" in r.text and "Letter From Jane Example" in r.text
    embedded = r.text.split('<script type="application/ld+json">')[1].split("</script>")[0]
    check_tombstone(parse(embedded, "json-ld"), history.site)
    head = requests.head(history.url + "/record/example-tei-1", timeout=10)
    assert head.status_code == 410 and not head.content
    assert get(history.url + "/record/no-such-record", "text/turtle").status_code == 404


def check_tombstone(graph: Graph, site: Path) -> None:
    """The tombstone says what the log says: deleted when, and why."""
    with read_log(site) as log:
        found = log.resource(REMOVED)
    assert found is not None and found.deleted and found.reason
    thing = URIRef(REMOVED)
    assert (thing, RDF.type, AS.Tombstone) in graph
    assert graph.value(thing, AS.formerType) == URIRef(
        "https://www.ica.org/standards/RiC/ontology#RecordResource"
    )
    deleted = graph.value(thing, AS.deleted)
    assert isinstance(deleted, Literal) and deleted.datatype == XSD.dateTime
    assert deleted.toPython() == datetime.fromisoformat(found.deleted)
    assert graph.value(thing, AS.summary) == Literal(found.reason, lang="en")
    assert graph.value(thing, AS.name) == Literal(found.title)


def test_feeds_agree_with_each_other_and_the_log(history: History) -> None:
    with read_log(history.site) as log:
        logged = [(c.uri, c.change, c.time) for c in log.changes(limit=1 << 20)]
        current = {r.uri: r for r in log.resources(limit=1 << 20)}
    changes = read_list(ChangeList, history.url + "/resourcesync/changelist.xml")
    sync = [(_describes(c), c.change, c.datetime) for c in changes]
    feed = [
        (a["object"]["id"], VERBS[a["type"]], a["published"])
        for a in reversed(activities(history.url))
    ]
    assert sync == feed == logged
    assert Counter(c for _, c, _ in sync) == Counter(c for _, c, _ in feed)
    listed = read_list(ResourceList, history.url + "/resourcesync/resourcelist.xml")
    assert {_describes(r): (r.sha256, r.length, r.lastmod) for r in listed} == {
        uri: (r.hash, r.length, r.modified) for uri, r in current.items()
    }
    for resource in listed:
        served = get(local(resource.uri, history.url))
        assert served.status_code == 200 and served.headers["Content-Type"].startswith(
            "text/turtle"
        )
        assert hashlib.sha256(served.content).hexdigest() == resource.sha256
        assert len(served.content) == resource.length


def test_oai_pmh_and_the_sitemap_tell_the_same_story(history: History) -> None:
    """OAI-PMH (read by Sickle) and the sitemap against the log and the Activity Streams feed:
    the same records, deletions and datestamps."""
    from sickle import Sickle

    headers = {
        h.identifier: (h.datestamp, h.deleted)
        for h in Sickle(history.url + "/oai").ListIdentifiers(metadataPrefix="rdf")
    }
    with read_log(history.site) as log:
        records = [r for r in log.resources(kind="record", limit=1 << 20)]
        gone = [c.uri for c in log.changes(limit=1 << 20) if c.change == "deleted"]
        expected = {r.uri: (r.modified, False) for r in records}
        for uri in gone:
            resource = log.resource(uri)
            assert resource is not None and resource.deleted is not None
            if resource.kind == "record":
                expected[uri] = (resource.deleted, True)
    assert headers == expected
    assert any(deleted for _, deleted in headers.values())
    latest: dict[str, str] = {}
    for item in activities(history.url):  # newest first
        latest.setdefault(item["object"]["id"], item["published"])
    assert {uri: stamp for uri, (stamp, _) in headers.items()} == {
        uri: latest[uri] for uri in headers
    }
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    sitemap = ElementTree.fromstring(get(history.url + "/sitemap.xml").content)
    dated = {
        url.findtext("s:loc", "", ns): url.findtext("s:lastmod", "", ns)
        for url in sitemap.findall("s:url", ns)
    }
    for uri, (stamp, deleted) in headers.items():
        page = BASE + "doc/" + uri.removeprefix(BASE) + ".html"
        assert (page not in dated) if deleted else dated[page] == stamp


def test_feed_documents_are_cacheable_and_open_to_any_origin(history: History) -> None:
    for path, media in [
        ("/.well-known/resourcesync", "application/xml"),
        ("/resourcesync/capabilitylist.xml", "application/xml"),
        ("/activity", "application/ld+json"),
        ("/activity/page/1", "application/ld+json"),
    ]:
        r = get(history.url + path)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith(media), path
        assert r.headers["Access-Control-Allow-Origin"] == "*" and r.headers["Last-Modified"]
        again = get(history.url + path, **{"If-None-Match": r.headers["ETag"]})
        assert again.status_code == 304
    for path in ("/activity/page/99", "/resourcesync/resourcelist-1.xml", "/resourcesync/x"):
        assert get(history.url + path).status_code == 404, path
    assert requests.post(history.url + "/activity", timeout=10).status_code == 405


def test_resourcesync_discovery_leads_to_the_lists(history: History) -> None:
    """Source Description -> Capability List -> Resource and Change Lists (spec 11, 9)."""
    description = get(history.url + "/.well-known/resourcesync").text
    assert 'capability="description"' in description
    capability_list = history.url + "/resourcesync/capabilitylist.xml"
    assert f"<loc>{capability_list}</loc>" in description
    listed = get(capability_list).text
    assert 'capability="capabilitylist"' in listed
    for name in ("resourcelist", "changelist"):
        assert f"<loc>{history.url}/resourcesync/{name}.xml</loc>" in listed


def test_the_activity_feed_is_activity_streams_json_ld(history: History) -> None:
    entry = get(history.url + "/activity")
    assert entry.headers["Content-Type"].startswith("application/ld+json")
    collection = entry.json()
    assert collection["@context"] == activity.CONTEXT
    page = get(collection["first"]["id"]).json()
    graph = parse(entry.content, "json-ld") + parse(get(page["id"]).content, "json-ld")
    feed = URIRef(collection["id"])
    assert (feed, RDF.type, AS.OrderedCollection) in graph
    assert int(graph.value(feed, AS.totalItems)) == collection["totalItems"]
    first = URIRef(page["id"])
    assert graph.value(feed, AS.first) == first and graph.value(first, AS.partOf) == feed
    deletes = list(graph.subjects(RDF.type, AS.Delete))
    assert [graph.value(d, AS.object) for d in deletes] == [URIRef(REMOVED)]
    assert graph.value(deletes[0], AS.published).datatype == XSD.dateTime


@contextmanager
def serving_here(site: Path) -> Iterator[str]:
    """The app in a uvicorn server on a thread of this process, so a test can lower the
    feeds' page sizes."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            App(site, Config(base_uri=BASE, progress=False)),
            host="127.0.0.1",
            port=port,
            lifespan="on",
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_long_lists_split_into_indexed_parts(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resourcesync, "PART_SIZE", 10)
    monkeypatch.setattr(activity, "PAGE_SIZE", 10)
    with read_log(history.site) as log:
        logged = [(c.uri, c.change, c.time) for c in log.changes(limit=1 << 20)]
        current = [r.uri for r in log.resources(limit=1 << 20)]
    assert len(current) > 20 and len(logged) > 20
    # parts of 10, the last one partly filled (the vocabularies' concepts are resources too)
    resource_parts, change_parts = -(-len(current) // 10), -(-len(logged) // 10)
    with serving_here(history.site) as url:
        index = get(url + "/resourcesync/resourcelist.xml").text
        assert index.count("<sitemap>") == resource_parts and "<sitemapindex" in index
        part = get(url + "/resourcesync/resourcelist-2.xml").text
        assert part.count("<url>") == 10
        assert f'rel="index" href="{url}/resourcesync/resourcelist.xml"' in part
        listed = read_list(ResourceList, url + "/resourcesync/resourcelist.xml")
        # resync orders entries by document URL ('inc-edu.ttl' before 'inc.ttl'), the log by URI
        assert sorted(_describes(r) for r in listed) == sorted(current)
        # resync reads no Change List Index (ChangeList.add refuses its entries): read the
        # index here, and each part with resync
        index = ElementTree.fromstring(get(url + "/resourcesync/changelist.xml").content)
        assert index.tag == f"{{{resourcesync.SITEMAP}}}sitemapindex"
        spans = [
            md.attrib for md in index.iterfind(f"{{{resourcesync.SITEMAP}}}sitemap/{{{RS}}}md")
        ]
        assert [s["capability"] for s in spans] == ["changelist"] * change_parts
        assert "until" in spans[0] and "until" not in spans[-1]
        parts = [loc.text or "" for loc in index.iter(f"{{{resourcesync.SITEMAP}}}loc")]
        assert parts == [
            f"{url}/resourcesync/changelist-{n}.xml" for n in range(1, change_parts + 1)
        ]
        changes = [c for part in parts for c in read_list(ChangeList, part)]
        assert [(_describes(c), c.change, c.datetime) for c in changes] == logged
        assert spans[0]["from"] == logged[0][2] and spans[0]["until"] == logged[9][2]
        items = activities(url)
        assert [(a["object"]["id"], VERBS[a["type"]], a["published"]) for a in items] == logged[
            ::-1
        ]
        entry = get(url + "/activity").json()
        pages = -(-len(logged) // 10)
        assert entry["first"]["id"] == f"{url}/activity/page/{pages}"
        assert entry["last"]["id"] == f"{url}/activity/page/1"
        oldest = get(entry["last"]["id"]).json()
        assert oldest["prev"]["id"] == f"{url}/activity/page/2" and "next" not in oldest


def test_a_build_without_a_change_log_has_no_feeds_and_no_tombstones(
    history: History, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    shutil.copytree(history.site, site, ignore=shutil.ignore_patterns(LOG_FILE, "store"))
    shutil.copytree(history.site / "store", site / "store")
    with serving_here(site) as url:
        for path in ("/.well-known/resourcesync", "/activity", "/resourcesync/changelist.xml"):
            assert get(url + path).status_code == 404, path
        assert get(url + "/record/example-tei-1", "text/turtle").status_code == 404
        assert get(url + "/record/112095").status_code == 303


def test_the_corpus_resource_list_is_every_turtle_document(
    corpus_site: Path, corpus_server: str
) -> None:
    listed = read_list(ResourceList, corpus_server + "/resourcesync/resourcelist.xml")
    documents = {
        BASE + str(p.relative_to(corpus_site)): p
        for p in corpus_site.glob("doc/**/*.ttl")
        if p.name != "dataset.ttl"
    }
    assert {r.uri for r in listed} == set(documents)
    for resource in listed:
        data = documents[resource.uri].read_bytes()
        assert (resource.sha256, resource.length) == (hashlib.sha256(data).hexdigest(), len(data))
