"""SHACL in `lod build`: every resource is validated, results reach report.json with the record
and field, validation.ttl is published and linked from the VoID, --strict refuses violations,
and an incremental build reports what a full build would."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from conftest import BASE, run_lod, running_server
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF

from lod.config import Config
from lod.publish.site import build

SH = Namespace("http://www.w3.org/ns/shacl#")
DQV = Namespace("http://www.w3.org/ns/dqv#")
FIELDS = ["record_id", "title", "original_publication_date", "language", "rights"]
RIGHTS = "The History and Public Policy Program welcomes reuse of Digital Archive materials"
GOOD = {
    "record_id": "good-1",
    "title": "Telegram from Mao Zedong to Filippov",
    "original_publication_date": "1950-10-02",
    "language": "Russian",
    "rights": RIGHTS,
}
HARVESTED = f"""<?xml version="1.0" encoding="UTF-8"?>
<record xmlns="http://www.openarchives.org/OAI/2.0/">
<header><identifier>{BASE}record/harvested-1</identifier><datestamp>2026-01-01</datestamp></header>
<metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns:dcterms="http://purl.org/dc/terms/" xmlns:schema="http://schema.org/">
 <rdf:Description rdf:about="{BASE}record/harvested-1">
  <rdf:type rdf:resource="http://schema.org/ArchiveComponent"/>
  <dcterms:title>A harvested record</dcterms:title>
  <dcterms:identifier>harvested-1</dcterms:identifier>
  <dcterms:created rdf:datatype="http://www.w3.org/2001/XMLSchema#date">1950-13-45</dcterms:created>
  <schema:license rdf:resource="http://example.org/our-own-licence"/>
 </rdf:Description>
