"""SPARQL queries in worker processes, so a runaway query can be stopped.

pyoxigraph has no time limit of its own and a query cannot be interrupted from another thread,
so each query runs in a long-lived worker process holding the store open read-only; when the
time limit passes, the worker is killed and a fresh one takes its place, and the server stays
responsive meanwhile. A pool serves one build: when a rebuild swaps a new output in, the server
starts a new pool and the old one retires as its running queries finish, so every answer comes
from one build, never from a mix.

The event loop waits on a worker's pipe itself: a thread in between cost two more wake-ups per
query, 0.5-0.7 ms of a 2-3 ms overhead on a machine whose idle cores are slow to wake.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import queue
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from lod.errors import LodError, QueryError, QueryTimeout
from lod.sparql import Analysis, Answer, answer_query


@dataclass(frozen=True, slots=True)
class Job:
    text: str
    fmt: str
    row_limit: int
    default_graphs: list[str] | None = None
    named_graphs: list[str] | None = None
    analysis: Analysis | None = None
    """The server's analysis of `text`, so that the worker need not tokenize it again."""


@dataclass(frozen=True, slots=True)
class Setup:
    """What a worker needs to open a build: its store, its search index, its namespaces."""

    store: str
    index: str
    vocab_ns: str
    base_iri: str


QUERY_NICENESS = 5
"""Query processes run below the server process's priority: a long query then takes the CPU
the document requests leave, instead of slowing every dereference on a busy machine."""
LONG_QUERY = 2.0
LONG_NICENESS = 19
"""A query still running after LONG_QUERY seconds drops to the lowest priority and gives up its
place in the pool (QueryPool), so one client's long query slows neither the many short
queries of others nor, holding a worker, makes them wait."""


def _serve(setup: Setup, conn: Connection) -> None:
    """Worker main loop: answer jobs until the pipe closes."""
    from pyoxigraph import Store

    os.nice(QUERY_NICENESS)

    store = Store.read_only(setup.store)
    search = _open_search(setup.index)
    try:
        conn.send(READY)
    except OSError:  # the pool closed while this worker started (a rebuild, a shutdown)
        return
    while True:
        try:
            job: Job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer: Answer | QueryError = answer_query(
                store,
                job.text,
                job.fmt,
                vocab_ns=setup.vocab_ns,
                search=search,
                row_limit=job.row_limit,
                base_iri=setup.base_iri,
                default_graphs=job.default_graphs,
                named_graphs=job.named_graphs,
                analysis=job.analysis,
            )
        except QueryError as exc:
            answer = exc
        except (LodError, OSError) as exc:
            answer = QueryError(f"the store could not answer: {type(exc).__name__}")
        except Exception as exc:  # one job's fault must not end the worker
            traceback.print_exc()
            answer = QueryError(f"the query could not be answered: {type(exc).__name__}")
        if isinstance(answer, QueryError):
            conn.send(answer)
        else:
            conn.send((len(answer.body), answer.truncated))
            conn.send_bytes(answer.body)


def _open_search(path: str) -> Any:
    if not Path(path).exists():
        return None
    from lod.textindex import TextIndex

    return TextIndex(Path(path)).uris


IDLE_POLL = 0.01
"""Seconds between looks for an idle worker when every worker is busy or starting."""
READY = "ready"
"""A worker's first message: its store is open, so a query sent now does not wait for start-up
(a second or so: a new interpreter, pyoxigraph, the store)."""


