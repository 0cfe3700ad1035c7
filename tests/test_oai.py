"""OAI-PMH at /oai: a real `lod serve` on real builds, harvested with the Sickle client and read
with lxml; a republish between pages and a deletion, as an aggregator re-harvesting meets them."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from lxml import etree
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS
from sickle import Sickle

from lod.changelog import open_log, stamp
from lod.config import Config
from lod.oaidc import DC_NS, ELEMENTS, OAI_DC_NS, OAI_DC_SCHEMA, XSI_NS
from lod.publish import incremental as incremental_module
from lod.publish import site as site_module
from lod.publish.site import build
from lod.serve.oai import METADATA_FORMATS
from tests.conftest import BASE, running_server

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
OAI = f"{{{OAI_NS}}}"
PAGE = 7
EMAIL = "archive@example.org"
PUBLISHER = "Test Archive"


@dataclass(frozen=True)
class Header:
    identifier: str
    datestamp: str
    sets: tuple[str, ...]
    deleted: bool


def oai(url: str, method: str = "GET", **args: str | list[str]) -> etree._Element:
    """One OAI-PMH request; every answer, errors included, is 200 text/xml."""
    if method == "POST":
        r = requests.post(url, data=args, timeout=10)
    else:
        r = requests.get(url, params=args, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "text/xml; charset=utf-8"
    root = etree.fromstring(r.content)
    assert root.tag == OAI + "OAI-PMH"
    assert [child.tag for child in root][:2] == [OAI + "responseDate", OAI + "request"]
    return root


def error_code(root: etree._Element) -> str | None:
    found = root.find(OAI + "error")
    return None if found is None else str(found.get("code"))


def headers_of(root: etree._Element) -> list[Header]:
    return [
        Header(
            h.findtext(OAI + "identifier") or "",
            h.findtext(OAI + "datestamp") or "",
            tuple(s.text or "" for s in h.findall(OAI + "setSpec")),
            h.get("status") == "deleted",
        )
        for h in root.iter(OAI + "header")
    ]


def token_of(root: etree._Element) -> etree._Element | None:
    return next(root.iter(OAI + "resumptionToken"), None)


def harvest(url: str, verb: str = "ListIdentifiers", **args: str) -> list[Header]:
    """A whole list, page by page, checking cursor and completeListSize on every token."""
    root = oai(url, verb=verb, **args)
    assert error_code(root) is None, etree.tostring(root)
    found = headers_of(root)
    token = token_of(root)
    size = None if token is None else int(str(token.get("completeListSize")))
    while token is not None:
        assert int(str(token.get("cursor"))) == len(found) - len(headers_of(root))
        assert int(str(token.get("completeListSize"))) == size
        if not token.text:
            break
        root = oai(url, verb=verb, resumptionToken=token.text)
        found += headers_of(root)
        token = token_of(root)
        assert token is not None, "the last page of a paged list carries an empty token"
    assert size is None or size == len(found)
    return found


def published_records(site: Path) -> int:
    return int(json.loads((site / "build.json").read_text())["records"])


@pytest.fixture(scope="module")
def server(corpus_site: Path) -> Iterator[str]:
    with running_server(
        corpus_site, oai_page_size=str(PAGE), admin_email=EMAIL, publisher=PUBLISHER
    ) as url:
        yield url + "/oai"


@pytest.fixture(scope="module")
def everything(server: str) -> list[Header]:
    return harvest(server, metadataPrefix="rdf")


# --- the whole corpus ----------------------------------------------------------------------


@pytest.mark.parametrize("prefix", list(METADATA_FORMATS))
def test_whole_corpus_harvested_with_sickle(server: str, corpus_site: Path, prefix: str) -> None:
    records = list(Sickle(server).ListRecords(metadataPrefix=prefix, ignore_deleted=False))
    identifiers = [r.header.identifier for r in records]
    assert len(identifiers) == len(set(identifiers)) == published_records(corpus_site)
    assert all(i.startswith(BASE) for i in identifiers)
    assert not any(r.deleted for r in records)
    for record in records:
        metadata = record.xml.find(OAI + "metadata")
        assert metadata is not None and len(metadata) == 1
        CHECKS[prefix](metadata[0], record.header.identifier, corpus_site)


def check_rdf(element: etree._Element, uri: str, site: Path) -> None:
    """The record's whole graph: the RDF/XML in <metadata> equals its N-Triples document."""
    assert element.tag == f"{{{RDF_NS}}}RDF"
    graph = Graph().parse(data=etree.tostring(element), format="xml")
    stem = uri[len(BASE) :]
    assert isomorphic(graph, Graph().parse(site / "doc" / f"{stem}.nt", format="nt"))


