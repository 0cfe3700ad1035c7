"""Shared fixtures: the shared corpus (skipped cleanly when absent) and built sites."""

from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from lod.config import Config
from lod.publish.site import build

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
RECORDS = ROOT / "records"
BASE = "http://127.0.0.1:8000/"


def corpus_path(*parts: str) -> Path:
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs the shared corpus at {CORPUS}")
    return path


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A folder with the shared corpus's CSV scrape and the sample page, to edit and rebuild."""
    folder = tmp_path / "src"
    folder.mkdir()
    shutil.copy(corpus_path("wilson-da", "scrape", "wilson_archive.csv"), folder / "scrape.csv")
    shutil.copy(RECORDS / "112095.txt", folder / "112095.txt")
    return folder


def edit_csv(path: Path, record_id: str | None, title: str = "", drop: bool = False) -> None:
    """Retitle the row of `record_id` in a CSV scrape, or drop it."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    fields = list(rows[0])
    kept = []
    for row in rows:
        if row["record_id"] == record_id:
            if drop:
                continue
            row["title"] = title
        kept.append(row)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        writer.writerows(kept)


def first_ids(path: Path, count: int) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            row["record_id"] for row, _ in zip(csv.DictReader(handle), range(count), strict=False)
        ]


@pytest.fixture(scope="session")
def corpus() -> Path:
    return corpus_path()


@pytest.fixture(scope="session")
def corpus_site(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "site"
    build([corpus, RECORDS], out, Config(base_uri=BASE, progress=False), base_dir=corpus.parent)
    return out


@pytest.fixture(scope="session")
def records_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("records") / "site"
    build([RECORDS], out, Config(base_uri=BASE, progress=False), base_dir=ROOT)
    return out


def run_lod(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`lod ARGS` in its own process, as a user runs it, from the project folder."""
    return subprocess.run(
        [sys.executable, "-m", "lod.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_answering(url: str, process: subprocess.Popen[bytes], seconds: float = 20) -> None:
    """Poll `url` until the server `process` started answers; its stderr if it died first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            if process.poll() is not None:
                stderr = process.stderr.read().decode() if process.stderr else ""
                raise AssertionError(f"the server exited: {stderr}") from None
            time.sleep(0.05)


@contextmanager
def running_server(site: Path, port: int | None = None, **settings: str) -> Iterator[str]:
    """`lod serve SITE` in its own process on 127.0.0.1 (on `port`, else a free one); yields its
    base URL. Settings are passed the way users pass them, as LOD_* environment variables."""
    port = port or free_port()
    env = {**os.environ, **{f"LOD_{k.upper()}": v for k, v in settings.items()}}
    process = subprocess.Popen(
        [sys.executable, "-m", "lod.cli", "serve", str(site), "--port", str(port)],
        stderr=subprocess.PIPE,
        env=env,
        cwd=site.parent,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(url + "/robots.txt", process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


@pytest.fixture(scope="session")
def records_server(records_site: Path) -> Iterator[str]:
    with running_server(records_site) as url:
        yield url


@pytest.fixture(scope="session")
def corpus_server(corpus_site: Path) -> Iterator[str]:
    with running_server(corpus_site) as url:
        yield url


ENCODED_IDS = {
    "Doc 5": "Doc%205",
    "dok-ü": "dok-%C3%BC",
    "oai:archive.org:123": "oai%3Aarchive.org%3A123",
    "a/b": "a%2Fb",
    "100%": "100%25",
}
"""Record IDs that need percent-encoding, and the URI path segment each is minted as. (An ID of
'.' or '..' is rejected: no URI path segment can carry it, see lod.sources.limits.)"""


def write_encoded_ids(folder: Path, ids: list[str]) -> None:
    """A CSV scrape of one row per ID, titled after it."""
    folder.mkdir(exist_ok=True)
    with (folder / "odd.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", "title"])
        writer.writerows([record_id, f"Record {record_id}"] for record_id in ids)


@pytest.fixture(scope="session")
def encoded_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build of records whose IDs need percent-encoding (ENCODED_IDS)."""
    work = tmp_path_factory.mktemp("encoded")
    write_encoded_ids(work / "src", list(ENCODED_IDS))
    build([work / "src"], work / "site", Config(base_uri=BASE, progress=False), base_dir=work)
    return work / "site"
