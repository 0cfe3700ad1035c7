"""Records harvested in RDF are published as they are: harvest a built site's graphs over HTTP
(metadataPrefix rdf), build the harvest, and get the same record graphs back."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from lod.config import Config
from lod.errors import MappingError
from lod.harvest import Politeness, PoliteSession, oai
from lod.mapping import Mapper
from lod.model import Origin, Record
from lod.publish.site import build
from lod.uris import Minter
from lod.vocab import load_vocab
from tests.conftest import BASE
from tests.harvest_server import Item, Provider, serving
from tests.test_oai_reader import record_file
from tests.test_oaidc import published

FAST = Politeness(interval=0, timeout=5, attempts=2, backoff=0.01)


def harvest_rdf(site: Path, out: Path) -> None:
    """Serve every record of `site` as an OAI-PMH `rdf` record (its .rdf document) and harvest."""
    provider = Provider()
    provider.page_size = 10
    for uri, path in published(site):
        rdf = re.sub(r"^<\?xml[^>]*\?>\s*", "", path.with_suffix(".rdf").read_text())
        provider.items.append(Item(uri, "2026-01-01T00:00:00Z", {"rdf": rdf}))
    with serving(provider) as url, PoliteSession(FAST) as session:
        report = oai.harvest(oai.Request(url + "/oai", "rdf"), out, session)
    assert report.written == len(provider.items)


def nt_graph(path: Path) -> Graph:
    return Graph().parse(path, format="nt")


@pytest.fixture(scope="module")
def harvested(records_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("passthrough")
    harvest_rdf(records_site, out / "harvest")
    report = build(
        [out / "harvest"], out / "site", Config(base_uri=BASE, progress=False, workers=1)
    )
    assert (report.published, report.rejected) == (4, 0), report.errors
    return out / "site"


def test_record_graphs_come_back_unchanged(records_site: Path, harvested: Path) -> None:
    for uri, path in published(records_site):
        again = harvested / path.relative_to(records_site)
        assert isomorphic(nt_graph(path), nt_graph(again)), uri
        for suffix in (".ttl", ".jsonld", ".rdf", ".html"):
            assert again.with_suffix(suffix).exists()


def test_pages_and_entities_come_from_the_graph(records_site: Path, harvested: Path) -> None:
    index = (harvested / "index.html").read_text()
    assert "Telegram from Mao Zedong to I.V. Stalin" in index and "January 16, 1951" in index
    for entity in ("agent/mao-zedong", "place/beijing", "archive/aprf/fonds/45"):
        assert (harvested / "doc" / f"{entity}.nt").exists(), entity
    mao = set(nt_graph(harvested / "doc/agent/mao-zedong.nt"))
    original = set(nt_graph(records_site / "doc/agent/mao-zedong.nt"))
    assert mao < original  # less: the record's graph does not say the entity's sameAs links
    html = (harvested / "doc/agent/mao-zedong.html").read_text()
    assert "../doc/record/112095.html" in html  # backlinks, as for mapped records


def test_collection_records_keep_their_kind_and_place(corpus_site: Path, tmp_path: Path) -> None:
    harvest_rdf(corpus_site, tmp_path / "harvest")
    report = build(
        [tmp_path / "harvest"], tmp_path / "site", Config(base_uri=BASE, progress=False, workers=1)
    )
    assert report.rejected == 0, report.errors
    for uri, path in published(corpus_site):
        again = tmp_path / "site" / path.relative_to(corpus_site)
        assert isomorphic(nt_graph(path), nt_graph(again)), uri


def test_another_base_uri_is_refused_with_the_one_to_use(
    harvested: Path, records_site: Path, tmp_path: Path
) -> None:
    harvest_rdf(records_site, tmp_path / "harvest")
    report = build(
        [tmp_path / "harvest"],
        tmp_path / "site",
        Config(base_uri="https://archive.example/", progress=False, workers=1),
    )
    assert (report.published, report.rejected) == (0, 4)
    error = report.errors[0]
    assert error["file"].endswith(".xml") and error["field"] == "metadata/rdf:RDF"
    assert "is not under this build's base URI https://archive.example/" in error["error"]
    assert error["fix"] == f"build with --base-uri {BASE} (or set base_uri in lod.toml)"
    saved = json.loads((tmp_path / "site" / "report.json").read_text())
    assert saved["rejected"] == 4


@pytest.mark.parametrize(
    "uri",
    [
        BASE + "record/../../etc/x",
        BASE + "record/a b",
        BASE,
        BASE + "record//x",
        BASE + "record/%7E",
        BASE + "record/dok-%c3%bc",
    ],
)
def test_uris_lod_cannot_write_are_refused(uri: str) -> None:
    mapper = Mapper(load_vocab(), Minter(BASE))
    graph = f'<{uri}> <http://purl.org/dc/terms/title> "x" .\n'
    record = Record(id="x", source_format="oai", origin=Origin("f.xml"), graph=graph, uri=uri)
    with pytest.raises(MappingError) as info:
        mapper.map(record)
    assert info.value.file == "f.xml"


def test_entities_of_a_harvested_graph_are_written_inside_the_site(tmp_path: Path) -> None:
    """A harvested graph names entities under the base whose paths climb ('agent/../..'), plain
    or encoded: their documents stay inside the output folder, or are not written at all."""
    climbing = [BASE + "agent/../../../../escaped", BASE + "agent/%2E%2E/%2E%2E/%2E%2E/%2E%2E/x"]
    about = "".join(f'<schema:about rdf:resource="{uri}"/>' for uri in climbing)
    entities = "".join(
        f'<rdf:Description rdf:about="{uri}"><rdf:type rdf:resource="http://schema.org/Person"/>'
        f"<schema:name>Climber</schema:name></rdf:Description>"
        for uri in climbing
    )
    rdf = (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:schema="http://schema.org/">'
        f'<rdf:Description rdf:about="{BASE}record/p1"><dcterms:title>P</dcterms:title>'
        f"<dcterms:identifier>p1</dcterms:identifier>{about}</rdf:Description>{entities}</rdf:RDF>"
    )
    deep = tmp_path / "a" / "b" / "c"
    (deep / "harvest").mkdir(parents=True)
    (deep / "harvest" / "p1.xml").write_text(record_file(BASE + "record/p1", rdf))
    report = build(
        [deep / "harvest"], deep / "site", Config(base_uri=BASE, progress=False, workers=1)
    )
    assert (report.published, report.rejected) == (1, 0), report.errors
    site = deep / "site"
    outside = [p for p in tmp_path.rglob("*.ttl") if site not in p.parents]
    assert outside == []
    written = {p.relative_to(site).as_posix() for p in site.rglob("x.ttl")}
    assert written == {"doc/agent/%2E%2E/%2E%2E/%2E%2E/%2E%2E/x.ttl"}