def check_oai_dc(element: etree._Element, uri: str, site: Path) -> None:
    """<oai_dc:dc> with its schema location, only the fifteen DC elements in their order, a
    title the record's graph holds, the URI among the identifiers, a publisher."""
    assert element.tag == f"{{{OAI_DC_NS}}}dc"
    assert element.get(f"{{{XSI_NS}}}schemaLocation") == f"{OAI_DC_NS} {OAI_DC_SCHEMA}"
    names = [etree.QName(child).localname for child in element]
    assert all(etree.QName(child).namespace == DC_NS for child in element)
    assert names == sorted(names, key=ELEMENTS.index)
    values = {name: [c.text for c in element if etree.QName(c).localname == name] for name in names}
    graph = Graph().parse(site / "doc" / f"{uri[len(BASE) :]}.nt", format="nt")
    titles = {str(o) for o in graph.objects(URIRef(uri), DCTERMS.title) if isinstance(o, Literal)}
    assert values["title"][0] in titles
    assert uri in values["identifier"] and values["publisher"]


CHECKS = {"rdf": check_rdf, "oai_dc": check_oai_dc}


def test_pages_carry_cursor_and_list_size(server: str, everything: list[Header]) -> None:
    first = oai(server, verb="ListIdentifiers", metadataPrefix="rdf")
    token = token_of(first)
    assert token is not None and token.text
    assert (token.get("cursor"), token.get("completeListSize")) == ("0", str(len(everything)))
    assert len(headers_of(first)) == PAGE
    again = oai(server, verb="ListIdentifiers", resumptionToken=token.text)
    once_more = oai(server, verb="ListIdentifiers", resumptionToken=token.text)
    assert headers_of(again) == headers_of(once_more), "a token reused gives the same page"
    assert str(token_of(again).get("cursor")) == str(PAGE)  # type: ignore[union-attr]


def test_identify(server: str, everything: list[Header]) -> None:
    root = oai(server, verb="Identify")
    identify = root.find(OAI + "Identify")
    assert identify is not None
    fields = {child.tag.removeprefix(OAI): child.text for child in identify}
    assert fields == {
        "repositoryName": "lod archive",
        "baseURL": server,
        "protocolVersion": "2.0",
        "adminEmail": EMAIL,
        "earliestDatestamp": min(h.datestamp for h in everything),
        "deletedRecord": "persistent",
        "granularity": "YYYY-MM-DDThh:mm:ssZ",
        "compression": "gzip",
    }
    request = root.find(OAI + "request")
    assert (
        request is not None
        and request.text == server
        and dict(request.attrib) == {"verb": "Identify"}
    )
    assert Sickle(server).Identify().repositoryName == "lod archive"


def test_metadata_formats(server: str, everything: list[Header]) -> None:
    for args in ({}, {"identifier": everything[0].identifier}):
        root = oai(server, verb="ListMetadataFormats", **args)
        formats = {
            f.findtext(OAI + "metadataPrefix"): (
                f.findtext(OAI + "schema"),
                f.findtext(OAI + "metadataNamespace"),
            )
            for f in root.iter(OAI + "metadataFormat")
        }
        assert formats == {p: (f.schema, f.namespace) for p, f in METADATA_FORMATS.items()}
        assert formats["rdf"] == ("http://www.openarchives.org/OAI/2.0/rdf.xsd", RDF_NS)
        assert formats["oai_dc"] == (
            "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
            "http://www.openarchives.org/OAI/2.0/oai_dc/",
        )


