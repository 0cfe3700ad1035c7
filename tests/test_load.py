"""The load run of stress/load.py, short (issue 7, Load): 16 steady clients with and without an
abusive one against a real `lod serve`; the full 10-minute run's figures are in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.synth import generate
from lod.config import Config
from lod.publish.site import build
from stress.load import curated_queries, report, run_load, warm_up
from tests.conftest import BASE, RECORDS, running_server

SYNTHETIC = 300
SECONDS = 12.0


@pytest.fixture(scope="module")
def load_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("load")
    generate(SYNTHETIC, work / "src")
    out = work / "site"
    build([work / "src", RECORDS], out, Config(base_uri=BASE, progress=False))
    return out


def test_steady_clients_are_served_and_the_abusive_one_is_limited(load_site: Path) -> None:
    records = [f"syn-{i}" for i in range(SYNTHETIC)]
    queries = curated_queries()
    with running_server(load_site, query_timeout="5") as url:
        warm_up(url, records, queries)
        without = run_load(url, records, queries, 16, SECONDS, 2.0, abusive=False)
        with_abuse = run_load(url, records, queries, 16, SECONDS, 2.0, abusive=True)
    print(report(without, with_abuse, f"CI run, {SECONDS:g} s each, {SYNTHETIC} records"))
    assert len(without.deref.times) > 16 * SECONDS * 2 * 0.6
    assert len(without.query.times) + len(without.fresh.times) > 16 * SECONDS * 2 * 0.1
    assert with_abuse.abusive is not None and with_abuse.abusive.statuses[429] > 5
    assert without.problems() == []
    assert with_abuse.problems(without, per_kind=False) == []
