"""The change log: one history of created, updated and deleted resources behind every feed."""

from __future__ import annotations

from pathlib import Path

import pytest

from lod import changelog
from lod.changelog import CREATED, DELETED, UPDATED, ChangeLog, State

T0 = 1_700_000_000


def states(*items: tuple[str, str]) -> list[State]:
    return [
        State(f"http://x/record/{u}", "record", h, len(h), u.upper(), ("type:letter",))
        for u, h in items
    ]


def test_changes_are_logged_only_when_content_changes(tmp_path: Path) -> None:
    path = tmp_path / "changes.sqlite"
    with ChangeLog(path) as log:
        first = log.record(states(("a", "1"), ("b", "2")), now=T0)
        assert first.as_dict() == {CREATED: 2, UPDATED: 0, DELETED: 0}
    before = path.read_bytes()
    with ChangeLog(path) as log:
        again = log.record(states(("a", "1"), ("b", "2")), now=T0 + 60)
        assert again.total == 0
    assert path.read_bytes() == before, "an unchanged build must not touch the log"
    with ChangeLog(path) as log:
        counts = log.record(states(("a", "9")), ["http://x/record/b"], now=T0 + 120)
        assert counts.as_dict() == {CREATED: 0, UPDATED: 1, DELETED: 1}
        a = log.resource("http://x/record/a")
        b = log.resource("http://x/record/b")
        assert a is not None and b is not None
        assert (a.created, a.modified, a.deleted) == (
            "2023-11-14T22:13:20Z",
            "2023-11-14T22:15:20Z",
            None,
        )
        assert b.deleted == "2023-11-14T22:15:20Z" and b.reason
        assert b.sets == ("type:letter",), "a deletion keeps the sets of its last state"
        assert [c.change for c in log.changes()] == [CREATED, CREATED, UPDATED, DELETED]
        assert [r.uri for r in log.resources()] == ["http://x/record/a"]
        # back again: created anew, keeping one row per URI
        log.record(states(("b", "3")), now=T0 + 180)
        b = log.resource("http://x/record/b")
        assert b is not None and b.deleted is None and b.created == "2023-11-14T22:16:20Z"


def test_a_record_that_becomes_an_entity_is_a_deleted_record(tmp_path: Path) -> None:
    """A collection read as a record whose record goes, while records still name the
    collection, stays published as an entity page under the same URI: as a record it is
    deleted (harvesters keep deletions for good), as an entity it is new."""
    uri = "http://x/collection/c"
    with ChangeLog(tmp_path / "c.sqlite") as log:
        log.record([State(uri, "record", "1", 1, "C", ("type:collection",))], now=T0)
        counts = log.record([State(uri, "collection", "2", 1, "C")], now=T0 + 60)
        assert counts.as_dict() == {CREATED: 1, UPDATED: 0, DELETED: 1}
        (gone,) = log.listing(kind="record", snapshot=log.last_seq())
        assert (gone.uri, gone.change, gone.time) == (uri, DELETED, "2023-11-14T22:14:20Z")
        assert gone.sets == ("type:collection",)
        state = log.state_as_of(uri, kind="record")
        assert state is not None and state.change == DELETED
        resource = log.resource(uri)
        assert resource is not None and resource.kind == "collection" and not resource.deleted
        # and back: a record again, created anew
        log.record([State(uri, "record", "3", 1, "C")], now=T0 + 120)
        (back,) = log.listing(kind="record", snapshot=log.last_seq())
        assert back.change == CREATED and back.time == "2023-11-14T22:15:20Z"


def test_datestamps_never_go_backwards(tmp_path: Path) -> None:
    with ChangeLog(tmp_path / "c.sqlite") as log:
        log.record(states(("a", "1")), now=T0)
        log.record(states(("a", "2")), now=T0 - 3600)
        times = [c.time for c in log.changes()]
        assert times == sorted(times) and times[0] == times[1]


def test_listing_is_a_snapshot_without_duplicates_or_gaps(tmp_path: Path) -> None:
    with ChangeLog(tmp_path / "c.sqlite") as log:
        log.record(states(*[(f"r{i}", "1") for i in range(5)]), now=T0)
        snapshot = log.last_seq()
        page = log.listing(kind="record", snapshot=snapshot, limit=2)
        assert [c.uri[-2:] for c in page] == ["r0", "r1"]
        # a republish between pages: r0 (seen) and r3 (not yet seen) change, r4 goes
        log.record(states(("r0", "2"), ("r3", "2")), ["http://x/record/r4"], now=T0 + 60)
        rest = log.listing(kind="record", snapshot=snapshot, after=page[-1].seq, limit=10)
        assert [c.uri[-2:] for c in rest] == ["r2", "r3", "r4"]
        assert all(c.change == CREATED for c in rest)
        assert log.listing_size(kind="record", snapshot=snapshot) == 5
        now = log.listing(kind="record", snapshot=log.last_seq(), limit=10)
        assert [(c.uri[-2:], c.change) for c in now] == [
            ("r1", CREATED),
            ("r2", CREATED),
            ("r0", UPDATED),
            ("r3", UPDATED),
            ("r4", DELETED),
        ]


