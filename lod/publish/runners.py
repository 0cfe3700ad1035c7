"""Where a build's per-resource jobs run: in-process, in a pool of forked worker processes, or
as tasks on a Dask distributed cluster (`lod build --cluster`).

Every runner yields results in input order, so the dumps, the store and the reports come out
the same whatever runs the jobs; only mapping and serializing records and entities is sharded,
everything that merges (dumps, store load, keyword index, change log, entities) stays with the
caller.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Protocol

from lod.errors import PublishError
from lod.provenance import Generation
from lod.publish.writer import RecordDone, Written, do_batch, init_worker, write_files

WINDOW = 1024
"""Jobs per window of the process pool; two windows are in flight at most."""


class Runner(Protocol):
    """Runs `fn` on each item, results in input order. `window` bounds the jobs a process pool
    holds at once (twice that are in flight): fewer for big jobs, such as an entity with its
    hundreds of backlinks."""

    def __call__(
        self, fn: Callable[[Any], Any], items: Iterable[Any], window: int = WINDOW
    ) -> Iterator[Any]: ...


LOCAL = "local"
"""`--cluster local`: a Dask cluster on this machine, started for the build."""
BATCH = 64
"""Records (or entities) per Dask task: one task per record would cost more in scheduling
(about a millisecond each) than the record takes to map."""
IN_FLIGHT = 3
"""Dask tasks submitted ahead per worker thread: enough to keep workers busy while the client
writes results, few enough to bound the client's memory."""
CONNECT_TIMEOUT = 20.0
"""Seconds to reach the scheduler, and again for a first worker to join it."""


@contextmanager
def runner(
    workers: int, cluster: str, root: Path, base_uri: str, made: Generation
) -> Iterator[Runner]:
    """The runner the settings ask for: `cluster` names a Dask scheduler (or `local`), else
    `workers` processes on this machine."""
    if cluster:
        with cluster_pool(cluster, workers, root, base_uri, made) as run:
            yield run
    else:
        with process_pool(workers, root, base_uri, made) as run:
            yield run


@contextmanager
def process_pool(workers: int, root: Path, base_uri: str, made: Generation) -> Iterator[Runner]:
    """Run per-resource jobs in order, across worker processes when there is more than one core.

    `imap` keeps input order, so dumps and reports are identical whatever the worker count."""
    count = workers or os.cpu_count() or 1
    if count <= 1:
        init_worker(root, base_uri, made)

        def serial(
            fn: Callable[[Any], Any], items: Iterable[Any], window: int = WINDOW
        ) -> Iterator[Any]:
            return map(fn, items)

        yield serial
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(count, init_worker, (root, base_uri, made, os.getpid())) as pool:

        def run(
            fn: Callable[[Any], Any], items: Iterable[Any], window: int = WINDOW
        ) -> Iterator[Any]:
            # Two windows in flight at most: imap alone would read all sources into memory.
            pending: Iterator[Any] | None = None
            iterator = iter(items)
            while jobs := list(itertools.islice(iterator, window)):
                started = pool.imap(fn, jobs, chunksize=16)
                if pending is not None:
                    yield from pending
                pending = started
            if pending is not None:
                yield from pending

        try:
            yield run
        except Exception:
            _wind_down(pool)
            raise


def _wind_down(pool: Any) -> None:
    """After a failed build, let the workers finish the jobs already sent, then exit.

    Leaving the pool's `with` terminates it, and `Pool.terminate` can hang for good: a worker
    killed while it sends a result still holds the result queue's lock, which the pool's own
    task thread then waits for (seen under load in the disk-full test, 1 build in 10-25).
    Jobs in flight are at most two windows and, on a full disk, fail fast. A job that never
    answers (its worker killed from outside) would keep `join` waiting: after WIND_DOWN
    seconds the pool is terminated the old way."""
    pool.close()
    joining = threading.Thread(target=pool.join, daemon=True)
    joining.start()
    joining.join(WIND_DOWN)


WIND_DOWN = 60.0
"""Seconds a failed build waits for its jobs in flight before it terminates the workers."""


@contextmanager
def cluster_pool(
    address: str, workers: int, root: Path, base_uri: str, made: Generation
) -> Iterator[Runner]:
    """Run per-resource jobs as Dask tasks, batches in order, a bounded number in flight.

    A scheduler's workers may be other machines: they return the documents (Written.files) and
    this process writes them into `root`. A local cluster's workers write them themselves, as
    the process pool's do. Workers need the same lod release and vocabularies installed; the
    generation travels with each task, so provenance is the client's."""
    distributed = _import_distributed()
    with _connected(distributed, address, workers) as client:
        threads = sum(client.nthreads().values()) or 1
        setup = (base_uri, made, root if address == LOCAL else None)
        made_dirs: set[str] = set()

        def run(
            fn: Callable[[Any], Any], items: Iterable[Any], window: int = WINDOW
        ) -> Iterator[Any]:
            # In flight: IN_FLIGHT batches per worker thread, whatever `window` is.
            pending: deque[Any] = deque()
            iterator = iter(items)
            while batch := list(itertools.islice(iterator, BATCH)):
                pending.append(client.submit(do_batch, fn, setup, batch, pure=False))
                if len(pending) >= IN_FLIGHT * threads:
                    yield from _landed(pending.popleft().result(), root, made_dirs)
            while pending:
                yield from _landed(pending.popleft().result(), root, made_dirs)

        yield run


def _landed(results: list[Any], root: Path, made_dirs: set[str]) -> Iterator[Any]:
    """Write the documents a worker held, then hand the results on without them."""
    for result in results:
        written = result.written if isinstance(result, RecordDone) else result
        if isinstance(written, Written) and written.files:
            write_files(root, written.files, made_dirs)
            written.files = ()
        yield result


@contextmanager
def _connected(distributed: Any, address: str, workers: int) -> Iterator[Any]:
    """A client of the scheduler at `address`, or of a local cluster started (and stopped)
    here: one single-threaded worker process per core, or `workers` of them. Results come
    straight from the workers, not relayed by the scheduler (Dask falls back to the scheduler
    for a worker it cannot reach). Only failures to connect become "cannot use": an OSError of
    the build itself passes through."""
    with ExitStack() as stack:
        try:
            if address == LOCAL:
                cluster = stack.enter_context(
                    distributed.LocalCluster(
                        n_workers=workers or os.cpu_count() or 1,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        # The scheduler serves HTTP whatever we ask: on a free loopback
                        # port, not 8787, which another cluster may hold.
                        dashboard_address="127.0.0.1:0",
                        silence_logs=logging.ERROR,
                    )
                )
                client = stack.enter_context(distributed.Client(cluster, direct_to_workers=True))
            else:
                client = stack.enter_context(
                    distributed.Client(address, timeout=CONNECT_TIMEOUT, direct_to_workers=True)
                )
                client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
        except OSError as exc:  # TimeoutError included
            raise PublishError(
                f"cannot use the Dask cluster at {address}: {exc}; start a scheduler "
                f"(`dask scheduler`) and workers (`dask worker ADDRESS`), or build with "
                f"--cluster local"
            ) from exc
        yield client


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise PublishError("--cluster needs Dask distributed: pip install 'lod[cluster]'") from exc
    return distributed


__all__ = ["LOCAL", "Runner", "cluster_pool", "process_pool", "runner"]
