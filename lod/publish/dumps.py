"""The four dumps (N-Triples gzip, Turtle, JSON lines, N-Quads gzip), written as resources
stream in. The N-Quads dump holds each resource in its named graph with its provenance.

Each resource's share is a contiguous byte range in every dump, and its N-Triples and N-Quads
shares are gzip members of their own (members concatenate into one valid gzip file). So the build remembers
each resource's ranges, and an incremental build splices the new dumps out of the old ones and
the few changed resources, without recompressing or re-serializing anything.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from lod.publish.dataset import Dump
from lod.publish.state import Part
from lod.publish.writer import Written
from lod.store import StreamLoader

NAMES = ("dataset.nt.gz", "dataset.ttl", "records.jsonl", "dataset.nq.gz")
KEYS = ("gz", "ttl", "js", "nq")
DUMP_TYPES = {
    "dataset.nt.gz": (
        "application/n-triples",
        "N-Triples (gzip): the resources, without provenance",
    ),
    "dataset.ttl": ("text/turtle", "Turtle: the resources, without provenance"),
    "records.jsonl": (
        "application/jsonl",
        "JSON Lines: a JSON-LD document per resource, without provenance",
    ),
    "dataset.nq.gz": (
        "application/n-quads",
        "N-Quads (gzip): one named graph per resource, with its provenance",
    ),
}
COPY_CHUNK = 8 << 20


class _Out:
    """One dump file being written: tracks the offset and the SHA-256 as bytes go out.
    Copies of adjacent old ranges are merged and done in large reads."""

    def __init__(self, path: Path) -> None:
        self.handle: IO[bytes] = path.open("wb")
        self.offset = 0
        self.digest = hashlib.sha256()
        self.source: IO[bytes] | None = None
        self.pending: list[int] = [0, 0]
        self._copy_buffer: bytearray | None = None

    def write(self, data: bytes) -> tuple[int, int]:
        self.flush()
        start = self.offset
        self._emit(data)
        return start, len(data)

    def copy(self, source: IO[bytes], span: tuple[int, int]) -> tuple[int, int]:
        start = self.offset + self.pending[1]
        if self.source is source and self.pending[0] + self.pending[1] == span[0]:
            self.pending[1] += span[1]
        else:
            self.flush()
            self.source, self.pending = source, [span[0], span[1]]
        return start, span[1]

    def flush(self) -> None:
        """Copy the pending range: read into one reused buffer, hash and write views of it
        (gigabytes go through here on every republish)."""
        if self.source is None:
            return
        self.source.seek(self.pending[0])
        left = self.pending[1]
        buffer = self._buffer()
        while left:
            view = memoryview(buffer)[: min(len(buffer), left)]
            got = self.source.readinto(view)  # type: ignore[attr-defined]
            if not got:
                raise OSError("the last build's dump is shorter than its state says")
            self._emit(view[:got])
            left -= got
        self.source, self.pending = None, [0, 0]

    def _buffer(self) -> bytearray:
        if self._copy_buffer is None:
            self._copy_buffer = bytearray(COPY_CHUNK)
        return self._copy_buffer

    def _emit(self, data: bytes | memoryview) -> None:
        self.handle.write(data)
        self.digest.update(data)
        self.offset += len(data)


@dataclass(slots=True)
class Ranges:
    gz: tuple[int, int]
    ttl: tuple[int, int]
    js: tuple[int, int]
    nq: tuple[int, int]


class DumpWriter:
    """Writes the dumps of a build; `loader` (when given) also gets every N-Quads share, so
    the store is loaded from the same bytes. The Turtle dump declares its prefixes once."""

    def __init__(
        self, folder: Path, prefixes: dict[str, str], loader: StreamLoader | None = None
    ) -> None:
        self.folder = folder
        self.loader = loader
        self.gz = _Out(folder / "dataset.nt.gz")
        self.ttl = _Out(folder / "dataset.ttl")
        self.js = _Out(folder / "records.jsonl")
        self.nq = _Out(folder / "dataset.nq.gz")
        self.ttl.write("".join(f"@prefix {p}: <{ns}> .\n" for p, ns in prefixes.items()).encode())

    def add(self, written: Written) -> Ranges:
        if self.loader is not None:
            self.loader.write(written.plain_nquads)
        return Ranges(
            self.gz.write(written.ntriples),
            self.ttl.write(written.turtle),
            self.js.write((written.line + "\n").encode("utf-8")),
            self.nq.write(written.nquads),
        )

    def copy(self, old: OldDumps, part: Part) -> Ranges:
        """Carry one unchanged resource's bytes over from the last build's dumps."""
        return Ranges(
            self.gz.copy(old.handles["gz"], part.gz),
            self.ttl.copy(old.handles["ttl"], part.ttl),
            self.js.copy(old.handles["js"], part.js),
            self.nq.copy(old.handles["nq"], part.nq),
        )

    def close(self) -> list[Dump]:
        """Finish the files; return their descriptions and write SHA256SUMS."""
        result = []
        lines = []
        for name, out in zip(NAMES, self._outs(), strict=True):
            out.flush()
            out.handle.close()
            digest = out.digest.hexdigest()
            media_type, label = DUMP_TYPES[name]
            result.append(Dump(f"dumps/{name}", media_type, label, digest, out.offset))
            lines.append(f"{digest}  {name}\n")
        (self.folder / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")
        return result

    def _outs(self) -> tuple[_Out, ...]:
        return self.gz, self.ttl, self.js, self.nq

    def abort(self) -> None:
        for out in self._outs():
            out.handle.close()


class OldDumps:
    """The last build's dumps, read by range. Consecutive ranges are read in one go."""

    def __init__(self, folder: Path) -> None:
        self.handles = {
            key: (folder / name).open("rb") for key, name in zip(KEYS, NAMES, strict=True)
        }

    def read(self, key: str, span: tuple[int, int]) -> bytes:
        handle = self.handles[key]
        handle.seek(span[0])
        return handle.read(span[1])

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()


def same_bytes(a: Path, b: Path) -> bool:
    """Whether two files hold the same bytes (an unchanged file is not replaced, so it keeps
    its inode, modification time and Last-Modified)."""
    try:
        if os.stat(a).st_size != os.stat(b).st_size:
            return False
    except OSError:
        return False
    with a.open("rb") as x, b.open("rb") as y:
        while True:
            one, two = x.read(COPY_CHUNK), y.read(COPY_CHUNK)
            if one != two:
                return False
            if not one:
                return True


__all__ = ["DUMP_TYPES", "DumpWriter", "OldDumps", "Ranges", "same_bytes"]