class _Worker:
    def __init__(self, setup: Setup) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(setup, child), daemon=True)
        self.process.start()
        child.close()
        self.demoted = False

    async def call(self, job: Job, timeout: float, on_long: Callable[[], None]) -> Answer:
        self.conn.send(job)
        if not await self._readable(min(timeout, LONG_QUERY)):
            self._set_priority(LONG_NICENESS)
            self.demoted = True
            on_long()
            if not await self._readable(max(0.0, timeout - LONG_QUERY)):
                raise QueryTimeout.after(timeout)
        head = self.conn.recv()
        if isinstance(head, QueryError):
            raise head
        size, truncated = head
        # The body follows at once; a large one is read off the loop, which meanwhile serves
        # other requests.
        if size > INLINE_READ:
            body = await asyncio.to_thread(self.conn.recv_bytes)
        else:
            body = self.conn.recv_bytes()
        return Answer(body, truncated)

    async def _readable(self, timeout: float) -> bool:
        """Wait on the event loop until the worker has written, or `timeout` passes."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        fd = self.conn.fileno()

        def settle(ready: bool) -> None:
            if not done.done():
                done.set_result(ready)

        loop.add_reader(fd, settle, True)
        timer = loop.call_later(timeout, settle, False)
        try:
            return bool(await done)
        finally:
            timer.cancel()
            loop.remove_reader(fd)
            os.set_blocking(fd, True)  # the loop made it non-blocking; recv expects blocking

    def restore(self) -> bool:
        """Back to the query priority after a long query; False where raising a priority is
        not allowed (only root may), and the worker is to be replaced."""
        if self.demoted:
            try:
                self._set_priority(QUERY_NICENESS)
            except PermissionError:
                return False
            self.demoted = False
        return True

    def _set_priority(self, niceness: int) -> None:
        if self.process.pid is not None:
            os.setpriority(os.PRIO_PROCESS, self.process.pid, niceness)

    def wait_ready(self, timeout: float = 120.0) -> bool:
        try:
            return self.conn.poll(timeout) and self.conn.recv() == READY
        except (EOFError, OSError):
            return False

    def stop(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


INLINE_READ = 1 << 20
"""Answers up to this size are read on the event loop (well under a millisecond)."""


class Runner(Protocol):
    """What the endpoint needs of a pool: the embedded store's QueryPool, or the external
    store's stand-in (lod.serve.remote)."""

    async def run(self, job: Job) -> Answer: ...

    def close(self) -> None: ...


class QueryPool:
    """Workers for one build, used from the event loop that serves the build.

    `size` queries run at once, each on a worker of its own. A query still running after
    LONG_QUERY drops to the lowest priority and gives up its place to the next query, which
    runs on one of `size` spare workers started with the pool: so short queries keep `size`
    places however many long ones run (up to `size` of those), and no query waits for a
    worker to start."""

    def __init__(self, setup: Setup, size: int, timeout: float) -> None:
        self.setup = setup
        self.size = size
        self.timeout = timeout
        # Last in, first out: the worker that answered last has the store's blocks the next
        # query most likely needs in its cache; taking turns would spread them over all.
        # Thread-safe: workers come back ready from the threads that start them.
        self.idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self.places = asyncio.Semaphore(size)
        self.retired = False
        self.long = 0
        """Queries past LONG_QUERY that gave up their place (at most `size`)."""
        self._lock = threading.Lock()
        for _ in range(2 * size):
            self._spawn()

    async def run(self, job: Job) -> Answer:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        busy = QueryTimeout(
            "every query worker stayed busy for the whole time limit; try again shortly"
        )
        if self.places.locked():  # wait_for costs a task: only when there is a wait
            try:
                await asyncio.wait_for(self.places.acquire(), self.timeout)
            except TimeoutError as exc:
                raise busy from exc
        else:
            await self.places.acquire()
        worker = None
        try:
            worker = await self._take(deadline)
        finally:
            if worker is None:  # none came, or the request was cancelled while waiting
                self.places.release()
        if worker is None:
            raise busy
        given_up = False

        def give_up_place() -> None:
            nonlocal given_up
            if self.long >= self.size:
                return
            self.long += 1
            given_up = True
            self.places.release()

        broken = False
        try:
            return await worker.call(job, max(0.0, deadline - loop.time()), give_up_place)
        except (QueryTimeout, asyncio.CancelledError):
            broken = True
            raise
        except (EOFError, OSError) as exc:
            broken = True
            raise QueryError(
                "the query stopped the worker that ran it; try a smaller query"
            ) from exc
        finally:
            if given_up:
                self.long -= 1
            else:
                self.places.release()
            if broken or not worker.restore():
                worker.stop()
                self._spawn()
            else:
                self._give_back(worker)

    async def _take(self, deadline: float) -> _Worker | None:
        """An idle worker; None if none came back before `deadline`. The spare workers make
        waiting rare (only while killed ones are replaced), so a short poll does."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                return self.idle.get_nowait()
            except queue.Empty:
                if loop.time() >= deadline:
                    return None
                await asyncio.sleep(IDLE_POLL)

    def _spawn(self) -> None:
        """Start a worker and add it to the idle ones once it is ready, so that no query waits
        for a start-up."""
        worker = _Worker(self.setup)

        def when_ready() -> None:
            if worker.wait_ready():
                self._give_back(worker)
            else:
                worker.stop()

        threading.Thread(target=when_ready, daemon=True).start()

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            if self.retired:
                worker.stop()
            else:
                self.idle.put(worker)

    def close(self) -> None:
        """Stop idle workers now and busy ones as they finish."""
        with self._lock:
            self.retired = True
            while True:
                try:
                    self.idle.get_nowait().stop()
                except queue.Empty:
                    break
