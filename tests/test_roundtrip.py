"""Harvesting both ways: publish the corpus, harvest it back from our own OAI-PMH provider over
HTTP with `lod harvest`, publish the harvest, and compare the records' graphs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph, Namespace, URIRef
from rdflib.compare import isomorphic

from lod.cli import main
from lod.config import Config
from lod.publish.site import build
from tests.conftest import BASE, running_server
from tests.test_oaidc import published

DCTERMS = Namespace("http://purl.org/dc/terms/")
SCHEMA = Namespace("http://schema.org/")


def nt(path: Path) -> Graph:
    return Graph().parse(path, format="nt")


@pytest.fixture(scope="module")
def provider(corpus_site: Path) -> Iterator[str]:
    with running_server(corpus_site, oai_page_size="7") as url:
        yield url


def harvest_and_publish(url: str, prefix: str, folder: Path) -> Path:
    result = CliRunner().invoke(
        main,
        ["harvest", f"{url}/oai", "--out", str(folder / "harvest"), "--metadata-prefix", prefix]
        + ["--rate", "0", "--timeout", "20"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    site = folder / "site"
    build([folder / "harvest"], site, Config(base_uri=BASE, progress=False, workers=1))
    return site


def test_rdf_round_trip_loses_nothing(corpus_site: Path, provider: str, tmp_path: Path) -> None:
    site = harvest_and_publish(provider, "rdf", tmp_path)
    originals = published(corpus_site)
    assert len(originals) > 40
    assert {u for u, _ in published(site)} == {u for u, _ in originals}
    for uri, path in originals:
        again = site / path.relative_to(corpus_site)
        assert isomorphic(nt(path), nt(again)), f"{uri} changed in the round trip"


def test_harvesting_again_gets_only_what_changed(provider: str, tmp_path: Path) -> None:
    harvest_and_publish(provider, "rdf", tmp_path)
    files = sorted(p.name for p in (tmp_path / "harvest").glob("*.xml"))
    result = CliRunner().invoke(
        main,
        ["harvest", f"{provider}/oai", "--out", str(tmp_path / "harvest")]
        + ["--metadata-prefix", "rdf", "--rate", "0"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "harvest").glob("*.xml")) == files


CARRIED = (DCTERMS.title, DCTERMS.identifier, DCTERMS.source, DCTERMS.abstract)
"""Record properties oai_dc carries as they are (values compared as text)."""


def test_oai_dc_round_trip_keeps_what_dublin_core_carries(
    corpus_site: Path, provider: str, tmp_path: Path
) -> None:
    """Every document comes back at its URI with what Dublin Core carries. A collection read
    as a record comes back as a document: oai_dc has no way to say it is a collection."""
    site = harvest_and_publish(provider, "oai_dc", tmp_path)
    documents = [(u, p) for u, p in published(corpus_site) if u.startswith(BASE + "record/")]
    assert len(documents) > 40
    named = 0
    for uri, path in documents:
        before, after = nt(path), nt(site / path.relative_to(corpus_site))
        subject = URIRef(uri)
        for prop in CARRIED:
            assert {str(o) for o in before.objects(subject, prop)} <= {
                str(o) for o in after.objects(subject, prop)
            }, f"{uri} lost {prop}"
        for prop in (DCTERMS.creator, DCTERMS.spatial):
            assert names(before, subject, prop) == names(after, subject, prop), f"{uri}: {prop}"
        for prop in (DCTERMS.language, DCTERMS.created):
            assert {str(o) for o in before.objects(subject, prop)} == {
                str(o) for o in after.objects(subject, prop)
            }, f"{uri}: {prop}"
        named += bool(names(before, subject, DCTERMS.creator))
    assert named >= 20, "creators are compared by name on many documents"


def names(graph: Graph, subject: URIRef, prop: URIRef) -> set[str]:
    """The names of the entities a record links to by `prop` (their URIs may differ)."""
    return {
        str(name)
        for entity in graph.objects(subject, prop)
        for name in graph.objects(entity, SCHEMA.name)
    }
