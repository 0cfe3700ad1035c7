"""Shared fixtures: the shared corpus (skipped cleanly when absent) and built sites."""

from __future__ import annotations

from pathlib import Path

import pytest

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
