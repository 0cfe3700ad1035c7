"""`lod build`: the CLI contract, reports, dumps, dataset description, determinism, atomicity."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pyoxigraph import Literal as OxLiteral
from pyoxigraph import NamedNode
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, XSD

from lod.cli import main
from lod.config import SETTINGS, Config
from lod.publish.dataset import dataset_triples
from tests.conftest import BASE, RECORDS, ROOT

VOID = Namespace("http://rdfs.org/ns/void#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def tree(folder: Path) -> dict[str, bytes]:
    """Every file's bytes, except the store (RocksDB files are not byte-reproducible)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "store" not in p.relative_to(folder).parts
    }


def test_build_default_records_and_report(tmp_path: Path) -> None:
    out = tmp_path / "site"
    code, output = run("build", str(RECORDS), "--out", str(out), "--base-uri", BASE)
    assert code == 0, output
    assert "Attempted 4, published 4 (1 cleaned), rejected 0, duplicates 0" in output
    assert "README.md: skipped" in output
    assert "lod build:" not in output  # no progress bar when stderr is not a terminal
    report = json.loads((out / "report.json").read_text())
    assert (report["attempted"], report["published"], report["rejected"]) == (4, 4, 0)
    assert [s["file"] for s in report["skipped"]] == [str(RECORDS / "README.md")]
    for suffix in (".html", ".ttl", ".jsonld", ".nt", ".rdf"):
        assert (out / "doc/record/112095").with_suffix(suffix).exists()
        assert (out / "doc/agent/mao-zedong").with_suffix(suffix).exists()
    assert (out / "sitemap.xml").read_text().count("<url>") > 10
    assert "Sitemap: " + BASE + "sitemap.xml" in (out / "robots.txt").read_text()


def test_bad_records_are_reported_and_good_ones_published(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.csv").write_text(
        "record_id,title,original_publication_date\n"
        "1,Good one,January 16 1951\n"
        ",No ID,1950\n"
        "3,Impossible date,2010-02-50\n"
        "1,Duplicate of row 2,1950\n"
        "5,HTML junk <b>bold</b><script>x()</script>,1950\n"
    )
    (src / "bad.xml").write_text('<TEI xmlns="http://www.tei-c.org/ns/1.0"><unclosed></TEI>')
    (src / "latin1.txt").write_bytes("Caf\u00e9\n".encode("latin-1"))
    out = tmp_path / "site"
    code, output = run("build", str(src), "--out", str(out), "--base-uri", BASE, "--no-progress")
    assert code == 3, output
    report = json.loads((out / "report.json").read_text())
    assert (report["attempted"], report["published"], report["rejected"], report["duplicates"]) == (
        7,
        2,
        4,
        1,
    )
    rows = {(Path(e["file"]).name, e["line"], e["field"]): e for e in report["errors"]}
    assert rows[("a.csv", 3, "record_id")]["fix"]
    assert rows[("a.csv", 4, "original_publication_date")]["value"] == "2010-02-50"
    assert rows[("a.csv", 5, "id")]["kind"] == "duplicate"
    assert ("bad.xml", 1, "XML") in rows and ("latin1.txt", 1, "encoding") in rows
    cleaned = rows[("a.csv", 6, "title")]  # published, and the report says what lod removed
    assert cleaned["kind"] == "cleaned" and "<script>" in cleaned["value"]
    assert report["cleaned"] == 1
    assert "error: " in output and "Traceback" not in output
    assert "HTML junk bold" in (out / "doc/record/5.ttl").read_text()


