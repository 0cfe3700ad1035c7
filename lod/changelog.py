"""The change log: what every build changed, per resource, kept inside the output.

One small SQLite file (`changes.sqlite`) is the single source of every feed: OAI-PMH datestamps
and deletions, ResourceSync lists, the Activity Streams change feed, the sitemap's `lastmod` and
the 410 tombstones. Feeds that read one log cannot tell different stories.

A resource's content is its Turtle document: a change is logged only when those bytes change,
so a datestamp is the time a resource last changed, never the time of the last build. The log
is append-only (`changes`); `resources` is its current state, one row per URI ever published,
so a deletion is remembered for good.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

LOG_FILE = "changes.sqlite"
CREATED, UPDATED, DELETED = "created", "updated", "deleted"
REMOVED_FROM_SOURCES = "the record is no longer in the sources"
UNREFERENCED = "no published record refers to it any more"
PENDING = "pending"
"""Meta key: the first change recorded by a build not yet published (see ChangeLog.publish)."""
SLOW_RESTAMP = 0.5
"""Seconds a restamp may take before it is done again further ahead (ChangeLog.publish)."""

SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE changes(
    seq INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    uri TEXT NOT NULL,
    kind TEXT NOT NULL,
    change TEXT NOT NULL CHECK (change IN ('created', 'updated', 'deleted')),
    hash TEXT NOT NULL,
    length INTEGER NOT NULL,
    title TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX changes_by_uri ON changes(uri, seq);
CREATE TABLE change_sets(spec TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (spec, seq))
    WITHOUT ROWID;
CREATE INDEX change_sets_by_seq ON change_sets(seq, spec);
CREATE TABLE sets(spec TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE resources(
    uri TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    seq INTEGER NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    deleted TEXT,
    hash TEXT NOT NULL,
    length INTEGER NOT NULL,
    title TEXT NOT NULL,
    sets TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX resources_by_kind ON resources(kind, uri);
"""


@dataclass(frozen=True, slots=True)
class State:
    """A published resource as a build leaves it: `hash` is the SHA-256 of its Turtle document,
    `sets` the OAI-PMH set specs it belongs to (records only)."""

    uri: str
    kind: str
    hash: str
    length: int
    title: str
    sets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Change:
    seq: int
    time: str
    uri: str
    kind: str
    change: str
    hash: str
    length: int
    title: str
    reason: str
    sets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Resource:
    """The current state of a URI: `deleted` is the time of its deletion, or None."""

    uri: str
    kind: str
    seq: int
    created: str
    modified: str
    deleted: str | None
    hash: str
    length: int
    title: str
    sets: tuple[str, ...]
    reason: str = ""


@dataclass(slots=True)
class Counts:
    created: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.deleted

    def as_dict(self) -> dict[str, int]:
        return {CREATED: self.created, UPDATED: self.updated, DELETED: self.deleted}


