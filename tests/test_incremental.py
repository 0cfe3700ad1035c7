"""Incremental, idempotent republishing: a build over an earlier one rebuilds only what changed,
leaves every other file untouched, and gives what a full build of the same input gives."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import BASE, RECORDS, corpus_path, edit_csv, first_ids
from pyoxigraph import NamedNode, RdfFormat, Store, parse

from lod.changelog import LOG_FILE, ChangeLog
from lod.cli import main
from lod.config import Config
from lod.publish.finish import BuildReport
from lod.publish.site import build
from lod.publish.state import STATE_FILE

T0, T1, T2 = 1_700_000_000, 1_700_086_400, 1_700_172_800
VOLATILE = {
    LOG_FILE,
    STATE_FILE,
    "report.json",
    "sitemap.xml",
    "search.sqlite",
    "dumps/dataset.nq.gz",
    "dumps/SHA256SUMS",
    ".well-known/void",
    *(f"doc/dataset{suffix}" for suffix in (".ttl", ".jsonld", ".nt", ".rdf", ".html")),
}
"""Files that carry history or build bookkeeping, compared by content below, not by bytes.
The N-Quads dump keeps each graph's generation time (an unchanged record's stays that of the
build that wrote it), so it and the dataset description, which gives its checksum, differ from
a full build's; their quads are compared with the times left out."""

GENERATED = (
    "<http://www.w3.org/ns/prov#generatedAtTime>",
    "<http://www.w3.org/ns/prov#endedAtTime>",
)


def config(epoch: int) -> Config:
    return Config(base_uri=BASE, progress=False, workers=1, source_date_epoch=epoch)


