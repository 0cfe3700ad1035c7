"""Items a build must keep until its end, kept on disk instead of in memory.

A full build logs every resource's new state only after all of them are written; a million of
them would hold gigabytes in lists. A spool writes each item as it comes and reads them back
once, in order, from an unnamed temporary file that vanishes with the build's folder or process.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")


class Spool(Generic[T]):
    """Append items, then iterate over them once; `dir` holds the file while it exists."""

    def __init__(self, dir: Path) -> None:
        self._file = tempfile.TemporaryFile(dir=dir)
        self._pickler = pickle.Pickler(self._file, protocol=pickle.HIGHEST_PROTOCOL)

    def add(self, item: T) -> None:
        self._pickler.dump(item)
        # A pickler remembers every object it wrote, to write repeats as references.
        self._pickler.clear_memo()

    def __iter__(self) -> Iterator[T]:
        self._file.flush()
        self._file.seek(0)
        while True:
            # One unpickler per item, as each was written with a fresh memo: a single unpickler
            # files every object it reads under the next free number across loads, so it would
            # keep every item read (~1 GB at 1M records) and resolve an item's repeated object
            # to an earlier item's.
            try:
                yield pickle.load(self._file)
            except EOFError:
                return

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Spool[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
