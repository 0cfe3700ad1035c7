"""The files a build reads and the folder it writes: odd entries in SOURCES (dangling symlinks,
undecodable names, unreadable or symlinked folders, the output itself) and an --out that
cannot be written. Each is one clear message, never a traceback, and never costs the
publication or the neighbouring records."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lod.cli import main
from tests.conftest import BASE, ROOT


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


def test_a_file_name_that_is_no_utf8_is_read(tmp_path: Path) -> None:
    """A Latin-1 name is read like any other and reported with its odd byte as \\xe9, in the
    report and the state an incremental build keeps (neither can hold the raw name)."""
    src, out = tmp_path / "src", tmp_path / "site"
    write_records(src, "1")
    odd = os.path.join(os.fsencode(src), b"caf\xe9.csv")
    try:
        with open(odd, "w", encoding="utf-8") as handle:
            handle.write("record_id,title\n2,Two\n,no ID\n")
    except OSError as exc:
        pytest.skip(f"this file system refuses a name that is no UTF-8: {exc}")
    for how in ("full build", "incremental"):
        code, output = build(src, out, *(["--full"] if how == "full build" else []))
        assert code == 3 and f"-> {out} ({how}" in output, output
        assert f"error: {src}/caf\\xe9.csv" in output and "no record ID" in output
        assert published(out) == ["1", "2"]
        assert errors(out) == [(f"{src}/caf\\xe9.csv", "rejected")]
    with open(odd, "a", encoding="utf-8") as handle:
        handle.write("3,Three\n")
    code, output = build(src, out)
    assert code == 3 and "incremental: 1 created" in output, output
    assert published(out) == ["1", "2", "3"]


NO_BYPASS = [
    "setpriv",
    "--inh-caps=-dac_override,-dac_read_search",
    "--bounding-set=-dac_override,-dac_read_search",
]
"""Root without the capabilities that let it read and write past file permissions."""


@pytest.fixture
def plain_user(tmp_path: Path) -> list[str]:
    """A command prefix under which file permissions bite: none for a user, NO_BYPASS for
    root. Skips where an unreadable file stays readable even so."""
    prefix = NO_BYPASS if os.geteuid() == 0 else []
    secret = tmp_path / "secret"
    secret.write_text("x")
    secret.chmod(0)
    try:
        probe = subprocess.run([*prefix, "cat", str(secret)], capture_output=True)
    except OSError as exc:
        pytest.skip(f"cannot drop root's permission bypass: {exc}")
    finally:
        secret.unlink()
    if probe.returncode == 0:
        pytest.skip("file permissions cannot be made to bite here")
    return prefix


def build_as(prefix: list[str], src: Path, out: Path, *more: str) -> tuple[int, str]:
    """`lod build` in its own process, run as `prefix` runs it."""
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "lod.cli", "build", str(src), "--out", str(out)]
        + ["--base-uri", BASE, "--no-progress", *more],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, done.stderr


def unreadable_after_a_build(
    prefix: list[str], src: Path, out: Path, entry: Path, said: list[str], mode: int
) -> None:
    """Build records 1 (readable) and 2 (in `entry`), then take the read permission from
    `entry`: incremental and full builds say so (each of `said`) and publish record 1 alone;
    readable again, an incremental build publishes record 2 again."""
    assert build_as(prefix, src, out)[0] == 0
    entry.chmod(0)
    try:
        for how in ("incremental", "full build"):
            code, output = build_as(prefix, src, out, *(["--full"] if how == "full build" else []))
            assert code == 3 and f"({how}" in output, output
            assert all(part in output for part in said) and "Traceback" not in output, output
            assert published(out) == ["1"]
            assert errors(out) == [(str(entry), "rejected")]
    finally:
        entry.chmod(mode)
    code, output = build_as(prefix, src, out)
    assert code == 0 and "incremental: 1 created" in output, output
    assert published(out) == ["1", "2"]


def test_an_unreadable_folder_is_reported(tmp_path: Path, plain_user: list[str]) -> None:
    """Its files are not read, as an unreadable file is not, and the build says so: an
    incremental build used to unpublish its records without a word."""
    src, out = tmp_path / "src", tmp_path / "site"
    write_records(src, "1")
    write_records(src / "sub", "2")
    said = [f"error: {src / 'sub'}: cannot read the folder: Permission denied", "chmod"]
    unreadable_after_a_build(plain_user, src, out, src / "sub", said, 0o755)


def test_a_file_made_unreadable_after_a_build_is_reported(
    tmp_path: Path, plain_user: list[str]
) -> None:
    """chmod keeps a file's size and modification time, which is all an incremental build
    looked at: it kept publishing the records of a file no build could read, and said
    nothing. It now reports the file as a full build does, and publishes it again once it
    can be read."""
    src, out = tmp_path / "src", tmp_path / "site"
    write_records(src, "1", "2")
    said = ["2.csv: cannot read the file: Permission denied"]
    unreadable_after_a_build(plain_user, src, out, src / "2.csv", said, 0o644)


def test_symlinked_folders_are_followed_once(tmp_path: Path) -> None:
    """A symlink to a folder is read like a symlink to a file; a loop, or a second link to a
    folder already read, is not read again (no duplicates)."""
    src, out = tmp_path / "src", tmp_path / "site"
    write_records(src / "a", "1")
    write_records(tmp_path / "elsewhere", "2")
    (src / "a" / "loop").symlink_to(src / "a")
    (src / "b").symlink_to(src / "a")
    (src / "more").symlink_to(tmp_path / "elsewhere")
    code, output = build(src, out)
    assert code == 0, output
    assert published(out) == ["1", "2"]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["attempted"] == 2


def test_an_output_inside_the_sources_is_not_read_back(tmp_path: Path) -> None:
    """`lod build src --out src/site`: the second build used to read the first one's files
    as records (a thousand skip notices, its dump rejected)."""
    src = tmp_path / "src"
    out = src / "site"
    write_records(src, "1", "2")
    for how in ("full build", "incremental: 0 created, 0 updated, 0 deleted"):
        code, output = build(src, out)
        assert code == 0 and f"({how}" in output, output
        assert "skipped" not in output
        assert published(out) == ["1", "2"]
    code, output = build(out / "dumps", out)
    assert code == 1 and "in the output folder (--out)" in output, output
    assert published(out) == ["1", "2"]


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def one_error(code: int, output: str, path: str) -> None:
    """Exit 1 and one line that names `path` and says what to do."""
    lines = output.splitlines()
    assert code == 1 and len(lines) == 1, output
    assert re.match(rf"error: cannot create the (folder|lock file) {re.escape(path)}: ", lines[0])
    assert "Choose an --out in a folder you may write to" in output


def test_an_out_whose_folder_cannot_be_made_is_one_error(tmp_path: Path) -> None:
    write_records(tmp_path / "src", "1")
    (tmp_path / "afile").write_text("not a folder")
    before = listing(tmp_path)
    code, output = build(tmp_path / "src", tmp_path / "afile" / "site")
    one_error(code, output, str(tmp_path / "afile"))
    assert "a file of that name is in the way" in output
    if Path("/proc/self").is_dir():  # a folder no one may create files in
        one_error(*build(tmp_path / "src", Path("/proc/x")), "/proc/.x.lock")
    assert listing(tmp_path) == before


def test_an_out_in_a_read_only_folder_is_one_error(tmp_path: Path, plain_user: list[str]) -> None:
    write_records(tmp_path / "src", "1")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    try:
        for out, path in (
            (locked / "site", locked / ".site.lock"),
            (locked / "a" / "site", locked / "a"),
        ):
            code, output = build_as(plain_user, tmp_path / "src", out)
            one_error(code, output, str(path))
            assert "Permission denied" in output
        assert listing(locked) == []
    finally:
        locked.chmod(0o755)
