"""Hostile input end to end (issue 7): the generated corpus of malformed records (bench/malformed.py)
built by `lod build` in a real process. The process survives; each malformed record gets exactly
one report row naming file, line, field, value and reason; the valid records beside them are
published; the counts add up; each file alone costs under 2 s and 256 MB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.malformed import Case, measure_apart, write_corpus

ROOT = Path(__file__).resolve().parent.parent
LOD = [sys.executable, "-m", "lod.cli"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Case], dict, Path]:
    work = tmp_path_factory.mktemp("malformed")
    cases = write_corpus(work / "corpus")
    done = subprocess.run(
        [*LOD, "build", "corpus", "--out", "site", "--no-progress"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode in (0, 3), done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    report = json.loads((work / "site" / "report.json").read_text(encoding="utf-8"))
    summary = (
        f"Attempted {report['attempted']}, published {report['published']} "
        f"({report['cleaned']} cleaned), rejected {report['rejected']}, "
        f"duplicates {report['duplicates']};"
    )
    assert summary in done.stderr, "the summary line gives the report's counts"
    return cases, report, work


def test_corpus_is_large_and_covers_every_format() -> None:
    cases = write_corpus_in_memory()
    malformed = [c for c in cases if c.outcome != "valid"]
    assert len(malformed) >= 100
    suffixes = {Path(c.name).suffix for c in malformed}
    assert suffixes == {".csv", ".json", ".txt", ".xml"}
    for fmt in ("dacsv", "dajson", "dapage", "tei", "oai"):
        assert any(c.name.startswith(fmt) for c in malformed), fmt


def write_corpus_in_memory() -> list[Case]:
    from bench.malformed import cases

    return cases()


def test_each_malformed_record_has_one_row(built: tuple[list[Case], dict, Path]) -> None:
    cases, report, _ = built
    rows: dict[str, list[dict]] = {}
    for row in report["errors"]:
        rows.setdefault(Path(row["file"]).name, []).append(row)
    problems = []
    for case in cases:
        found = rows.get(case.name, [])
        if case.outcome == "valid":
            if found:
                problems.append(f"{case.name}: valid, but reported {found}")
            continue
        if len(found) != 1:
            problems.append(f"{case.name}: {len(found)} rows, expected one: {found}")
            continue
        row = found[0]
        kind = row["kind"]
        if kind != case.outcome:
            problems.append(f"{case.name}: {kind}, expected {case.outcome}: {row}")
        if not row["error"]:
            problems.append(f"{case.name}: no reason: {row}")
        if case.field.lower() not in row["field"].lower() or (case.field and not row["field"]):
            problems.append(f"{case.name}: field {row['field']!r}, expected {case.field!r}")
        if case.marker and case.marker not in row["value"]:
            problems.append(f"{case.name}: value {row['value'][:80]!r} lacks {case.marker!r}")
        if case.line is not None and row["line"] != case.line:
            problems.append(f"{case.name}: line {row['line']}, expected {case.line}")
    assert not problems, "\n".join(problems)


def test_valid_neighbours_are_published(built: tuple[list[Case], dict, Path]) -> None:
    cases, _, work = built
    site = work / "site"
    missing = [
        f"{case.name}: {rid}"
        for case in cases
        for rid in case.published
        if not (site / "doc" / "record" / f"{rid}.ttl").is_file()
    ]
    assert not missing, missing
    expected = {rid for case in cases for rid in case.published}
    published = {p.stem for p in (site / "doc" / "record").glob("*.ttl")}
    assert published == expected


def test_counts_add_up(built: tuple[list[Case], dict, Path]) -> None:
    cases, report, _ = built
    assert report["attempted"] == report["published"] + report["rejected"] + report["duplicates"]
    kinds = [row["kind"] for row in report["errors"]]
    assert report["rejected"] == kinds.count("rejected")
    assert report["duplicates"] == kinds.count("duplicate")
    assert report["cleaned"] == kinds.count("cleaned")
    assert report["published"] == len({rid for case in cases for rid in case.published})
    assert report["duplicates"] == sum(c.outcome == "duplicate" for c in cases)


def test_each_file_alone_is_cheap(built: tuple[list[Case], dict, Path]) -> None:
    cases, _, work = built
    costs = measure_apart(work / "corpus", [c.name for c in cases])
    failed = [c for c in costs if c.status != 0]
    assert not failed, failed
    # CPU time is the file's own cost; wall time would also count whatever else CI runs.
    slow = [c for c in costs if c.cpu >= 2 or c.peak_mb >= 256]
    assert not slow, slow
