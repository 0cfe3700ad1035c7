"""Faults (issue 7): `lod build` killed with -9 at random points, a disk that fills up during a
build, `lod serve` killed with -9. Real processes, a real file system (a small tmpfs for the full
disk) and the real server on 127.0.0.1.

The kill run is stress/faults.py, here small: every published file outside doc/ and every format
of a sample of documents (always those of the records the build changes) are compared byte for
byte; the script compares every file. The seed is random and printed; FAULTS_SEED=N repeats a
run.
"""

from __future__ import annotations

import os
import random
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from lod.config import Config
from lod.publish.incremental import _stage, write_journal
from lod.publish.site import build
from lod.sources import source_files
from stress.faults import (
    RESTART_LIMIT,
    Client,
    Sources,
    alive,
    check_hidden,
    descendants,
    kill_builds,
    make_sources,
    publish_first,
    published,
    read_tree,
    report,
    serves,
    wait_until,
)
from tests.conftest import BASE, RECORDS, ROOT, free_port, run_lod, running_server

LOD = [sys.executable, "-m", "lod.cli"]
SYNTHETIC = 15
"""Generated records beside records/: a full build takes a few seconds."""
KILLS = 10
SAMPLE = 15
"""Documents (every format) compared after each kill, besides the changed records'."""


@pytest.fixture(scope="module")
def seed() -> int:
    value = int(os.environ.get("FAULTS_SEED") or random.SystemRandom().randrange(10**6))
    print(f"faults seed {value} (FAULTS_SEED={value} repeats this run)")
    return value


def test_build_killed_at_random_points(tmp_path: Path, seed: int) -> None:
    sources = make_sources(tmp_path / "src", SYNTHETIC, seed)
    out = tmp_path / "site"
    durations = publish_first(sources, out)
    with running_server(out, query_workers="1") as url:
        run = kill_builds(
            sources, out, url, kills=KILLS, seed=seed, durations=durations, sample=SAMPLE
        )
    print("\n".join(report(run)))
    assert len(run.kills) == KILLS and run.checked > KILLS * SAMPLE * 5
    assert {k.kind for k in run.kills} == {"full", "incremental"}
    for figure in ("lock_free", "held", "next_build", "served"):
        worst = max(getattr(k, figure) for k in run.kills)
        assert worst < RESTART_LIMIT, f"{figure}: {worst:.2f} s; seed {seed}"


def cut_short(sources: Sources, out: Path, title: str) -> dict[str, str]:
    """The state an incremental build killed while moving its files in leaves behind: the
    journal written, half of the changed record's files moved, the rest still staged. Returns
    the new titles."""
    sources.retitle(["syn-1"], title)
    stage = out.parent / f".{out.name}.building-1"
    stage.mkdir()
    files = source_files([sources.folder], sources.folder)
    staged = _stage(files, out, stage, quiet_config(), lambda _m: None)
    assert staged is not None
    write_journal(stage, out, staged[1].deletions)
    moved = [p for p in sorted(stage.rglob("syn-1.*")) if p.parent.name == "record"]
    assert len(moved) == 5, moved
    for path in moved[:2]:
        path.replace(out / path.relative_to(stage))
    return sources.titles(["syn-1"])


def quiet_config() -> Config:
    return Config(base_uri=BASE, progress=False, workers=1)


def test_the_server_finishes_a_commit_cut_short(tmp_path: Path) -> None:
    """A build killed after its journal, while moving files, leaves the site half old and half
    new: the server finishes the move (as the next build would), on start and while it runs."""
    sources = make_sources(tmp_path / "src", 5, 1951)
    out = tmp_path / "site"
    build([sources.folder], out, quiet_config(), base_dir=sources.folder)
    journal = tmp_path / ".site.commit"
    titles = cut_short(sources, out, "Cut short before the server started:")
    with running_server(out) as url, Client(url) as client:
        assert not journal.exists()
        assert serves(client, titles)
        titles = cut_short(sources, out, "Cut short while the server ran:")
        finished = wait_until(lambda: serves(client, titles) and not journal.exists(), 5)
        assert finished is not None, "the server left the commit half done"
        print(f"the running server finished the commit in {finished:.2f} s")
        check_hidden(out, client)
    report = build([sources.folder], out, quiet_config(), base_dir=sources.folder)
    assert report.changes == {"created": 0, "updated": 0, "deleted": 0}, "already published"