def test_sets_and_selective_harvests(server: str, everything: list[Header]) -> None:
    listed = {s.setSpec: s.setName for s in Sickle(server).ListSets()}
    assert {"type", "archive", "collection"} <= set(listed)
    assert all(listed.values())
    used = {spec for h in everything for spec in h.sets}
    assert used <= set(listed) and any(s.startswith("collection:") for s in used)
    leaves = sorted(used)[:: max(1, len(used) // 4)]
    for spec in ["type", "archive", "collection", *leaves]:
        expected = [
            h for h in everything if any(s == spec or s.startswith(spec + ":") for s in h.sets)
        ]
        assert harvest(server, metadataPrefix="rdf", set=spec) == expected, spec


def test_from_and_until(server: str, everything: list[Header]) -> None:
    stamps = sorted({h.datestamp for h in everything})
    for moment in (stamps[0], stamps[-1]):
        newer = harvest(server, metadataPrefix="rdf", **{"from": moment})
        assert newer == [h for h in everything if h.datestamp >= moment]
        older = harvest(server, metadataPrefix="rdf", until=moment)
        assert older == [h for h in everything if h.datestamp <= moment]
        day = moment[:10]
        assert harvest(server, metadataPrefix="rdf", **{"from": day, "until": day}) == [
            h for h in everything if h.datestamp[:10] == day
        ], "a day until covers the whole day"
    root = oai(server, verb="ListIdentifiers", metadataPrefix="rdf", until="1990-01-01")
    assert error_code(root) == "noRecordsMatch"


# --- protocol errors -----------------------------------------------------------------------

SEED = BASE + "record/112095"
ERRORS = [
    ({}, "badVerb"),
    ({"verb": "Nonsense"}, "badVerb"),
    ({"verb": ["Identify", "Identify"]}, "badVerb"),
    ({"verb": "Identify", "metadataPrefix": "rdf"}, "badArgument"),
    ({"verb": "ListRecords"}, "badArgument"),
    ({"verb": "ListIdentifiers", "metadataPrefix": ["rdf", "rdf"]}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "rdf", "from": "2024-13-01"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "rdf", "from": "yesterday"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "rdf", "until": "2024-02-30"}, "badArgument"),
    (
        {"verb": "ListRecords", "metadataPrefix": "rdf", "from": "2024-01-01T00:00:00.5Z"},
        "badArgument",
    ),
    (
        {"verb": "ListIdentifiers", "metadataPrefix": "rdf", "from": "2024-01-01"}
        | {"until": "2024-01-02T00:00:00Z"},
        "badArgument",
    ),
    (
        {"verb": "ListIdentifiers", "metadataPrefix": "rdf", "from": "2024-02-02"}
        | {"until": "2024-02-01"},
        "badArgument",
    ),
    ({"verb": "ListIdentifiers", "metadataPrefix": "rdf", "set": "a b"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai dc"}, "badArgument"),
    ({"verb": "GetRecord", "identifier": SEED, "metadataPrefix": "<rdf>"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "rdf", "resumptionToken": "x"}, "badArgument"),
    ({"verb": "GetRecord", "identifier": SEED}, "badArgument"),
    ({"verb": "GetRecord", "identifier": "", "metadataPrefix": "rdf"}, "badArgument"),
    ({"verb": "ListRecords", "resumptionToken": "not-a-token"}, "badResumptionToken"),
    ({"verb": "ListIdentifiers", "resumptionToken": "WzEsMiwzXQ"}, "badResumptionToken"),
    ({"verb": "ListSets", "resumptionToken": "x"}, "badResumptionToken"),
    ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
    (
        {"verb": "GetRecord", "identifier": SEED, "metadataPrefix": "marc21"},
        "cannotDisseminateFormat",
    ),
    (
        {"verb": "GetRecord", "identifier": BASE + "record/nope", "metadataPrefix": "rdf"},
        "idDoesNotExist",
    ),
    (
        {"verb": "GetRecord", "identifier": BASE + "archive/aprf", "metadataPrefix": "rdf"},
        "idDoesNotExist",
    ),
    ({"verb": "ListMetadataFormats", "identifier": "nope"}, "idDoesNotExist"),
    ({"verb": "ListIdentifiers", "metadataPrefix": "rdf", "until": "1990-01-01"}, "noRecordsMatch"),
    ({"verb": "ListIdentifiers", "metadataPrefix": "rdf", "set": "type:none"}, "noRecordsMatch"),
]


@pytest.mark.parametrize(("args", "code"), ERRORS)
def test_errors(server: str, args: dict[str, str | list[str]], code: str) -> None:
    for method in ("GET", "POST"):
        root = oai(server, method, **args)
        assert error_code(root) == code, etree.tostring(root)
        assert root.find(OAI + "error").text  # type: ignore[union-attr]
        request = root.find(OAI + "request")
        assert request is not None and request.text == server
        if code in ("badVerb", "badArgument"):
            assert dict(request.attrib) == {}, "no arguments echoed after badVerb/badArgument"
        else:
            assert dict(request.attrib) == args


def test_a_token_continues_only_its_own_verb(server: str) -> None:
    token = token_of(oai(server, verb="ListIdentifiers", metadataPrefix="rdf"))
    assert token is not None and token.text
    root = oai(server, verb="ListRecords", resumptionToken=token.text)
    assert error_code(root) == "badResumptionToken"


def test_escaping_and_characters_xml_cannot_carry(server: str) -> None:
    identifier = "<a & \"b\" 'c'>\x01"
    root = oai(server, verb="GetRecord", identifier=identifier, metadataPrefix="rdf")
    assert error_code(root) == "idDoesNotExist"
    assert root.find(OAI + "request").get("identifier") == identifier[:-1] + "\ufffd"  # type: ignore[union-attr]


def test_http_side(server: str) -> None:
    form = requests.post(
        server, data="verb=Identify", headers={"Content-Type": "text/plain"}, timeout=10
    )
    assert form.status_code == 415
    assert requests.put(server, data="verb=Identify", timeout=10).status_code == 405
    zipped = requests.get(
        server, params={"verb": "ListRecords", "metadataPrefix": "rdf"}, timeout=10
    )
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert requests.head(server, params={"verb": "Identify"}, timeout=10).status_code == 200


# --- republishing under a harvest ----------------------------------------------------------


def publish(sources: Path, out: Path) -> None:
    build([sources], out, Config(base_uri=BASE, progress=False, workers=1), base_dir=sources.parent)


def wait_for(url: str, identifier: str, ready: Callable[[Header], bool]) -> etree._Element:
    """The server follows a rebuild on a request a second after it (build.json is new). Until
    then a record whose file the rebuild removed is a 503 with Retry-After, as a harvester
    expects (section 3.1.1.1), never a 500 or a record without its metadata."""
    deadline = time.monotonic() + 15
    args = {"verb": "GetRecord", "identifier": identifier, "metadataPrefix": "rdf"}
    while True:
        r = requests.get(url, params=args, timeout=10)
        if r.status_code == 503:
            assert r.headers["Retry-After"].isdigit()
        else:
            root = oai(url, **args)
            headers = headers_of(root)
            if headers and ready(headers[0]):
                return root
        assert time.monotonic() < deadline, "the server did not follow the rebuild"
        time.sleep(0.2)


def test_token_survives_republish_and_deletions_persist(
    tmp_path: Path, corpus: Path, corpus_site: Path, server: str
) -> None:
    sources = tmp_path / "sources"
    (sources / "frus-history").mkdir(parents=True)
    for path in sorted((corpus / "frus-history").glob("*.xml"))[:12]:
        shutil.copy(path, sources / "frus-history")
    shutil.copytree(corpus / "wilson-da" / "scrape", sources / "scrape")
    out = tmp_path / "site"
    publish(sources, out)
    tei = {p.stem: p for p in (sources / "frus-history").glob("*.xml")}
    with running_server(out, oai_page_size="5") as base_url:
        url = base_url + "/oai"
        before = harvest(url, metadataPrefix="rdf")
        first = oai(url, verb="ListIdentifiers", metadataPrefix="rdf")
        token = token_of(first)
        assert token is not None and token.text
        seen = headers_of(first)
        next_page = headers_of(oai(url, verb="ListIdentifiers", resumptionToken=token.text))

        # republish, a second later: one record already harvested and one not yet harvested
        # change
        last = max(h.datestamp for h in before)
        while stamp(time.time()) <= last:
            time.sleep(0.1)
        ids = [h.identifier.rsplit("/", 1)[-1] for h in before]
        old = next(i for i in ids[:5] if i in tei)
        new = next(i for i in ids[10:] if i in tei)
        for stem in (old, new):
            text = tei[stem].read_text(encoding="utf-8")
            tei[stem].write_text(text.replace('type="complete">', 'type="complete">Revised: ', 1))
        publish(sources, out)
        wait_for(url, BASE + "record/" + new, lambda h: h.datestamp > last)

        again = headers_of(oai(url, verb="ListIdentifiers", resumptionToken=token.text))
        assert [h.identifier for h in again] == [h.identifier for h in next_page]
        rest = harvest_from(url, token.text)
        identifiers = [h.identifier for h in seen + rest]
        assert len(identifiers) == len(set(identifiers)), "no duplicate"
        assert set(identifiers) == {h.identifier for h in before}, "no gap"
        changed = {h.identifier: h for h in harvest(url, metadataPrefix="rdf")}
        late = changed[BASE + "record/" + new]
        assert late in rest, "a record changed since the snapshot comes in its new state"
        since = harvest(url, metadataPrefix="rdf", **{"from": late.datestamp})
        assert {h.identifier for h in since} == {BASE + "record/" + i for i in (old, new)}

        # another history: a token of the corpus server means nothing here
        assert log_id(corpus_site) != log_id(out)
        other = token_of(oai(server, verb="ListIdentifiers", metadataPrefix="rdf"))
        assert other is not None and other.text
        assert error_code(oai(url, verb="ListIdentifiers", resumptionToken=other.text)) == (
            "badResumptionToken"
        )

        # a source removed: its record stays as a deleted header, with the sets it had
        gone = next(i for i in ids if i in tei and i not in (old, new))
        gone_uri = BASE + "record/" + gone
        tei[gone].unlink()
        publish(sources, out)
        root = wait_for(url, gone_uri, lambda h: h.deleted)
        (header,) = headers_of(root)
        assert header.deleted and root.find(f".//{OAI}metadata") is None
        assert header.sets == next(h.sets for h in before if h.identifier == gone_uri)
        after = harvest(url, metadataPrefix="rdf")
        assert len(after) == len(before)
        assert [h.identifier for h in after if h.deleted] == [gone_uri]
        records = list(Sickle(url).ListRecords(metadataPrefix="rdf", ignore_deleted=False))
        deleted = [r for r in records if r.deleted]
        assert [r.header.identifier for r in deleted] == [gone_uri]
        assert deleted[0].xml.find(OAI + "metadata") is None


@pytest.mark.parametrize("how", ["incremental", "full"])
def test_a_harvest_during_a_republish_misses_none_of_its_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """A harvester going on the responseDate of its last answer (as the protocol suggests, and
    `lod harvest` does) must get every change published after that answer. A build records
    its changes well before it is swapped in (the store, the counts and the pages come after),
    and the old build answers meanwhile: stamped when recorded, a change carried a datestamp
    earlier than that answer's responseDate, and the next harvest never saw it."""
    sources, out = tmp_path / "src", tmp_path / "site"
    sources.mkdir()
    rows = "record_id,title\n1,One\n2,Two\n3,Three\n"
    (sources / "records.csv").write_text(rows, encoding="utf-8")
    publish(sources, out)
    log = open_log(out)
    assert log is not None
    with log:
        first_stamps = log.last_time()
    while stamp(time.time()) <= first_stamps:  # the first build's records are not "since" then
        time.sleep(0.1)
    held, release = threading.Event(), threading.Event()

    def hold(real: Callable[..., object]) -> Callable[..., object]:
        def step(*args: object, **kwargs: object) -> object:
            held.set()
            assert release.wait(30)
            return real(*args, **kwargs)

        return step

    for module in (site_module, incremental_module):
        monkeypatch.setattr(module, "write_pages", hold(module.write_pages))
    with running_server(out) as base_url:
        url = base_url + "/oai"
        (sources / "records.csv").write_text(rows.replace("Two", "Two, revised"), "utf-8")
        rebuild = threading.Thread(
            target=build,
            args=([sources], out, Config(base_uri=BASE, progress=False, workers=1)),
            kwargs={"base_dir": tmp_path, "full": how == "full"},
        )
        rebuild.start()
        try:
            assert held.wait(60), "the build did not reach its pages"
            time.sleep(1.1)  # the old build answers in a later second than the log's stamps
            answered = oai(url, verb="ListIdentifiers", metadataPrefix="oai_dc")
            response_date = answered.findtext(OAI + "responseDate") or ""
            assert BASE + "record/2" in {h.identifier for h in headers_of(answered)}
        finally:
            release.set()
            rebuild.join(60)
        assert not rebuild.is_alive()
        since = headers_of(
            oai(url, verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": response_date})
        )
        assert [h.identifier for h in since] == [BASE + "record/2"]
        assert since[0].datestamp >= response_date


def test_a_collection_record_that_becomes_an_entity_page_is_a_deleted_record(
    tmp_path: Path, corpus: Path
) -> None:
    """A collection read as a record (the JSON API's collection item) whose item goes, while a
    document still names the collection, lives on as an entity page under the same URI. As a
    record it is gone: a harvester must get a deleted header, not lose it silently."""
    sources = tmp_path / "sources"
    (sources / "api").mkdir(parents=True)
    collection = sources / "api" / "collection.json"
    shutil.copy(corpus / "wilson-da" / "api" / "collection.json", collection)
    item = json.loads(collection.read_text(encoding="utf-8"))
    document = {
        "id": 990001,
        "title": "Memorandum on Xinjiang",
        "frontend_doc_date": "March 1, 1958",
        "creators": [{"name": "Someone"}],
        "collections": [{"name": item["name"], "slug": item["slug"]}],
    }
    (sources / "api" / "document.json").write_text(json.dumps(document), encoding="utf-8")
    out = tmp_path / "site"
    publish(sources, out)
    uri = f"{BASE}collection/{item['slug']}"
    with running_server(out) as base_url:
        url = base_url + "/oai"
        before = harvest(url, metadataPrefix="oai_dc")
        assert uri in [h.identifier for h in before if not h.deleted]
        last = max(h.datestamp for h in before)
        while stamp(time.time()) <= last:
            time.sleep(0.1)
        collection.unlink()
        publish(sources, out)
        root = wait_for(url, uri, lambda h: h.deleted)
        assert root.find(f".//{OAI}metadata") is None
        records = list(Sickle(url).ListIdentifiers(metadataPrefix="oai_dc", ignore_deleted=False))
        assert [r.identifier for r in records if r.deleted] == [uri]
        (header,) = headers_of(root)
        since = harvest(url, metadataPrefix="oai_dc", **{"from": header.datestamp})
        assert header in since, "an incremental harvest learns of the deletion"
        page = requests.get(uri.replace(BASE, base_url + "/"), timeout=10)
        assert page.status_code == 200, "the collection is still published, as an entity"


def log_id(site: Path) -> str:
    log = open_log(site)
    assert log is not None
    with log:
        return log.log_id


def harvest_from(url: str, token: str) -> list[Header]:
    found: list[Header] = []
    while token:
        root = oai(url, verb="ListIdentifiers", resumptionToken=token)
        assert error_code(root) is None
        found += headers_of(root)
        element = token_of(root)
        assert element is not None
        token = element.text or ""
    return found