</rdf:RDF></metadata></record>
"""


def write_rows(path: Path, *changes: dict[str, str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        writer.writeheader()
        for number, change in enumerate(changes, 1):
            writer.writerow(GOOD | {"record_id": f"r{number}"} | change)


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    write_rows(
        folder / "rows.csv",
        {},
        {"title": ""},
        {"language": "Klingon"},
        {"rights": "Ask the archivist"},
    )
    (folder / "harvested.xml").write_text(HARVESTED, encoding="utf-8")
    return folder


def config(**settings: object) -> Config:
    return Config(
        base_uri=BASE, progress=False, workers=1, source_date_epoch=1700000000, **settings
    )  # type: ignore[arg-type]


def results(site: Path) -> list[dict[str, object]]:
    return list(json.loads((site / "report.json").read_text())["violations"])


def keys(site: Path) -> set[tuple[object, ...]]:
    return {
        (r.get("record"), r.get("line"), r["field"], r["constraint"], r["severity"])
        for r in results(site)
    }


def test_each_kind_of_problem_is_reported_with_its_record_and_field(
    tmp_path: Path, sources: Path
) -> None:
    out = tmp_path / "site"
    report = build([sources], out, config(), base_dir=sources)
    assert report.published == 5, "records are published whatever their results"
    assert keys(out) == {
        ("r2", 3, "title", "MinCount", "Violation"),
        ("r3", 4, "language", "NodeKind", "Violation"),
        ("r4", 5, "rights", "MinCount", "Warning"),
        ("harvested-1", 3, "date", "Or", "Violation"),
        ("harvested-1", 3, "rights", "In", "Violation"),
    }
    (language,) = [r for r in results(out) if r["field"] == "language"]
    assert language["value"] == "Klingon" and language["file"] == "rows.csv"
    assert language["resource"] == BASE + "record/r3"
    assert report.validation.invalid == 4 and not report.validation.conforms


def test_the_report_is_published_and_linked_from_the_void(tmp_path: Path, sources: Path) -> None:
    out = tmp_path / "site"
    build([sources], out, config(), base_dir=sources)
    with running_server(out) as server:
        answer = requests.get(server + "/validation.ttl", timeout=30)
        shapes = requests.get(server + "/vocab/shapes.ttl", timeout=30)
        namespace = requests.get(server + "/vocab/shapes", timeout=30)
        void = requests.get(server + "/.well-known/void", timeout=30)
    assert answer.status_code == shapes.status_code == void.status_code == 200
    assert namespace.status_code == 200 and namespace.text == shapes.text, "shape IRIs resolve"
    report = Graph().parse(data=answer.text, format="turtle")
    (node,) = report.subjects(RDF.type, SH.ValidationReport)
    assert report.value(node, SH.conforms) == Literal(False)
    assert len(set(report.objects(node, SH.result))) == len(results(out)) == 5
    focus = {str(report.value(r, SH.focusNode)) for r in report.objects(node, SH.result)}
    assert BASE + "record/r2" in focus
    rules = Graph().parse(data=shapes.text, format="turtle")
    assert {str(s) for s in report.objects(None, SH.sourceShape)} <= {
        str(s) for s in rules.subjects()
    }
    dataset = Graph().parse(data=void.text, format="turtle")
    assert dataset.value(URIRef(BASE + "dataset"), DQV.hasQualityMetadata) == URIRef(
        BASE + "validation.ttl"
    )
    conforms_to = URIRef("http://purl.org/dc/terms/conformsTo")
    assert dataset.value(URIRef(BASE + "dataset"), conforms_to) is None, "it does not conform"


def test_the_report_is_queryable(tmp_path: Path, sources: Path) -> None:
    out = tmp_path / "site"
    build([sources], out, config(), base_dir=sources)
    query = """PREFIX sh: <http://www.w3.org/ns/shacl#>
        SELECT ?focus WHERE { ?r sh:resultSeverity sh:Violation ; sh:focusNode ?focus } ORDER BY ?focus"""
    with running_server(out) as server:
        answer = requests.post(
            server + "/sparql",
            data={"query": query},
            headers={"Accept": "application/sparql-results+json"},
            timeout=30,
        )
    rows = [b["focus"]["value"] for b in answer.json()["results"]["bindings"]]
    assert rows == [BASE + f"record/{r}" for r in ("harvested-1", "harvested-1", "r2", "r3")]


def run_build(*args: str) -> subprocess.CompletedProcess[str]:
    return run_lod("build", *args)


def test_strict_refuses_violations_but_not_warnings(tmp_path: Path, sources: Path) -> None:
    out = tmp_path / "site"
    done = run_build(str(sources), "--out", str(out), "--strict", "--base-uri", BASE)
    assert done.returncode == 1 and not out.exists()
    assert "rows.csv:3: record r2: title:" in done.stderr
    assert "harvested.xml:3: record harvested-1: rights:" in done.stderr
    (sources / "harvested.xml").unlink()
    write_rows(sources / "rows.csv", {}, {"rights": "Ask the archivist"})
    done = run_build(str(sources), "--out", str(out), "--strict", "--base-uri", BASE)
    assert done.returncode == 0, done.stderr
    assert "SHACL: 0 violations, 1 warnings" in done.stderr
    assert "notice: SHACL warning on 1 resource(s)" in done.stderr


def test_an_incremental_build_reports_what_a_full_build_does(tmp_path: Path, sources: Path) -> None:
    out, full = tmp_path / "site", tmp_path / "full"
    build([sources], out, config(), base_dir=sources)
    write_rows(sources / "rows.csv", {}, {"title": "Now with a title"}, {"language": "Klingon"}, {})
    report = build([sources], out, config(), base_dir=sources)
    assert report.incremental
    assert ("r2", 3, "title", "MinCount", "Violation") not in keys(out)
    assert ("r3", 4, "language", "NodeKind", "Violation") in keys(out)
    build([sources], full, config(), base_dir=sources)
    assert results(out) == results(full)
    assert (out / "validation.ttl").read_bytes() == (full / "validation.ttl").read_bytes()
    unchanged = build([sources], out, config(), base_dir=sources)
    assert unchanged.validation.entries == results(full)


@pytest.mark.corpus
def test_the_shared_corpus_has_no_violations_and_every_warning_says_why(
    corpus_site: Path,
) -> None:
    found = results(corpus_site)
    assert found, "the TEI records carry no licence: a warning each"
    assert all(r["severity"] == "Warning" and r["message"] for r in found)
    assert all(r.get("record") and r.get("file") for r in found)


def test_a_clean_build_conforms_and_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    write_rows(folder / "rows.csv", {})
    out = tmp_path / "site"
    report = build([folder], out, config(), base_dir=folder)
    assert report.validation.conforms and results(out) == []
    void = Graph().parse(out / ".well-known/void", format="turtle")
    assert void.value(URIRef(BASE + "dataset"), URIRef("http://purl.org/dc/terms/conformsTo")) == (
        URIRef(BASE + "vocab/shapes")
    )
    shutil.rmtree(out)
