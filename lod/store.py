"""The embedded on-disk store (pyoxigraph), loaded while the build runs.

Each resource's triples are a named graph of their own (lod.provenance); queries see the union
of all graphs as their default graph (lod.sparql). Loading indexes every quad, the slowest
serial step of a build. A loader process reads the N-Quads stream on its standard input and bulk-loads it while resources are still being
written, so indexing overlaps with mapping and serializing instead of following them.
The loader is a fresh interpreter (`python -m lod.store PATH`), not a fork: forking a process
whose pool threads may hold locks can deadlock the child.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

from pyoxigraph import RdfFormat, Store

from lod.errors import PublishError, out_of_space

PR_SET_PDEATHSIG = 1
NO_SPACE = errno.ENOSPC
"""The loader's exit status when the disk is full."""
STORE_DIR = "store"
BUILD_INFO = "build.json"
"""What the server and `lod query` need to know of a build (base URI, title, size)."""


def leave_interrupts_to_parent() -> None:
    """Ctrl-C signals every process of the terminal's group: a build's helper (a worker, the
    store loader) leaves it to the build, which stops it and cleans up, rather than die on its
    own with a traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def die_with_parent(parent: int) -> None:
    """A build killed with -9 must not leave helper processes behind (Linux prctl). If the
    parent died before the signal was armed, exit now rather than write into its folder."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)


class StreamLoader:
    """Feed N-Quads with write(); close() waits until the store at `path` holds all of it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lod.store", str(path), str(os.getpid())],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.process.stdin is not None
        self.stream: IO[bytes] = self.process.stdin

    def write(self, data: bytes) -> None:
        try:
            self.stream.write(data)
        except BrokenPipeError as exc:
            self.close()  # raises the loader's own error, if it gave one
            raise PublishError(f"the store loader for {self.path} stopped early") from exc

    def close(self) -> None:
        try:
            self.stream.close()
        except BrokenPipeError:
            pass
        assert self.process.stderr is not None
        with self.process.stderr as stderr:
            errors = stderr.read()
        code = self.process.wait()
        if code == NO_SPACE:
            full = OSError(NO_SPACE, os.strerror(NO_SPACE), str(self.path))
            raise PublishError(f"loading the store {self.path} failed: {full}") from full
        if code != 0:
            detail = errors.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise PublishError(f"loading the store {self.path} failed: {detail[0]}")

    def abort(self) -> None:
        self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stderr):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


def main(path: str, parent: str) -> None:
    die_with_parent(int(parent))
    leave_interrupts_to_parent()
    try:
        store = Store(path)
        # lenient: the stream is our own pyoxigraph output, already valid; skip re-validating IRIs.
        store.bulk_load(sys.stdin.buffer, RdfFormat.N_QUADS, lenient=True)
        store.flush()
        # A bulk load ingests each million quads as files of their own that overlap the others,
        # and the store is only read from now on: compacted once here, the curated queries on
        # a store of ~100,000 records answered 3.5 times faster summed (bench/store_bench.py).
        store.optimize()
    except OSError as exc:
        if not out_of_space(exc):
            raise
        # RocksDB's I/O errors carry no errno; the exit status tells the build the disk is full.
        print(f"lod.store: {exc}", file=sys.stderr)
        sys.exit(NO_SPACE)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
