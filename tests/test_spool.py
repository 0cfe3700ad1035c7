"""The build's on-disk holders of per-record state: the spool of change-log states and the
seen-IDs table, which keep a million-record build's main process within its memory bound."""

from __future__ import annotations

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


def test_seen_ids_say_where_an_id_was_first_read() -> None:
    seen = SeenIds()
    assert seen.first(("record", "1"), "a.csv:2") is None
    assert seen.first(("record", "2"), "a.csv:3") is None
    assert seen.first(("record", "1"), "b.csv:9") == "a.csv:2"
    assert seen.first(("letter", "1"), "b.csv:10") is None
    assert seen.first(("record", "1"), "c.csv:1") == "a.csv:2"
