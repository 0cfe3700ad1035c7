"""The files a build reads and the folder it writes: odd entries in SOURCES (dangling symlinks,
undecodable names, unreadable or symlinked folders, the output itself) and an --out that
cannot be written. Each is one clear message, never a traceback, and never costs the
publication or the neighbouring records."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from lod.cli import main
from tests.conftest import BASE


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def build(src: Path, out: Path, *more: str) -> tuple[int, str]:
    return run("build", str(src), "--out", str(out), "--base-uri", BASE, "--no-progress", *more)


def write_records(folder: Path, *ids: str) -> None:
    """One CSV scrape per ID, named after it."""
    folder.mkdir(parents=True, exist_ok=True)
    for record_id in ids:
        (folder / f"{record_id}.csv").write_text(
            f"record_id,title\n{record_id},Record {record_id}\n"
        )


def published(out: Path) -> list[str]:
    return sorted(p.stem for p in (out / "doc" / "record").glob("*.ttl"))


def errors(out: Path) -> list[tuple[str, str]]:
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return [(e["file"], e["kind"]) for e in report["errors"]]


def test_a_dangling_symlink_is_one_rejected_file(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "site"
    write_records(src, "1", "2")
    assert build(src, out)[0] == 0
    (src / "d.json").symlink_to(tmp_path / "nonexistent")
    for how in ("incremental", "incremental", "full build"):  # new, unchanged, all read again
        code, output = build(src, out, *(["--full"] if how == "full build" else []))
        assert code == 3, output
        assert f"-> {out} ({how}" in output
        assert "d.json: cannot read the file: No such file or directory" in output
        assert published(out) == ["1", "2"]
        assert errors(out) == [(str(src / "d.json"), "rejected")]