# A full disk -----------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 12 MB tmpfs: room for a small publication and one more build of it, no more."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        # What a build replaced is deleted in the background; let that finish first.
        for _ in range(100):
            if subprocess.run(["umount", str(disk)], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:
            subprocess.run(["umount", "-l", str(disk)], check=True)


def lod_build(*args: str) -> subprocess.CompletedProcess[str]:
    return run_lod("build", *args, "--base-uri", BASE, "--no-progress")


def fill(disk: Path, leave: int) -> Path:
    """Fill the file system at `disk` up to `leave` free bytes."""
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    with filler.open("wb") as handle:
        handle.write(b"\0" * max(0, free - leave))
    return filler


FULL_DISK = {"incremental build": 0.0, "full build": 0.7}
"""How much room a file of someone else's leaves on the disk, as a share of the site's size: 64 KB,
where an incremental build fails at once (staging its state), or 70%, where a full build fails
late (in the keyword index or the store)."""


@pytest.mark.parametrize("how", FULL_DISK)
def test_disk_full_during_a_build(small_disk: Path, tmp_path: Path, how: str) -> None:
    """A clear error naming the folder, no traceback, the publication served as it was; and
    once there is room again, the next build succeeds."""
    out = small_disk / "site"
    first = lod_build(str(RECORDS), "--out", str(out))
    assert first.returncode == 0, first.stderr
    before = read_tree(out)
    leave = FULL_DISK[how]
    edited = tmp_path / "edited"
    shutil.copytree(RECORDS, edited)
    page = edited / "112095.txt"
    page.write_text(page.read_text(encoding="utf-8").replace("Mao", "Chairman Mao"))
    args = [str(edited), "--out", str(out), *(["--full"] if leave else [])]
    size = sum(len(data) for data in before.values())
    filler = fill(small_disk, max(64 * 1024, int(size * leave)))
    with running_server(out) as url, Client(url) as client:
        paths = published(out)
        served = client.fetch(paths)
        failed = lod_build(*args)
        message = failed.stderr
        assert failed.returncode == 1, message
        assert "Traceback" not in message, message
        error = [line for line in message.splitlines() if line.startswith("error: ")]
        assert len(error) == 1, message
        assert f"no space left on the disk holding {small_disk}" in error[0], error[0]
        assert "free" in error[0] and "unchanged" in error[0], error[0]
        assert "building it all" not in message, "a full build needs more room, not less"
        assert read_tree(out) == before
        assert client.fetch(paths) == served
        check_hidden(out, client)
        assert [p.name for p in small_disk.iterdir() if p.name.startswith(".site.")] in (
            [".site.lock"],
            [],
        )
        filler.unlink()  # room again: the next build goes through
        again = lod_build(*args)
        assert again.returncode == 0, again.stderr
        changed = wait_until(lambda: b"Chairman Mao" in client.get("/doc/record/112095.ttl")[1], 5)
        assert changed is not None


# The server killed with -9 ---------------------------------------------------------------------


def start_server(site: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*LOD, "serve", str(site), "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def first_line(process: subprocess.Popen[bytes], seconds: float) -> str:
    """The first line the server writes to stderr: where it serves, or why it cannot."""
    assert process.stderr is not None
    ready, _, _ = select.select([process.stderr], [], [], seconds)
    assert ready, f"the server said nothing within {seconds} s"
    return process.stderr.readline().decode("utf-8", "replace")


def answers(url: str) -> bool:
    try:
        r = requests.get(url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=5)
    except requests.RequestException:
        return False
    return r.status_code == 200 and r.json()["boolean"] is True


@pytest.mark.parametrize("workers", [1, 2])
def test_server_restarts_after_kill_9(records_site: Path, workers: int) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    first = start_server(records_site, port, workers)
    second = None
    try:
        assert wait_until(lambda: answers(url), 30) is not None, "the first server never answered"
        for _ in range(4):  # every worker has a query pool running
            assert answers(url)
        helpers = descendants(first.pid)
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed = time.monotonic()
        second = start_server(records_site, port, workers)
        said = first_line(second, RESTART_LIMIT)
        assert said.startswith("Serving "), said  # not "error: cannot listen on ..."
        ready = wait_until(lambda: answers(url), RESTART_LIMIT)
        restart = time.monotonic() - killed
        print(f"serve --workers {workers}: answering again {restart:.2f} s after kill -9")
        assert ready is not None and restart < RESTART_LIMIT
        assert second.poll() is None
        lasting = {p: n for p, n in helpers.items() if alive(p)}
        assert lasting == {}, f"processes of the killed server still run: {lasting}"
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(10)
            if process is not None and process.stderr is not None:
                process.stderr.close()
