"""bench/bound_bench.py measures the memory bound on a build that leaves out exactly two writes
(record documents, dump bytes); if lod moved either elsewhere, its figures would stop meaning
what the README says. So: the same build otherwise, file for file and quad for quad."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pyoxigraph import Store

from bench.synth import generate
from tests.conftest import ROOT

RECORDS = 24
ENV = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
"""A fixed build time: provenance carries it, and the two builds must be byte-comparable."""
UNCOMPARED = ("dumps/dataset.", "dumps/records.", ".lod-state", "search.sqlite")
"""SQLite files, whose layout may differ where their content does not, and the dumps, whose
bytes the lean build only hashes."""


def _python(folder: Path, *args: str) -> str:
    """Python with `args` in `folder`, at the fixed build time; its standard output."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=folder,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return done.stdout


def _files(root: Path) -> dict[str, Path]:
    """The build's files but the store's, whose names RocksDB makes up (its quads are compared)."""
    found = {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}
    return {name: path for name, path in found.items() if not name.startswith("store/")}


def test_the_lean_build_leaves_out_only_record_documents_and_dump_bytes(tmp_path: Path) -> None:
    generate(RECORDS, tmp_path / "src", per_file=RECORDS)
    lean = _python(tmp_path, str(ROOT / "bench" / "bound_bench.py"), "--child", "src", "lean")
    _python(
        tmp_path,
        "-m",
        "lod.cli",
        "build",
        "src",
        "--out",
        "full",
        "--no-progress",
        "--base-uri",
        "http://127.0.0.1:8000/",
    )
    figures = json.loads(lean.splitlines()[-1])
    assert figures["records"] == RECORDS
    # What the sampler logs as the records streamed so far, written last when the bar closes.
    assert (tmp_path / "lean.records").read_text() == f"{RECORDS}\n"
    # The step the build last named for the step sampler: its last step ended, so every wrap held.
    assert (tmp_path / "lean.step").read_text() == "after change log: publish\n"
    # getrusage figures of real processes: an interpreter with lod loaded, and its children.
    assert figures["peak_rss_mb"] > 30 and figures["child_peak_rss_mb"] > 20

    lean_files, full_files = _files(tmp_path / "lean"), _files(tmp_path / "full")
    record_documents = {p for p in full_files if p.startswith("doc/record/")}
    assert len(record_documents) == RECORDS * 5  # Turtle, JSON-LD, N-Triples, RDF/XML, HTML
    assert set(lean_files) == set(full_files) - record_documents
    different = [
        p
        for p in lean_files
        if not p.startswith(UNCOMPARED) and lean_files[p].read_bytes() != full_files[p].read_bytes()
    ]
    assert different == []
    # The dumps: the same bytes went through the lean build's hash, none onto its disk.
    assert (tmp_path / "lean/dumps/SHA256SUMS").read_text() == (
        tmp_path / "full/dumps/SHA256SUMS"
    ).read_text()
    dumps = [p for p in lean_files if p.startswith(("dumps/dataset.", "dumps/records."))]
    assert len(dumps) == 4
    assert all(lean_files[p].stat().st_size == 0 for p in dumps)
    quads = [set(Store.read_only(str(tmp_path / s / "store"))) for s in ("lean", "full")]
    assert len(quads[0]) > RECORDS * 50
    assert quads[0] == quads[1]
