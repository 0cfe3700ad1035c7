"""Raptor's `rapper`, the parser many harvesters and triple stores' loaders are built on, reads
every RDF file a build publishes and what the server makes at request time: no error, no
warning, and as many triples as pyoxigraph reads. lod writes with pyoxigraph and rdflib and
checks with them too; a second, stricter parser written by others catches what both let
through (an IRI, an escape or a language tag one library accepts and another refuses).

`make test` installs rapper (Debian's raptor2-utils); without it these tests skip."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from pyoxigraph import RdfFormat, parse

from lod.uris import uri_path
from tests.conftest import BASE

RAPPER = shutil.which("rapper")
pytestmark = pytest.mark.skipif(RAPPER is None, reason="rapper (raptor2-utils) is not installed")

SYNTAXES = {
    ".ttl": ("turtle", RdfFormat.TURTLE),
    ".nt": ("ntriples", RdfFormat.N_TRIPLES),
    ".rdf": ("rdfxml", RdfFormat.RDF_XML),
    ".nq": ("nquads", RdfFormat.N_QUADS),
}
MEDIA = {
    "text/turtle": ".ttl",
    "application/n-triples": ".nt",
    "application/rdf+xml": ".rdf",
}


def rapper(data: bytes, suffix: str, base: str) -> tuple[int, str]:
    """(statements, what rapper said on stderr) for `data` in the syntax of `suffix`."""
    assert RAPPER is not None
    done = subprocess.run(
        [RAPPER, "-q", "-i", SYNTAXES[suffix][0], "-o", "nquads", "-", base],
        input=data,
        capture_output=True,
        timeout=120,
    )
    said = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode:
        said = said or f"exit {done.returncode}"
    return sum(1 for line in done.stdout.splitlines() if line.strip()), said


def pyoxigraph_count(data: bytes, suffix: str, base: str) -> int:
    return sum(1 for _ in parse(data, SYNTAXES[suffix][1], base_iri=base))


def disagreements(files: list[tuple[Path, str]]) -> list[str]:
    """Each file (with the IRI it is served at, its base) rapper complains of or counts
    differently from pyoxigraph."""

    def check(item: tuple[Path, str]) -> str:
        path, base = item
        suffix = Path(path.name.removesuffix(".gz")).suffix
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
        count, said = rapper(data, suffix, base)
        expected = pyoxigraph_count(data, suffix, base)
        if said or count != expected:
            return f"{path}: rapper read {count}, pyoxigraph {expected}: {said[:300]}"
        return ""

    with ThreadPoolExecutor(4) as pool:
        return [problem for problem in pool.map(check, files) if problem]


def published_rdf(site: Path) -> list[tuple[Path, str]]:
    """Every RDF file of a build, with the IRI it is served at."""
    files = [
        path
        for path in sorted(site.rglob("*"))
        if path.is_file()
        and "store" not in path.relative_to(site).parts
        and Path(path.name.removesuffix(".gz")).suffix in SYNTAXES
    ]
    return [(path, BASE + uri_path(path.relative_to(site).as_posix())) for path in files]


def test_rapper_reads_every_rdf_file_of_the_sample_build(records_site: Path) -> None:
    files = published_rdf(records_site)
    suffixes = {Path(p.name.removesuffix(".gz")).suffix for p, _ in files}
    assert suffixes == set(SYNTAXES) and len(files) > 100
    assert disagreements(files) == []


@pytest.mark.corpus
def test_rapper_reads_every_rdf_file_of_the_corpus_build(corpus_site: Path) -> None:
    files = published_rdf(corpus_site)
    assert len(files) > 900
    assert disagreements(files) == []


def test_rapper_reads_records_whose_ids_need_encoding(encoded_site: Path) -> None:
    files = [(p, b) for p, b in published_rdf(encoded_site) if "/doc/record/" in b]
    assert len(files) >= 3 * 5  # Turtle, N-Triples and RDF/XML of each ID in ENCODED_IDS
    assert disagreements(files) == []


@pytest.mark.parametrize("media_type", sorted(MEDIA))
@pytest.mark.parametrize("path", ["/sparql", "/.well-known/void", "/record/112095"])
def test_rapper_reads_what_the_server_answers(
    records_server: str, path: str, media_type: str
) -> None:
    """The service description and the dataset description are made per request, and a
    record's document comes through negotiation: each as the harvester receives it."""
    response = requests.get(records_server + path, headers={"Accept": media_type}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == media_type
    suffix = MEDIA[media_type]
    count, said = rapper(response.content, suffix, response.url)
    assert said == ""
    assert count == pyoxigraph_count(response.content, suffix, response.url) > 5
