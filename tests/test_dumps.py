"""The dumps a build splices: each resource's ranges must point at its bytes in the new files."""

from __future__ import annotations

import gzip
from pathlib import Path

from lod.publish.dumps import DumpWriter, OldDumps, Ranges
from lod.publish.state import Part
from lod.publish.writer import Written


def written(name: str) -> Written:
    triple = f"<http://x/{name}> <http://x/p> {name!r} .\n".replace("'", '"')
    quad = triple[:-3] + f" <http://x/doc/{name}> .\n"
    return Written(
        gzip.compress(triple.encode(), mtime=0),
        triple.encode(),
        f'{{"@id": "{name}"}}',
        "",
        0,
        gzip.compress(quad.encode(), mtime=0),
    )


def check(folder: Path, ranges: dict[str, Ranges]) -> None:
    old = OldDumps(folder)
    try:
        for name, r in ranges.items():
            assert gzip.decompress(old.read("gz", r.gz)).decode().startswith(f"<http://x/{name}>")
            assert old.read("ttl", r.ttl).decode().startswith(f"<http://x/{name}>")
            assert old.read("js", r.js).decode() == f'{{"@id": "{name}"}}\n'
            quads = gzip.decompress(old.read("nq", r.nq)).decode()
            assert quads.endswith(f" <http://x/doc/{name}> .\n")
    finally:
        old.close()


def test_copies_after_a_new_share_keep_their_ranges(tmp_path: Path) -> None:
    """Unchanged, changed, unchanged: a copy after a written share starts where the written
    one ends (a stale pending length once shifted every range after the first change)."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    dumps = DumpWriter(first, {})
    before = {name: dumps.add(written(name)) for name in ("a", "b", "c", "d")}
    dumps.close()
    check(first, before)
    dumps = DumpWriter(second, {})
    old = OldDumps(first)
    parts = {n: Part(n, 0, "record", 0, r.gz, r.ttl, r.js, r.nq) for n, r in before.items()}
    after = {
        "a": dumps.copy(old, parts["a"]),
        "B": dumps.add(written("B")),
        "c": dumps.copy(old, parts["c"]),
        "d": dumps.copy(old, parts["d"]),
    }
    dumps.close()
    old.close()
    check(second, after)