def test_json_record_without_title_is_rejected_not_dropped(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    items = [
        {"id": "nt-1", "title": "One", "doc_date": "19500101"},
        {"id": "nt-2", "doc_date": "19500102"},
        {"id": "nt-3", "title": "Three", "doc_date": "19500103"},
    ]
    text = json.dumps(items, indent=1)
    (src / "api.json").write_text(text)
    out = tmp_path / "site"
    code, output = run("build", str(src), "--out", str(out), "--base-uri", BASE, "--no-progress")
    assert code == 3, output
    report = json.loads((out / "report.json").read_text())
    (row,) = report["errors"]
    assert (Path(row["file"]).name, row["line"], row["field"], row["record"]) == (
        "api.json",
        text.splitlines().index('  "id": "nt-2",') + 1,
        "title",
        "nt-2",
    )
    assert "[1]" in row["error"] and row["fix"] and row["kind"] == "rejected"
    assert "field 'title'" in output and "nt-2" in output
    assert (report["attempted"], report["published"], report["rejected"]) == (3, 2, 1)
    assert {p.stem for p in (out / "doc/record").glob("*.ttl")} == {"nt-1", "nt-3"}


def damaged_copies(src: Path) -> dict[str, tuple[int, str]]:
    """Damaged copies of the example records, each in `src`; file -> (line, field) of the
    error each must get."""
    examples = RECORDS / "examples"
    scrape = (examples / "example-scrape.csv").read_text(encoding="utf-8")
    header, rows = scrape.split("\n", 1)
    (src / "no-id.csv").write_text(header.replace("record_id", "recid") + "\n" + rows)
    (src / "no-title.csv").write_text(header.replace(",title,", ",heading,") + "\n" + rows)
    with (src / "semicolons.csv").open("w", encoding="utf-8", newline="") as handle:
        semicolons = csv.writer(handle, delimiter=";")
        semicolons.writerows(csv.reader(io.StringIO(scrape, newline="")))
    page = (RECORDS / "112095.txt").read_text(encoding="utf-8")
    cut = page[: page.index("Document Information")]
    (src / "cut.txt").write_text(cut)
    document = json.loads((examples / "example-api-document.json").read_text(encoding="utf-8"))
    del document["title"]
    (src / "untitled.json").write_text(json.dumps(document, indent=1))
    return {
        "no-id.csv": (1, "record_id"),
        "no-title.csv": (1, "title"),
        "semicolons.csv": (1, "header"),
        "cut.txt": (len(cut.rstrip().splitlines()), "Document Information"),
        "untitled.json": (2, "title"),
    }


def test_damaged_files_are_rejected_foreign_ones_skipped(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    expected = damaged_copies(src)
    (src / "README.txt").write_text("Notes\n\nThese are the records of 1951.\n")
    (src / "people.csv").write_text("name,age,town\nAnna,40,Bern\n")
    (src / "ok.csv").write_text("record_id,title\n1,Good one\n")
    out = tmp_path / "site"
    code, output = run("build", str(src), "--out", str(out), "--base-uri", BASE, "--no-progress")
    assert code == 3, output
    report = json.loads((out / "report.json").read_text())
    rows = {Path(e["file"]).name: (e["line"], e["field"]) for e in report["errors"]}
    assert rows == expected
    assert all(e["fix"] and e["kind"] == "rejected" for e in report["errors"])
    assert sorted(Path(s["file"]).name for s in report["skipped"]) == ["README.txt", "people.csv"]
    assert "field 'title': the CSV scrape has no 'title' column" in output
    assert "separated by semicolons" in output and "Traceback" not in output
    assert (report["published"], report["rejected"]) == (1, 5)


def test_strict_writes_nothing_and_keeps_previous(tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert run("build", str(RECORDS), "--out", str(out), "--base-uri", BASE)[0] == 0
    before = tree(out)
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.csv").write_text("record_id,title\n1,ok\n,missing\n")
    code, output = run("build", str(src), "--out", str(out), "--strict", "--base-uri", BASE)
    assert code == 1 and "nothing was written" in output
    assert tree(out) == before
    assert not list(tmp_path.glob(".site.building-*")) and not list(tmp_path.glob(".site.old-*"))


def test_refuses_to_replace_a_foreign_folder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.txt").write_text("precious")
    code, output = run("build", str(RECORDS), "--out", str(home))
    assert code == 1 and "not a lod output folder" in output
    assert (home / "thesis.txt").read_text() == "precious"


def test_bad_base_uri(tmp_path: Path) -> None:
    code, output = run(
        "build", str(RECORDS), "--out", str(tmp_path / "s"), "--base-uri", "not a uri"
    )
    assert code == 1 and "base URI" in output and "Traceback" not in output


def test_deterministic_and_source_date_epoch(tmp_path: Path) -> None:
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    assert run("build", str(RECORDS), "--out", str(tmp_path / "a"), env=env)[0] == 0
    assert run("build", str(RECORDS), "--out", str(tmp_path / "b"), env=env)[0] == 0
    a, b = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert a.keys() == b.keys() and all(a[k] == b[k] for k in a)
    void = Graph().parse(tmp_path / "a/.well-known/void", format="turtle")
    assert void.value(URIRef(BASE + "dataset"), DCTERMS.modified) == Literal(
        "2023-11-14", datatype=XSD.date
    )


DATED = (
    "changes.sqlite",
    "sitemap.xml",
    "dumps/dataset.nq.gz",
    "dumps/SHA256SUMS",
    ".lod-state.sqlite",
    ".well-known/void",
    *(f"doc/dataset{suffix}" for suffix in (".ttl", ".jsonld", ".nt", ".rdf", ".html")),
)
"""The change log records when things changed, and the sitemap's lastmod comes from it; the
N-Quads dump carries each graph's generation time, so its checksum and size (in the dataset
description, SHA256SUMS and the build state) change too. Without SOURCE_DATE_EPOCH those depend
on the clock; nothing else does: no record or entity document."""


def test_deterministic_without_epoch(tmp_path: Path, corpus: Path) -> None:
    for name in ("a", "b"):
        assert run("build", str(corpus), "--out", str(tmp_path / name))[0] == 0
    a, b = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert a.keys() == b.keys()
    assert {k for k in a if a[k] != b[k]} <= set(DATED)


def test_dumps_and_checksums(records_site: Path) -> None:
    sums = dict(
        line.split("  ")[::-1]
        for line in (records_site / "dumps/SHA256SUMS").read_text().splitlines()
    )
    assert set(sums) == {"dataset.nt.gz", "dataset.ttl", "records.jsonl", "dataset.nq.gz"}
    for name, digest in sums.items():
        assert hashlib.sha256((records_site / "dumps" / name).read_bytes()).hexdigest() == digest
    nt = Graph().parse(
        data=gzip.decompress((records_site / "dumps/dataset.nt.gz").read_bytes()).decode(),
        format="nt",
    )
    ttl = Graph().parse(records_site / "dumps/dataset.ttl", format="turtle")
    assert isomorphic(ttl, nt) and len(nt) > 400
    assert (URIRef(BASE + "record/112095"), DCTERMS.identifier, Literal("112095")) in ttl
    lines = (records_site / "dumps/records.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["@id"].startswith(BASE)
    assert all(json.loads(line)["@context"] == BASE + "context.jsonld" for line in lines)


def test_void_vocabularies_are_those_the_graphs_use(records_site: Path) -> None:
    """Every vocabulary of a property or class in the dataset's graphs is named, and no other
    (RDF and RDF Schema go without saying)."""
    from pyoxigraph import Store

    void = Graph().parse(records_site / ".well-known/void", format="turtle")
    named = {str(v) for v in void.objects(URIRef(BASE + "dataset"), VOID.vocabulary)}
    store = Store.read_only(str(records_site / "store"))
    used = {
        re.sub(r"[^#/]*$", "", row["t"].value)
        for row in store.query(
            "SELECT DISTINCT ?t WHERE { GRAPH ?g { { ?s ?t ?o } UNION { ?s a ?t } } }"
        )
    }
    assert named == used - {str(RDF), "http://www.w3.org/2000/01/rdf-schema#"}


def test_dataset_description(records_site: Path) -> None:
    void = Graph().parse(records_site / ".well-known/void", format="turtle")
    ds = URIRef(BASE + "dataset")
    assert (ds, RDF.type, VOID.Dataset) in void and (ds, RDF.type, DCAT.Dataset) in void
    dumps = set(void.objects(ds, VOID.dataDump))
    # the RDF dumps; the JSON Lines file is a distribution but no serialization of RDF
    assert dumps == {
        URIRef(BASE + f"dumps/{n}") for n in ("dataset.nt.gz", "dataset.ttl", "dataset.nq.gz")
    }
    media = {
        str(void.value(d, DCAT.downloadURL)).rsplit("/", 1)[1]: (
            void.value(d, DCAT.mediaType),
            void.value(d, DCAT.compressFormat),
            void.value(d, DCTERMS["format"]),
        )
        for d in void.objects(ds, DCAT.distribution)
    }
    iana = "https://www.iana.org/assignments/media-types/"
    gzip_type = URIRef(iana + "application/gzip")
    assert media == {
        "dataset.nt.gz": (URIRef(iana + "application/n-triples"), gzip_type, None),
        "dataset.ttl": (URIRef(iana + "text/turtle"), None, None),
        "records.jsonl": (None, None, URIRef("https://jsonlines.org/")),
        "dataset.nq.gz": (URIRef(iana + "application/n-quads"), gzip_type, None),
    }
    assert void.value(ds, VOID.uriSpace) == Literal(BASE)
    assert URIRef(BASE + "record/112095") in set(void.objects(ds, VOID.exampleResource))
    # a document per resource: every Turtle file under doc/, the dataset's own among them
    documents = len(list((records_site / "doc").rglob("*.ttl")))
    assert int(void.value(ds, VOID.documents)) == documents
    assert int(void.value(ds, VOID.entities)) == documents - 1
    assert (
        int(void.value(ds, VOID.triples))
        == json.loads((records_site / "report.json").read_text())["triples"]
        == len(gzip.decompress((records_site / "dumps/dataset.nq.gz").read_bytes()).splitlines())
    )
    assert void.value(ds, DCTERMS.license) == URIRef(
        "http://creativecommons.org/publicdomain/zero/1.0/"
    )
    assert (records_site / "doc/dataset.ttl").exists()


def test_dataset_counts_a_collection_read_as_a_record_once(corpus_site: Path) -> None:
    """The corpus's collection record is also an entity other records name (one URI, one page):
    VoID's entities and documents count resources, so it is counted once, as the files are."""
    void = Graph().parse(corpus_site / ".well-known/void", format="turtle")
    ds = URIRef(BASE + "dataset")
    assert (corpus_site / "doc/collection/local-nationalism-in-xinjiang-1957-1958.ttl").exists()
    documents = len(list((corpus_site / "doc").rglob("*.ttl")))
    graphs = {
        line.rsplit(b" ", 2)[-2]
        for line in gzip.decompress((corpus_site / "dumps/dataset.nq.gz").read_bytes()).splitlines()
    }
    assert int(void.value(ds, VOID.documents)) == documents == len(graphs) + 1
    assert int(void.value(ds, VOID.entities)) == documents - 1


def test_dataset_publisher_is_an_agent_not_a_name() -> None:
    """dcterms:publisher ranges over agents (DCMI, DCAT 3): the `publisher` setting names one."""
    config = Config(base_uri=BASE, publisher="Wilson Center Digital Archive")
    triples = dataset_triples(
        config,
        BASE + "dataset",
        triples=0,
        entities=0,
        records=0,
        examples=[],
        dumps=[],
        modified="",
        vocabularies=[],
    )
    values = {(t.subject, t.predicate.value): t.object for t in triples}
    publisher = values[NamedNode(BASE + "dataset"), str(DCTERMS.publisher)]
    assert isinstance(publisher, NamedNode)
    assert values[publisher, str(RDF.type)] == NamedNode(str(FOAF.Agent))
    assert values[publisher, str(FOAF.name)] == OxLiteral("Wilson Center Digital Archive")


def test_the_licence_is_scoped_to_the_metadata(records_site: Path) -> None:
    """The dumps hold the archive's texts, whose records state their own rights (In
    Copyright, the archive's terms): the dataset and each dump say that the CC0 licence covers
    the metadata only, rather than a bare CC0 an aggregator would take for the texts too."""
    void = Graph().parse(records_site / ".well-known/void", format="turtle")
    dataset = URIRef(BASE + "dataset")
    rights = void.value(dataset, DCTERMS.rights)
    assert rights is not None and (rights, RDF.type, DCTERMS.RightsStatement) in void
    assert "metadata" in str(void.value(rights, RDFS.label))
    dumps = list(void.objects(dataset, URIRef("http://www.w3.org/ns/dcat#distribution")))
    assert len(dumps) >= 4
    assert all(void.value(d, DCTERMS.rights) == rights for d in dumps)
    assert all(void.value(d, DCTERMS.license) is not None for d in dumps)


def test_store_holds_the_graph(records_site: Path) -> None:
    from pyoxigraph import Store

    store = Store.read_only(str(records_site / "store"))
    rows = list(
        store.query(
            "SELECT ?name WHERE { ?r <http://schema.org/sender> ?a . ?a <http://schema.org/name> ?name . "
            "?r <http://purl.org/dc/terms/created> ?d FILTER(YEAR(?d) = 1951) }",
            use_default_graph_as_union=True,
        )
    )
    assert [r["name"].value for r in rows] == ["Mao Zedong"]


def _second_build_under_way(tmp_path: Path, **popen: Any) -> tuple[Path, Any, Any]:
    """A first build of records/ in tmp_path/site, then a second, of 20,000 records, started
    over it and seen staging: (the output, the first build's tree, the second's process)."""
    out = tmp_path / "site"
    assert run("build", str(RECORDS), "--out", str(out))[0] == 0
    before = tree(out)
    big = tmp_path / "big"
    big.mkdir()
    rows = "".join(f"{i},Record {i},{'word ' * 200}\n" for i in range(20000))
    (big / "many.csv").write_text("record_id,title,summary\n" + rows)
    proc = subprocess.Popen(
        [sys.executable, "-m", "lod.cli", "build", str(big), "--out", str(out), "--no-progress"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        **popen,
    )
    deadline = time.time() + 30
    while time.time() < deadline and not any(
        p.name.startswith(".site.building") for p in tmp_path.iterdir()
    ):
        time.sleep(0.01)
    return out, before, proc


def test_killed_build_leaves_previous_output(tmp_path: Path, corpus: Path) -> None:
    """kill -9 in the middle of a build: the last good publication is still there, byte for byte."""
    out, before, proc = _second_build_under_way(tmp_path, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert tree(out) == before
    assert run("build", str(RECORDS), "--out", str(out))[0] == 0
    assert not any(p.name.startswith(".site.building") for p in tmp_path.iterdir())
    # what a republish replaced is deleted in the background, after the command returns
    deadline = time.time() + 20
    while any(p.name.startswith(".site.old") for p in tmp_path.iterdir()):
        assert time.time() < deadline, "replaced files were not deleted"
        time.sleep(0.05)


def test_ctrl_c_leaves_previous_output_and_says_so(tmp_path: Path) -> None:
    """SIGINT to the build's process group, as Ctrl-C in a terminal sends it, while worker
    processes map records: one message, status 130, the last publication byte for byte."""
    out, before, proc = _second_build_under_way(
        tmp_path, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    time.sleep(3)  # into the mapping, in worker processes
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert f"interrupted; the publication in {out} is unchanged" in stderr
    assert "run the same command again" in stderr
    assert "Traceback" not in stderr and "Aborted" not in stderr
    assert tree(out) == before
    assert not any(p.name.startswith(".site.building") for p in tmp_path.iterdir())


@pytest.mark.parametrize("setting", [s.name for s in SETTINGS])
def test_settings_are_documented(setting: str) -> None:
    assert f"`{setting}`" in (ROOT / "README.md").read_text()


def test_dump_is_the_union_of_all_resources(records_site: Path) -> None:
    union = Graph()
    for nt in records_site.glob("doc/**/*.nt"):
        if nt.name != "dataset.nt":
            union.parse(nt, format="nt")
    dump = Graph().parse(
        data=gzip.decompress((records_site / "dumps/dataset.nt.gz").read_bytes()).decode(),
        format="nt",
    )
    assert isomorphic(dump, union)


def test_same_bytes_whatever_the_worker_count(tmp_path: Path, corpus: Path) -> None:
    from lod.config import Config
    from lod.publish.site import build

    for workers in (1, 2):
        config = Config(progress=False, workers=workers, source_date_epoch=1_700_000_000)
        build([corpus, RECORDS], tmp_path / f"w{workers}", config)
    assert tree(tmp_path / "w1") == tree(tmp_path / "w2")


def test_one_build_per_output_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fcntl

    import lod.publish.site

    monkeypatch.setattr(lod.publish.site, "LOCK_WAIT", 0.2)
    out = tmp_path / "site"
    with (tmp_path / ".site.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        code, output = run("build", str(RECORDS), "--out", str(out))
    assert code == 1 and "another lod build is writing" in output and not out.exists()
    assert run("build", str(RECORDS), "--out", str(out))[0] == 0


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("workers", 3),
        ("strict", True),
        ("store", "http://127.0.0.1:7878/"),
        ("store_password", "secret"),
        ("query_timeout", 5.0),
        ("oai_page_size", 7),
    ],
)
def test_settings_that_shape_no_output_force_no_full_build(setting: str, value: object) -> None:
    """The fingerprint (a different one means a full rebuild) leaves out how a build runs and
    where it is served or pushed; the base URI, which every URI carries, is in it."""
    from lod.config import Config
    from lod.publish.site import fingerprint

    plain = Config(base_uri=BASE)
    assert fingerprint(dataclasses.replace(plain, **{setting: value})) == fingerprint(plain)
    assert fingerprint(Config(base_uri="http://elsewhere.example/")) != fingerprint(plain)