def test_sets_select_their_subsets(tmp_path: Path) -> None:
    with ChangeLog(tmp_path / "c.sqlite") as log:
        log.record(
            [
                State("http://x/record/a", "record", "1", 1, "A", ("archive:aprf", "type:letter")),
                State("http://x/record/b", "record", "1", 1, "B", ("archive:aprfx",)),
            ],
            now=T0,
            sets={"archive": "Holding archives", "archive:aprf": "APRF"},
        )
        last = log.last_seq()

        def uris(spec: str) -> list[str]:
            return [c.uri[-1] for c in log.listing(kind="record", snapshot=last, set_spec=spec)]

        assert uris("archive") == ["a", "b"]
        assert uris("archive:aprf") == ["a"]
        assert uris("type") == ["a"]
        assert uris("type:memo") == []
        assert log.set_names() == [("archive", "Holding archives"), ("archive:aprf", "APRF")]


def test_a_listed_change_finds_its_sets_by_index(tmp_path: Path) -> None:
    """Each listed change looks its sets up by seq: a scan there made a page of 100 take
    seconds on a log of 100,000 records."""
    with ChangeLog(tmp_path / "c.sqlite") as log:
        plan = " ".join(
            str(row[-1])
            for row in log.db.execute(
                "EXPLAIN QUERY PLAN SELECT spec FROM change_sets WHERE seq = ? ORDER BY spec", (1,)
            )
        )
        assert "change_sets_by_seq" in plan and "SCAN" not in plan


def test_log_ids_name_a_history_by_its_first_build(tmp_path: Path) -> None:
    ids = []
    for name, first in (("a", ("x", "1")), ("b", ("x", "1")), ("c", ("y", "1"))):
        with ChangeLog(tmp_path / f"{name}.sqlite") as log:
            log.record(states(first), now=T0)
            ids.append(log.log_id)
            log.record(states(("z", "2")), now=T0 + 60)
            assert log.log_id == ids[-1], "later builds keep the id"
    assert ids[0] == ids[1] != ids[2] and all(len(i) == 64 for i in ids)


def test_changes_are_stamped_when_published(tmp_path: Path) -> None:
    """A build records its changes, then works on (store, counts, pages) before it swaps the
    output in: publish() restamps that build's changes with the second after the swap, and
    touches neither an earlier build's changes nor a log with nothing pending."""
    with ChangeLog(tmp_path / "c.sqlite") as log:
        log.record(states(("a", "1"), ("b", "2")), now=T0)
        log.publish(now=T0 + 500)
        assert log.meta("pending") is None, "a fixed clock's stamps are the output's own"
        assert {c.time for c in log.changes()} == {"2023-11-14T22:13:20Z"}
        log.record(states(("a", "9"), ("c", "3")), ["http://x/record/b"])
        assert log.meta("pending") is not None
        log.publish(now=T0 + 3600.7)
        published = "2023-11-14T23:13:21Z"
        times = [(c.uri[-1], c.change, c.time) for c in log.changes()]
        assert times == [
            ("a", CREATED, "2023-11-14T22:13:20Z"),
            ("b", CREATED, "2023-11-14T22:13:20Z"),
            ("a", UPDATED, published),
            ("c", CREATED, published),
            ("b", DELETED, published),
        ]
        a, b, c = (log.resource(f"http://x/record/{u}") for u in "abc")
        assert a is not None and (a.created, a.modified) == ("2023-11-14T22:13:20Z", published)
        assert b is not None and (b.modified, b.deleted) == (published, published)
        assert c is not None and (c.created, c.modified) == (published, published)
        log.publish(now=T0 + 7200)
        assert [c.time for c in log.changes()][-1] == published, "published once"


def test_a_publication_stamp_never_goes_before_an_earlier_one(tmp_path: Path) -> None:
    with ChangeLog(tmp_path / "c.sqlite") as log:
        log.record(states(("a", "1")), now=T0 + 100)
        log.record(states(("a", "2")))
        log.publish(now=T0)
        assert [c.time for c in log.changes()] == ["2023-11-14T22:15:00Z"] * 2


def test_a_slow_restamp_stamps_again_further_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Restamping a large batch takes seconds, and the swap follows it: the stamp must still
    come after the swap, so a slow first pass is done again, ahead by twice its time."""
    clock = iter([0.0, 5.0])
    monkeypatch.setattr(changelog.time, "monotonic", lambda: next(clock))
    with ChangeLog(tmp_path / "c.sqlite") as log:
        log.record(states(("a", "1")))
        log.publish(now=T0)
        # now + 5 s (the first pass) + 2 x 5 s + 1 s
        assert [c.time for c in log.changes()] == ["2023-11-14T22:13:36Z"]
        assert log.meta("pending") is None