def stamp(epoch: float) -> str:
    """The log's time format, which is also OAI-PMH's second granularity."""
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ChangeLog:
    """The log of one output folder; writers use record(), the server only the readers."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        if readonly:
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        else:
            fresh = not path.exists()
            self.db = sqlite3.connect(path)
            self.db.execute("PRAGMA journal_mode=DELETE")
            if fresh:
                self.db.executescript(SCHEMA)
            else:  # a log written before the index: every listed change looks its sets up by seq
                self.db.execute(
                    "CREATE INDEX IF NOT EXISTS change_sets_by_seq ON change_sets(seq, spec)"
                )
        self.db.row_factory = None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> ChangeLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -------------------------------------------------------------------------

    def record(
        self,
        states: Iterable[State],
        removed: Iterable[str] = (),
        *,
        now: float | None = None,
        reasons: dict[str, str] | None = None,
        sets: dict[str, str] | None = None,
    ) -> Counts:
        """Log what changed: a state whose hash differs from the current one is an update, a new
        (or deleted and now back) URI a creation, each of `removed` a deletion. A URI that
        changes kind (a collection read as a record whose record is gone, now an entity page)
        is a deletion of the old kind and a creation of the new: a harvester of records must
        learn that the record went (OAI-PMH deletedRecord `persistent`). Unchanged states
        write nothing, so a build of unchanged input leaves the log byte for byte as it was."""
        counts = Counts()
        db = self.db
        when = self._clock(now)
        first = self._next_seq()
        with db:
            history = hashlib.sha256(when.encode())
            for state in states:
                history.update(f"{state.uri} {state.hash}\n".encode())
                current = self._resource(state.uri)
                if current is not None and current.deleted is not None:
                    current = None  # deleted and now back: a creation
                if current is not None and current.kind != state.kind:
                    self._delete(when, current, reasons)
                    counts.deleted += 1
                    current = None
                elif current is not None and current.hash == state.hash:
                    continue
                change = CREATED if current is None else UPDATED
                if change == CREATED:
                    counts.created += 1
                else:
                    counts.updated += 1
                self._append(when, state, change, "")
            for uri in removed:
                current = self._resource(uri)
                if current is None or current.deleted is not None:
                    continue
                counts.deleted += 1
                self._delete(when, current, reasons)
            for spec, name in sorted((sets or {}).items()):
                db.execute(
                    "INSERT INTO sets(spec, name) VALUES (?, ?) "
                    "ON CONFLICT(spec) DO UPDATE SET name = excluded.name "
                    "WHERE name != excluded.name",
                    (spec, name),
                )
            if counts.total and self.meta("log") is None:
                # Names this history by its first build's time and content: two sites'
                # logs differ unless they began with the same resources in the same second.
                self._set_meta("log", history.hexdigest())
            if counts.total and now is None and self.meta(PENDING) is None:
                self._set_meta(PENDING, str(first))
        return counts

    def publish(self, now: float | None = None) -> None:
        """Stamp the changes recorded since the last publication with the time they become
        visible: the second after `now` (the moment before the build is swapped in), never
        before an earlier stamp. A build records its changes long before it is swapped in
        (the store, the counts, the pages come after); stamped then, a change could carry a
        datestamp earlier than the responseDate an OAI-PMH answer from the old build gave
        meanwhile, and a harvester going on `from` that responseDate would never see it.
        Builds with a fixed clock (SOURCE_DATE_EPOCH) record no pending changes: their
        stamps are part of the reproducible output."""
        pending = self.meta(PENDING)
        if pending is None:
            return
        first = int(pending)
        started = time.monotonic()
        clock = time.time() if now is None else now
        self._restamp(first, clock + 1)
        took = time.monotonic() - started
        if took > SLOW_RESTAMP:
            # A large batch: the swap would come after the second stamped. Stamp again, from
            # now (clock + took) ahead by twice what a pass takes, so that the swap comes first.
            self._restamp(first, clock + took + 2 * took + 1)
        with self.db:
            self.db.execute("DELETE FROM meta WHERE key = ?", (PENDING,))

    def _restamp(self, first: int, epoch: float) -> None:
        """Stamp the changes from `first` on with the second of `epoch`, never before an
        earlier change's stamp."""
        earlier = self.db.execute(
            "SELECT max(time) FROM changes WHERE seq < ?", (first,)
        ).fetchone()[0]
        when = stamp(epoch)
        when = max(when, earlier) if earlier else when
        with self.db:
            self.db.execute("UPDATE changes SET time = ? WHERE seq >= ?", (when, first))
            self.db.execute(
                "UPDATE resources SET modified = ?1, "
                "deleted = CASE WHEN deleted IS NULL THEN NULL ELSE ?1 END, "
                "created = CASE WHEN EXISTS (SELECT 1 FROM changes c WHERE c.uri = resources.uri "
                "AND c.seq >= ?2 AND c.change = 'created') THEN ?1 ELSE created END "
                "WHERE seq >= ?2",
                (when, first),
            )

    def _next_seq(self) -> int:
        last = self.db.execute("SELECT max(seq) FROM changes").fetchone()[0]
        return int(last or 0) + 1

    def _delete(self, when: str, current: Resource, reasons: dict[str, str] | None) -> None:
        """Log `current` as deleted, with its last title and sets, and why."""
        gone = State(current.uri, current.kind, "", 0, current.title, current.sets)
        reason = (reasons or {}).get(current.kind, REMOVED_FROM_SOURCES)
        self._append(when, gone, DELETED, reason)

    def current_uris(self) -> Iterator[str]:
        """Every URI published now (not deleted)."""
        for (uri,) in self.db.execute("SELECT uri FROM resources WHERE deleted IS NULL"):
            yield uri

    def _append(self, when: str, state: State, change: str, reason: str) -> None:
        cursor = self.db.execute(
            "INSERT INTO changes(time, uri, kind, change, hash, length, title, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (when, state.uri, state.kind, change, state.hash, state.length, state.title, reason),
        )
        seq = cursor.lastrowid
        self.db.executemany(
            "INSERT INTO change_sets(spec, seq) VALUES (?, ?)", [(s, seq) for s in state.sets]
        )
        sets = json.dumps(list(state.sets))
        deleted = when if change == DELETED else None
        self.db.execute(
            "INSERT INTO resources(uri, kind, seq, created, modified, deleted, hash, length, "
            "title, sets) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(uri) DO UPDATE SET "
            "kind = excluded.kind, seq = excluded.seq, modified = excluded.modified, "
            "deleted = excluded.deleted, hash = excluded.hash, length = excluded.length, "
            "title = excluded.title, sets = excluded.sets, "
            "created = CASE WHEN resources.deleted IS NULL THEN resources.created "
            "ELSE excluded.created END",
            (
                state.uri,
                state.kind,
                seq,
                when,
                when,
                deleted,
                state.hash,
                state.length,
                state.title,
                sets,
            ),
        )

    def _clock(self, now: float | None) -> str:
        """Datestamps never go backwards, so the log's order is also the datestamps' order."""
        when = stamp(time.time() if now is None else now)
        last = self.db.execute("SELECT max(time) FROM changes").fetchone()[0]
        return max(when, last) if last else when

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # --- reading -------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    @property
    def log_id(self) -> str:
        """Names this log's history; resumption tokens from another history are refused."""
        return self.meta("log") or ""

    def resource(self, uri: str) -> Resource | None:
        return self._resource(uri)

    def _resource(self, uri: str) -> Resource | None:
        row = self.db.execute(
            "SELECT r.uri, r.kind, r.seq, r.created, r.modified, r.deleted, r.hash, r.length, "
            "r.title, r.sets, c.reason FROM resources r JOIN changes c ON c.seq = r.seq "
            "WHERE r.uri = ?",
            (uri,),
        ).fetchone()
        return _resource(row) if row else None

    def resources(
        self, *, kind: str | None = None, after: str = "", limit: int = 1000
    ) -> list[Resource]:
        """Current (not deleted) resources in URI order, a page at a time."""
        where = "r.deleted IS NULL AND r.uri > ?" + (" AND r.kind = ?" if kind else "")
        args: tuple[object, ...] = (after, kind, limit) if kind else (after, limit)
        rows = self.db.execute(
            "SELECT r.uri, r.kind, r.seq, r.created, r.modified, r.deleted, r.hash, r.length, "
            f"r.title, r.sets, '' FROM resources r WHERE {where} ORDER BY r.uri LIMIT ?",
            args,
        )
        return [_resource(row) for row in rows]

    def lastmods(self) -> Iterator[tuple[str, str, str]]:
        """(URI, kind, modified) of every current resource, records first, then by URI."""
        yield from self.db.execute(
            "SELECT uri, kind, modified FROM resources WHERE deleted IS NULL "
            "ORDER BY kind != 'record', uri"
        )

    def count(self, *, kind: str | None = None) -> int:
        sql = "SELECT count(*) FROM resources WHERE deleted IS NULL"
        args: tuple[str, ...] = ()
        if kind:
            sql += " AND kind = ?"
            args = (kind,)
        return int(self.db.execute(sql, args).fetchone()[0])

    def changes(
        self,
        *,
        after: int = 0,
        before: int | None = None,
        limit: int = 1000,
        newest_first: bool = False,
        since: str = "",
    ) -> list[Change]:
        """Log entries with `after` < seq < `before`, oldest (or newest) first."""
        bound = before if before is not None else 1 << 62
        order = "DESC" if newest_first else "ASC"
        rows = self.db.execute(
            "SELECT seq, time, uri, kind, change, hash, length, title, reason FROM changes "
            f"WHERE seq > ? AND seq < ? AND time >= ? ORDER BY seq {order} LIMIT ?",
            (after, bound, since, limit),
        )
        return [Change(*row) for row in rows]

    def last_seq(self) -> int:
        return int(self.db.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0])

    def first_time(self) -> str:
        return str(self.db.execute("SELECT coalesce(min(time), '') FROM changes").fetchone()[0])

    def last_time(self) -> str:
        return str(self.db.execute("SELECT coalesce(max(time), '') FROM changes").fetchone()[0])

    def set_names(self) -> list[tuple[str, str]]:
        return [(s, n) for s, n in self.db.execute("SELECT spec, name FROM sets ORDER BY spec")]

    def listing(
        self,
        *,
        kind: str,
        snapshot: int,
        after: int = 0,
        limit: int = 100,
        start: str = "",
        end: str = "",
        set_spec: str = "",
    ) -> list[Change]:
        """The latest state as a `kind` resource of each URI as of log entry `snapshot` (a URI
        that changed kind was logged deleted as its old kind), in log order,
        after entry `after`: a harvest paged over one snapshot sees no duplicate and no gap,
        however many builds land between its pages. `start`/`end` bound the datestamps
        (inclusive); `set_spec` selects a set and its subsets."""
        sql, args = self._listing_sql(kind, snapshot, after, start, end, set_spec)
        rows = self.db.execute(sql + " ORDER BY c.seq LIMIT ?", (*args, limit)).fetchall()
        return [self._with_sets(Change(*row)) for row in rows]

    def listing_size(
        self, *, kind: str, snapshot: int, start: str = "", end: str = "", set_spec: str = ""
    ) -> int:
        sql, args = self._listing_sql(kind, snapshot, 0, start, end, set_spec)
        return int(self.db.execute(f"SELECT count(*) FROM ({sql})", args).fetchone()[0])

    def state_as_of(
        self, uri: str, snapshot: int | None = None, *, kind: str = ""
    ) -> Change | None:
        """The last entry of `uri` up to `snapshot`; with `kind`, its last entry as that kind
        (a record that became an entity page is, as a record, deleted)."""
        bound = snapshot if snapshot is not None else 1 << 62
        row = self.db.execute(
            "SELECT seq, time, uri, kind, change, hash, length, title, reason FROM changes "
            "WHERE uri = ? AND seq <= ? AND (? = '' OR kind = ?) ORDER BY seq DESC LIMIT 1",
            (uri, bound, kind, kind),
        ).fetchone()
        return self._with_sets(Change(*row)) if row else None

    def _listing_sql(
        self, kind: str, snapshot: int, after: int, start: str, end: str, set_spec: str
    ) -> tuple[str, tuple[object, ...]]:
        sql = (
            "SELECT c.seq, c.time, c.uri, c.kind, c.change, c.hash, c.length, c.title, c.reason "
            "FROM changes c WHERE c.kind = ? AND c.seq > ? AND c.seq <= ? "
            "AND NOT EXISTS (SELECT 1 FROM changes d WHERE d.uri = c.uri AND d.kind = c.kind "
            "AND d.seq > c.seq AND d.seq <= ?)"
        )
        args: list[object] = [kind, after, snapshot, snapshot]
        if start:
            sql += " AND c.time >= ?"
            args.append(start)
        if end:
            sql += " AND c.time <= ?"
            args.append(end)
        if set_spec:
            sql += (
                " AND EXISTS (SELECT 1 FROM change_sets s WHERE s.seq = c.seq "
                "AND (s.spec = ? OR (s.spec > ? AND s.spec < ?)))"
            )
            args.extend((set_spec, set_spec + ":", set_spec + ";"))
        return sql, tuple(args)

    def _with_sets(self, change: Change) -> Change:
        specs = tuple(
            s
            for (s,) in self.db.execute(
                "SELECT spec FROM change_sets WHERE seq = ? ORDER BY spec", (change.seq,)
            )
        )
        return replace(change, sets=specs)


def _resource(row: tuple[object, ...]) -> Resource:
    uri, kind, seq, created, modified, deleted, digest, length, title, sets, reason = row
    return Resource(
        str(uri),
        str(kind),
        int(seq),  # type: ignore[call-overload]
        str(created),
        str(modified),
        None if deleted is None else str(deleted),
        str(digest),
        int(length),  # type: ignore[call-overload]
        str(title),
        tuple(json.loads(str(sets))),
        str(reason or ""),
    )


def open_log(folder: Path) -> ChangeLog | None:
    """The log of a published folder, read-only, or None for an output built before it."""
    path = folder / LOG_FILE
    return ChangeLog(path, readonly=True) if path.exists() else None


__all__ = [
    "CREATED",
    "DELETED",
    "LOG_FILE",
    "UPDATED",
    "Change",
    "ChangeLog",
    "Counts",
    "Resource",
    "State",
    "content_hash",
    "open_log",
    "stamp",
]


def publish_log(path: Path) -> None:
    """Stamp a build's log as published now (ChangeLog.publish); nothing if it has none."""
    if path.exists():
        with ChangeLog(path) as log:
            log.publish()