def files(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file but the store: bytes, inode, modification time."""
    result = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and relative.parts[0] != "store":
            stat = path.stat()
            result[str(relative)] = (path.read_bytes(), stat.st_ino, stat.st_mtime_ns)
    return result


def quads(folder: Path, named: bool = False) -> set[str]:
    """The store's quads, generation times left out; `named`: only those of the resources'
    graphs (not the dataset description or the validation report)."""
    store = Store.read_only(str(folder / "store"))
    resources = BASE + "doc/"
    return {
        timeless(str(q))
        for q in store
        if not named
        or (isinstance(q.graph_name, NamedNode) and q.graph_name.value.startswith(resources))
    }


def dump_quads(folder: Path) -> set[str]:
    data = gzip.decompress((folder / "dumps/dataset.nq.gz").read_bytes())
    return {timeless(str(q)) for q in parse(data, RdfFormat.N_QUADS)}


def timeless(quad: str) -> str:
    return quad.split('"', 1)[0] if any(p in quad for p in GENERATED) else quad


def generated(folder: Path, uri: str) -> str:
    store = Store.read_only(str(folder / "store"))
    graph = NamedNode(BASE + "doc/" + uri[len(BASE) :])
    predicate = NamedNode(GENERATED[0][1:-1])
    (quad,) = store.quads_for_pattern(graph, predicate, None, graph)
    return str(quad.object.value)


def index_rows(folder: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(folder / "search.sqlite") as db:
        return sorted(db.execute("SELECT uri, title, summary, labels, text FROM docs"))


def test_unchanged_input_changes_no_byte(tmp_path: Path, sources: Path) -> None:
    out = tmp_path / "site"
    build([sources], out, config(T0), base_dir=sources)
    before = files(out)
    report = build([sources], out, config(T1), base_dir=sources)
    assert report.incremental and report.changes == {"created": 0, "updated": 0, "deleted": 0}
    assert files(out) == before, "bytes, inodes and modification times all stay"


def test_one_changed_record_equals_a_full_build(tmp_path: Path, sources: Path) -> None:
    out, full = tmp_path / "site", tmp_path / "full"
    build([sources], out, config(T0), base_dir=sources)
    before = files(out)
    target, other = first_ids(sources / "scrape.csv", 2)
    edit_csv(sources / "scrape.csv", target, title="A corrected title for the record")
    report = build([sources], out, config(T1), base_dir=sources)
    assert report.incremental
    assert report.changes["updated"] >= 1 and report.changes["deleted"] == 0
    after = files(out)

    # untouched files keep bytes, inode and modification time (so ETags and Last-Modified)
    for name in (f"doc/record/{other}.ttl", f"doc/record/{other}.html", "doc/record/112095.nt"):
        assert after[name] == before[name], name
    assert after[f"doc/record/{target}.ttl"][0] != before[f"doc/record/{target}.ttl"][0]
    assert b"A corrected title" in after[f"doc/record/{target}.ttl"][0]

    # the same input built from scratch gives the same site
    build([sources], full, config(T1), base_dir=sources)
    expected = files(full)
    assert after.keys() == expected.keys()
    differ = {k for k in after if after[k][0] != expected[k][0]} - VOLATILE
    assert not differ, f"incremental and full builds differ in {sorted(differ)[:10]}"
    assert quads(out, named=True) == quads(full, named=True)
    assert dump_quads(out) == dump_quads(full) == quads(full, named=True)
    assert generated(out, f"{BASE}record/{target}") == "2023-11-15T22:13:20Z"
    assert generated(out, f"{BASE}record/{other}") == "2023-11-14T22:13:20Z"
    assert index_rows(out) == index_rows(full)
    ours, theirs = (json.loads(tree["report.json"][0]) for tree in (after, expected))
    assert ours | {"changes": None} == theirs | {"changes": None}

    # the change log knows what changed, and when
    with ChangeLog(out / LOG_FILE, readonly=True) as log:
        record = log.resource(f"{BASE}record/{target}")
        untouched = log.resource(f"{BASE}record/{other}")
        assert record is not None and untouched is not None
        assert (
            record.modified == "2023-11-15T22:13:20Z" and record.created == "2023-11-14T22:13:20Z"
        )
        assert untouched.modified == "2023-11-14T22:13:20Z"


def test_removed_record_leaves_site_dumps_and_store(tmp_path: Path, sources: Path) -> None:
    out = tmp_path / "site"
    build([sources], out, config(T0), base_dir=sources)
    (target,) = first_ids(sources / "scrape.csv", 1)
    uri = f"{BASE}record/{target}"
    edit_csv(sources / "scrape.csv", target, drop=True)
    report = build([sources], out, config(T2), base_dir=sources)
    assert report.incremental and report.changes["deleted"] >= 1
    assert not (out / "doc" / "record" / f"{target}.ttl").exists()
    assert f"<{uri}>".encode() not in (out / "dumps" / "dataset.ttl").read_bytes()
    assert not any(uri in q for q in quads(out))
    with ChangeLog(out / LOG_FILE, readonly=True) as log:
        gone = log.resource(uri)
        assert gone is not None and gone.deleted == "2023-11-16T22:13:20Z"
    full = tmp_path / "full"
    build([sources], full, config(T2), base_dir=sources)
    assert quads(out, named=True) == quads(full, named=True)
    assert (out / "dumps" / "dataset.ttl").read_bytes() == (
        full / "dumps" / "dataset.ttl"
    ).read_bytes()


def test_removed_source_file_and_records_back(tmp_path: Path, sources: Path) -> None:
    out = tmp_path / "site"
    build([sources], out, config(T0), base_dir=sources)
    page = (sources / "112095.txt").read_bytes()
    (sources / "112095.txt").unlink()
    report = build([sources], out, config(T1), base_dir=sources)
    assert report.changes["deleted"] >= 1
    assert not (out / "doc" / "record" / "112095.html").exists()
    (sources / "112095.txt").write_bytes(page)
    report = build([sources], out, config(T2), base_dir=sources)
    assert report.changes["created"] >= 1
    with ChangeLog(out / LOG_FILE, readonly=True) as log:
        back = log.resource(f"{BASE}record/112095")
        assert back is not None and back.deleted is None
        assert [c.change for c in log.changes(limit=10**6) if c.uri == back.uri] == [
            "created",
            "deleted",
            "created",
        ]


def test_cli_says_how_it_built_and_full_forces_a_full_build(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from lod.cli import main

    out = str(tmp_path / "site")
    env = {"SOURCE_DATE_EPOCH": str(T0)}
    runner = CliRunner()
    first = runner.invoke(main, ["build", str(RECORDS), "--out", out, "--no-progress"], env=env)
    assert first.exit_code == 0 and "(full build: " in first.output
    again = runner.invoke(main, ["build", str(RECORDS), "--out", out, "--no-progress"], env=env)
    assert "(incremental: 0 created, 0 updated, 0 deleted)" in again.output
    forced = runner.invoke(
        main, ["build", str(RECORDS), "--out", out, "--no-progress", "--full"], env=env
    )
    assert (
        forced.exit_code == 0 and "(full build: 0 created, 0 updated, 0 deleted)" in forced.output
    )


def test_csv_rows_the_build_knows_are_not_parsed_again(sources: Path) -> None:
    from lod.sources import dacsv
    from lod.sources.units import Unchanged

    text = (sources / "scrape.csv").read_text(encoding="utf-8")
    fresh = [r for r in dacsv.read("scrape.csv", text) if not isinstance(r, Unchanged)]
    units = [r.unit for r in fresh if hasattr(r, "unit")]
    assert len(units) == len(fresh) > 5 and len(set(units)) == len(units) and all(units)
    known = set(units[1:])
    again = list(dacsv.read("scrape.csv", text, known.__contains__))
    assert [type(r).__name__ for r in again] == ["Record"] + ["Unchanged"] * (len(units) - 1)
    assert [r.unit for r in again] == units


def test_a_commit_cut_short_is_finished_by_the_next_build(tmp_path: Path, sources: Path) -> None:
    """The state a build killed while moving files leaves: journal written, some staged files
    moved, others not. The next build finishes the move before anything else."""
    from lod.publish.incremental import _stage, write_journal
    from lod.sources import source_files

    out, full = tmp_path / "site", tmp_path / "full"
    build([sources], out, config(T0), base_dir=sources)
    (target,) = first_ids(sources / "scrape.csv", 1)
    edit_csv(sources / "scrape.csv", target, title="Changed before the crash")
    stage = tmp_path / ".site.building-1"
    stage.mkdir()
    staged = _stage(source_files([sources], sources), out, stage, config(T1), lambda _m: None)
    assert staged is not None
    write_journal(stage, out, staged[1].deletions)
    moved = [p for p in sorted(stage.rglob("*")) if p.is_file() and p.parts[-2] == "record"]
    assert moved, "the changed record's files are staged"
    for path in moved[: len(moved) // 2]:
        path.replace(out / path.relative_to(stage))
    assert (tmp_path / ".site.commit").exists()

    report = build([sources], out, config(T1), base_dir=sources)
    assert not (tmp_path / ".site.commit").exists() and not stage.exists()
    assert report.changes == {"created": 0, "updated": 0, "deleted": 0}, "already published"
    build([sources], full, config(T1), base_dir=sources)
    a, b = files(out), files(full)
    assert a.keys() == b.keys()
    assert not {k for k in a if a[k][0] != b[k][0]} - VOLATILE
    assert quads(out, named=True) == quads(full, named=True)


def test_a_running_server_follows_an_incremental_build(tmp_path: Path, sources: Path) -> None:
    import time

    import requests
    from conftest import running_server

    out = tmp_path / "site"
    build([sources], out, config(T0), base_dir=sources)
    target, other = first_ids(sources / "scrape.csv", 2)
    with running_server(out) as url:
        untouched = requests.get(f"{url}/doc/record/{other}.ttl", timeout=10)
        edit_csv(sources / "scrape.csv", target, title="Zanzibarish treaty draft")
        build([sources], out, config(T1), base_dir=sources)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            page = requests.get(f"{url}/doc/record/{target}.ttl", timeout=10)
            found = requests.get(
                f"{url}/search",
                params={"q": "zanzibarish"},
                timeout=10,
                headers={"Accept": "application/json"},
            ).json()
            if "Zanzibarish" in page.text and found["total"]:
                break
            time.sleep(0.2)
        assert "Zanzibarish treaty draft" in page.text
        assert [hit["uri"] for hit in found["hits"]] == [f"{BASE}record/{target}"]
        again = requests.get(f"{url}/doc/record/{other}.ttl", timeout=10)
        assert again.headers["ETag"] == untouched.headers["ETag"]
        assert again.headers["Last-Modified"] == untouched.headers["Last-Modified"]


def _drop(folder: Path, name: str) -> None:
    (folder / name).unlink()


def _add_page(folder: Path, name: str) -> None:
    page = (folder / "wilson-da" / "pages" / "112095.txt").read_text(encoding="utf-8")
    (folder / "extra-page.txt").write_text(
        page.replace("112095", "990001").replace("January 16, 1951", "February 2, 1951"),
        encoding="utf-8",
    )


EDITS = {
    "collection record removed": (_drop, "wilson-da/api/collection.json"),
    "TEI document removed": (_drop, "frus-history/1957-03-21-kennan-to-leopold.xml"),
    "new page file": (_add_page, ""),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_incremental_equals_full_on_the_corpus(tmp_path: Path, edit: str) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(corpus_path(), corpus)
    out, full = tmp_path / "site", tmp_path / "full"
    build([corpus], out, config(T0), base_dir=corpus)
    change, name = EDITS[edit]
    change(corpus, name)
    report = build([corpus], out, config(T1), base_dir=corpus)
    assert report.incremental and sum(report.changes.values()) > 0
    build([corpus], full, config(T1), base_dir=corpus)
    a, b = files(out), files(full)
    assert a.keys() == b.keys()
    assert not {k for k in a if a[k][0] != b[k][0]} - VOLATILE
    assert quads(out, named=True) == quads(full, named=True)
    assert index_rows(out) == index_rows(full)


def test_sitemap_dates_pages_from_the_log_and_splits_past_the_limit(
    tmp_path: Path, sources: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import xml.etree.ElementTree as ET

    from lod.publish import finish

    monkeypatch.setattr(finish, "SITEMAP_LIMIT", 10)
    out = tmp_path / "site"
    build([sources], out, config(T0), base_dir=sources)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    index = ET.parse(out / "sitemap.xml").getroot()
    assert index.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    parts = [loc.text or "" for loc in index.findall("s:sitemap/s:loc", ns)]
    assert len(parts) > 2
    urls: dict[str, str] = {}
    for part in parts:
        root = ET.parse(out / part.removeprefix(BASE)).getroot()
        entries = root.findall("s:url", ns)
        assert 0 < len(entries) <= 10
        for entry in entries:
            urls[entry.findtext("s:loc", "", ns)] = entry.findtext("s:lastmod", "", ns)
    with ChangeLog(out / LOG_FILE, readonly=True) as log:
        current = {r.uri: r.modified for r in log.resources(limit=10**6)}
    assert len(urls) == len(current) + 1  # and the index page
    for uri, modified in current.items():
        doc = BASE + "doc/" + uri.removeprefix(BASE) + ".html"
        assert urls[doc] == modified


def test_a_series_of_incremental_builds_stays_equal_to_a_full_one(
    tmp_path: Path, sources: Path
) -> None:
    """Each build splices the dumps the previous incremental build spliced."""
    out, full = tmp_path / "site", tmp_path / "full"
    build([sources], out, config(T0), base_dir=sources)
    ids = first_ids(sources / "scrape.csv", 6)
    steps = [(ids[1], "First change"), (ids[4], "Second change"), (ids[1], "Third change")]
    for number, (record_id, title) in enumerate(steps, 1):
        edit_csv(sources / "scrape.csv", record_id, title=title)
        report = build([sources], out, config(T0 + number * 3600), base_dir=sources)
        assert report.incremental and report.changes["updated"] >= 1, number
    edit_csv(sources / "scrape.csv", ids[2], drop=True)
    assert build([sources], out, config(T2), base_dir=sources).changes["deleted"] >= 1
    build([sources], full, config(T2), base_dir=sources)
    a, b = files(out), files(full)
    assert a.keys() == b.keys()
    assert not {k for k in a if a[k][0] != b[k][0]} - VOLATILE
    assert quads(out, named=True) == quads(full, named=True)


def test_a_damaged_last_build_gives_a_full_build_not_a_failure(
    tmp_path: Path, sources: Path
) -> None:
    out = tmp_path / "site"
    build([sources], out, config(T0), base_dir=sources)
    dump = out / "dumps" / "dataset.ttl"
    dump.write_bytes(dump.read_bytes()[:100])
    (target,) = first_ids(sources / "scrape.csv", 1)
    edit_csv(sources / "scrape.csv", target, title="After the damage")
    problems: list[str] = []
    report = build([sources], out, config(T1), base_dir=sources, on_problem=problems.append)
    assert not report.incremental and report.published > 5
    assert any("cannot build incrementally" in p for p in problems)
    assert len(dump.read_bytes()) > 1000


def test_republishing_the_whole_corpus_unchanged_changes_no_byte(tmp_path: Path) -> None:
    corpus = corpus_path()
    out = tmp_path / "site"
    build([corpus, RECORDS], out, config(T0), base_dir=corpus.parent)
    before = files(out)
    store = {p.name: p.stat().st_mtime_ns for p in (out / "store").iterdir()}
    report = build([corpus, RECORDS], out, config(T1), base_dir=corpus.parent)
    assert report.incremental and report.changes == {"created": 0, "updated": 0, "deleted": 0}
    assert report.published == json.loads((out / "build.json").read_text())["records"] > 50
    assert files(out) == before
    assert {p.name: p.stat().st_mtime_ns for p in (out / "store").iterdir()} == store


def test_an_unchanged_build_reports_what_the_last_one_did(tmp_path: Path, sources: Path) -> None:
    (sources / "broken.csv").write_text("record_id,title\n1,Fine\n,No ID\n", encoding="utf-8")
    (sources / "notes.md").write_text("not a record\n", encoding="utf-8")
    out = tmp_path / "site"
    first = build([sources], out, config(T0), base_dir=sources)
    assert first.rejected == 1 and first.skipped
    problems: list[str] = []
    again = build([sources], out, config(T1), base_dir=sources, on_problem=problems.append)
    assert again.incremental
    assert again.as_dict() | {"changes": None} == first.as_dict() | {"changes": None}
    assert any(p.startswith("error: broken.csv") for p in problems)
    assert any(p.startswith("notice: notes.md") for p in problems)


def test_an_unchanged_file_s_problems_are_told_in_the_same_words(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "site"
    src.mkdir()
    (src / "bad.json").write_text('{"id": "1", "title": "x",\n "doc_date": }', encoding="utf-8")
    rows = "record_id,title\n1,Fine\n,No ID\n3,Caf\x01e\n1,Again\n"
    (src / "rows.csv").write_text(rows, encoding="utf-8")
    (src / "notes.md").write_text("not a record\n", encoding="utf-8")
    first: list[str] = []
    build([src], out, config(T0), base_dir=src, on_problem=first.append)
    again: list[str] = []
    assert build([src], out, config(T1), base_dir=src, on_problem=again.append).incremental
    told = [p for p in first if p.startswith(("error:", "notice:"))]
    assert len(told) == 5 and "bad.json, line 2: invalid JSON" in told[0]
    assert [p for p in again if p.startswith(("error:", "notice:"))] == told


def test_ctrl_c_while_committing_is_finished_by_the_next_build(
    tmp_path: Path, sources: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C after the journal is written: the staged publication is kept, the message says
    the move is under way, and the next build finishes it."""
    import lod.publish.incremental as incremental

    out = tmp_path / "site"
    args = ["build", str(sources), "--out", str(out), "--no-progress"]
    assert CliRunner().invoke(main, args).exit_code == 0
    (target,) = first_ids(sources / "scrape.csv", 1)
    edit_csv(sources / "scrape.csv", target, title="Retitled before the interrupt")
    real = incremental._apply

    def interrupted(stage: Path, out: Path, deletions: list[str]) -> None:
        monkeypatch.setattr(incremental, "_apply", real)
        raise KeyboardInterrupt

    monkeypatch.setattr(incremental, "_apply", interrupted)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 130, result.output
    assert f"interrupted; the new publication was being moved into {out}" in result.output
    assert incremental.interrupted(out)
    assert CliRunner().invoke(main, args).exit_code == 0
    assert not incremental.interrupted(out)
    assert "Retitled before the interrupt" in (out / f"doc/record/{target}.ttl").read_text()


def build_then_edit(tmp_path: Path, rows: str) -> tuple[BuildReport, BuildReport]:
    """A build of one CSV file, then one after the row titled "Fine" is retitled (the file
    is read again, its other rows unchanged)."""
    src, out = tmp_path / "src", tmp_path / "site"
    src.mkdir()
    (src / "x.csv").write_text(rows)
    first = build([src], out, config(T0), base_dir=src)
    (src / "x.csv").write_text(rows.replace("Fine", "Finer"))
    return first, build([src], out, config(T1), base_dir=src)


def test_a_cleaned_row_is_reported_again_when_its_file_changes(tmp_path: Path) -> None:
    """An incremental build skips the rows it knows, but a row lod repairs (issue 7: control
    characters, scripts, mojibake) is read again so that its report row stays."""
    first, again = build_then_edit(tmp_path, "record_id,title\nc1,Bad\x07 title\nc2,Fine\n")
    assert again.incremental and first.cleaned == again.cleaned == 1
    assert [e["error"] for e in again.errors] == [e["error"] for e in first.errors]
    assert again.errors[0]["line"] == 2 and again.errors[0]["field"] == "title"


def test_a_repaired_row_that_is_rejected_gets_one_report_row(tmp_path: Path) -> None:
    """A repair notice says the record was published with the repaired value; a record whose
    date is then impossible is not published, so its rejection is its only row, in a full
    build and in an incremental one that reads its file again."""
    rows = "record_id,title,original_publication_date\nc1,Bad\x07 title,1951-02-30\nc2,Fine,\n"
    first, again = build_then_edit(tmp_path, rows)
    assert again.incremental
    for report in (first, again):
        assert (report.published, report.rejected, report.cleaned) == (1, 1, 0)
        assert [(e["kind"], e["record"], e["field"]) for e in report.errors] == [
            ("rejected", "c1", "original_publication_date")
        ]


def index_pages(site: Path) -> list[tuple[str, list[str], str, str]]:
    """Follow index.html's rel=next chain: each page's name, record IDs, prev and next."""
    found, name = [], "index.html"
    while name:
        page = (site / name).read_text(encoding="utf-8")
        ids = re.findall(r'<span class="meta">[^<]* · ([^<]+)</span></li>', page)
        prev = re.search(r'<link rel="prev" href="([^"]+)">', page)
        after = re.search(r'<link rel="next" href="([^"]+)">', page)
        found.append((name, ids, prev[1] if prev else "", after[1] if after else ""))
        name = after[1] if after else ""
    return found


def test_the_index_is_paged_and_an_incremental_build_drops_pages_it_no_longer_has(
    tmp_path: Path,
) -> None:
    src, out = tmp_path / "src", tmp_path / "site"
    src.mkdir()
    rows = "record_id,title\n" + "".join(f"r{n},Record {n}\n" for n in range(1, 6))
    (src / "x.csv").write_text(rows)
    paged = replace(config(T0), index_page_size=2)
    build([src], out, paged, base_dir=src)
    assert index_pages(out) == [
        ("index.html", ["r1", "r2"], "", "index-2.html"),
        ("index-2.html", ["r3", "r4"], "index.html", "index-3.html"),
        ("index-3.html", ["r5"], "index-2.html", ""),
    ]
    assert "Records 3–4 of 5" in (out / "index-2.html").read_text(encoding="utf-8")
    (src / "x.csv").write_text(rows.replace("r5,Record 5\n", "").replace("r4,Record 4\n", ""))
    again = build([src], out, replace(paged, source_date_epoch=T1), base_dir=src)
    assert again.incremental
    assert index_pages(out) == [
        ("index.html", ["r1", "r2"], "", "index-2.html"),
        ("index-2.html", ["r3"], "index.html", ""),
    ]
    assert not (out / "index-3.html").exists()
    build([src], out, replace(config(T1), index_page_size=5000), base_dir=src)
    assert index_pages(out) == [("index.html", ["r1", "r2", "r3"], "", "")]
    assert "Records " not in (out / "index.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in out.glob("index*.html")) == ["index.html"]
