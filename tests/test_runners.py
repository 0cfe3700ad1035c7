"""`lod build --cluster`: the per-record stages on a real Dask cluster give the plain build's
bytes. The scheduler and workers are `dask scheduler` and `dask worker` processes on 127.0.0.1,
as an operator would start them; `--cluster local` starts its own."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyoxigraph import Store

from bench.cluster_bench import scheduler as dask_cluster
from lod.cli import main
from tests.conftest import BASE, RECORDS, free_port

pytest.importorskip("distributed")

EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}
WORKERS = 2


def build(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["build", *args, "--no-progress"], env=EPOCH, catch_exceptions=False
    )
    return result.exit_code, result.output


def files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "store" not in p.relative_to(folder).parts
    }


def quads(folder: Path) -> list[str]:
    """The store's content: RocksDB files differ from build to build, its quads may not."""
    store = Store.read_only(str(folder / "store"))
    return sorted(str(quad) for quad in store)


def assert_same_site(plain: Path, clustered: Path) -> None:
    a, b = files(plain), files(clustered)
    assert a.keys() == b.keys()
    assert [name for name in a if a[name] != b[name]] == []
    assert quads(plain) == quads(clustered)


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A scheduler and two single-threaded workers, each its own process, stopped afterwards."""
    with dask_cluster(tmp_path_factory.mktemp("dask"), WORKERS) as address:
        yield address


def test_records_on_a_dask_cluster_are_byte_identical(tmp_path: Path, scheduler: str) -> None:
    assert build(str(RECORDS), "--out", str(tmp_path / "plain"))[0] == 0
    code, output = build(str(RECORDS), "--out", str(tmp_path / "dask"), "--cluster", scheduler)
    assert code == 0, output
    assert_same_site(tmp_path / "plain", tmp_path / "dask")


@pytest.mark.corpus
def test_corpus_on_a_dask_cluster_is_byte_identical(
    tmp_path: Path, scheduler: str, corpus: Path
) -> None:
    """The shared corpus has rejected records, duplicates and skipped files: they pass through
    the cluster as they pass through the process pool, and the exit status is the same."""
    sources = (str(corpus), str(RECORDS))
    plain_code, plain_output = build(*sources, "--out", str(tmp_path / "plain"))
    code, output = build(*sources, "--out", str(tmp_path / "dask"), "--cluster", scheduler)
    assert code == plain_code, output
    assert output.replace("/dask", "/plain") == plain_output
    assert_same_site(tmp_path / "plain", tmp_path / "dask")


def test_a_local_cluster_started_for_the_build(tmp_path: Path) -> None:
    """Its workers share this file system, so they write the documents themselves."""
    assert build(str(RECORDS), "--out", str(tmp_path / "plain"), "--cluster", "")[0] == 0
    code, output = build(str(RECORDS), "--out", str(tmp_path / "dask"), "--cluster", "local")
    assert code == 0, output
    assert_same_site(tmp_path / "plain", tmp_path / "dask")


def test_no_scheduler_fails_with_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lod.publish.runners

    monkeypatch.setattr(lod.publish.runners, "CONNECT_TIMEOUT", 1.0)
    address = f"tcp://127.0.0.1:{free_port()}"
    code, output = build(str(RECORDS), "--out", str(tmp_path / "site"), "--cluster", address)
    assert code == 1
    assert f"cannot use the Dask cluster at {address}" in output
    assert "dask scheduler" in output and not (tmp_path / "site").exists()


@pytest.mark.parametrize("address", ["bogus", "http://127.0.0.1:8786", "tcp://127.0.0.1:port"])
def test_a_malformed_address_says_the_form_expected(tmp_path: Path, address: str) -> None:
    code, output = build(str(RECORDS), "--out", str(tmp_path / "site"), "--cluster", address)
    assert code == 1, output
    expected = "a Dask scheduler address of the form tcp://host:port"
    assert f"error: the cluster option must be empty, local, or {expected}" in output
    assert f"not {address!r}" in output
    assert "Traceback" not in output and not (tmp_path / "site").exists()


def test_the_setting_does_not_force_a_full_rebuild(tmp_path: Path) -> None:
    """How a build runs is no part of what it writes: a build with --cluster over a plain one
    is incremental (and runs on this machine; only full builds shard)."""
    out = str(tmp_path / "site")
    assert build(str(RECORDS), "--out", out)[0] == 0
    code, output = build(str(RECORDS), "--out", out, "--cluster", "tcp://127.0.0.1:1")
    assert code == 0 and "incremental" in output, output


def test_a_worker_with_other_mapping_code_is_refused() -> None:
    """Remote workers must run the client's lod and vocab/: their triples would otherwise go
    out under the client's provenance."""
    from lod.errors import PublishError
    from lod.provenance import generation
    from lod.publish.writer import do_batch, do_record
    from lod.vocab import VOCAB_DIR

    made = generation(1_700_000_000, VOCAB_DIR)
    assert do_batch(do_record, (BASE, made, None), []) == []
    other = dataclasses.replace(made, mapping="0" * 16)
    with pytest.raises(PublishError, match="install the same lod and vocab/ on every worker"):
        do_batch(do_record, (BASE, other, None), [])


def _mark(job: tuple[Path, int]) -> int:
    """A job of the process pool: takes a while, leaves a file behind, and fails on number 3."""
    folder, number = job
    time.sleep(0.05)
    (folder / str(number)).write_text("done")
    if number == 3:
        raise OSError(28, "No space left on device")
    return number


def test_a_failed_build_lets_the_jobs_in_flight_finish(tmp_path: Path) -> None:
    """On a failure the pool winds down instead of terminating its workers, which can hang a
    build for good (lod.publish.runners._wind_down): the jobs already sent (here the whole
    second window, not started when the first fails) still run, the workers then exit, and the
    build's own error is the one raised."""
    from lod.provenance import Generation
    from lod.publish.runners import process_pool

    made = Generation("2026-01-01T00:00:00Z", "test", "test")
    jobs = [(tmp_path, n) for n in range(40)]
    with pytest.raises(OSError, match="No space"):
        with process_pool(2, tmp_path, BASE, made) as run:
            for number in run(_mark, jobs, window=20):
                assert number < 3
    ran = {int(p.name) for p in tmp_path.iterdir()}
    assert set(range(20, 40)) <= ran
