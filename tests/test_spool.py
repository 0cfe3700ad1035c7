"""The build's on-disk holders of per-record state: the spool of change-log states and the
seen-IDs table, which keep a million-record build's main process within its memory bound."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from lod.changelog import State
from lod.publish.spool import Spool
from lod.publish.steps import SeenIds


def test_a_spool_gives_back_what_it_was_given_in_order_and_leaves_no_file(tmp_path: Path) -> None:
    states = [
        State(f"http://x/record/{n}", "record", f"{n:064x}", n, f"T{n}", ("a",))
        for n in range(1000)
    ]
    with Spool[State](tmp_path) as spool:
        for state in states:
            spool.add(state)
        assert list(tmp_path.iterdir()) == []  # an unnamed file: nothing to leave behind
        assert list(spool) == states


def test_an_item_that_holds_one_object_twice_comes_back_as_written(tmp_path: Path) -> None:
    """Each item is pickled with a fresh memo, so a repeated object inside it is written as a
    reference to the item's own first copy, never to an earlier item's."""
    items = [(title := f"Telegram {n} " * 3, [title], {"title": title}) for n in range(50)]
    with Spool[tuple[str, list[str], dict[str, str]]](tmp_path) as spool:
        for item in items:
            spool.add(item)
        assert list(spool) == items


def test_reading_a_spool_back_keeps_no_item_it_has_given(tmp_path: Path) -> None:
    """Python memory held while 20,000 states are read back one after the other. Keeping them
    all, as the unpickler's memo did, held 16.6 MB here (~1 GB at a million records)."""
    with Spool[State](tmp_path) as spool:
        for n in range(20_000):
            spool.add(State(f"http://x/record/{n}", "record", f"{n:064x}", n, f"T{n}", ("a",)))
        tracemalloc.start()
        try:
            read = sum(1 for _ in spool)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert read == 20_000
    assert peak < 512 * 1024, f"{peak:,} bytes held while reading"


def test_seen_ids_say_where_an_id_was_first_read() -> None:
    seen = SeenIds()
    assert seen.first(("record", "1"), "a.csv:2") is None
    assert seen.first(("record", "2"), "a.csv:3") is None
    assert seen.first(("record", "1"), "b.csv:9") == "a.csv:2"
    assert seen.first(("letter", "1"), "b.csv:10") is None
    assert seen.first(("record", "1"), "c.csv:1") == "a.csv:2"
