"""What a build remembers for the next one (`.lod-state.sqlite`, hidden from the site).

An incremental build must know, without reading or mapping unchanged sources again: which
source files gave which records (and their stat, to skip unchanged files), each record's source
hash, the entity data each record contributed (to merge the entities it touches again), what
goes on the index page and the sitemap, and where each resource's bytes sit in the three dumps
(to splice them). `fingerprint` covers everything else that shapes the output (settings,
vocabularies, lod's own code): when it differs, the next build is a full one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lod.authorities import Entity

STATE_FILE = ".lod-state.sqlite"
RECORDS, ENTITIES = 0, 1
"""Sections of the dumps: records in source order, then entities in URI order."""

SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files(
    label TEXT PRIMARY KEY, rank INTEGER NOT NULL, size INTEGER NOT NULL,
    mtime INTEGER NOT NULL, notes TEXT NOT NULL);
CREATE TABLE records(
    uri TEXT PRIMARY KEY, file TEXT NOT NULL, row INTEGER NOT NULL, id TEXT NOT NULL,
    kind TEXT NOT NULL, title TEXT NOT NULL, date TEXT NOT NULL, lastmod TEXT NOT NULL, source_hash TEXT NOT NULL,
    sets TEXT NOT NULL, line INTEGER);
CREATE INDEX records_by_file ON records(file, row);
CREATE TABLE contribs(record TEXT NOT NULL, entity TEXT NOT NULL, position INTEGER NOT NULL,
    data TEXT NOT NULL);
CREATE INDEX contribs_by_record ON contribs(record);
CREATE INDEX contribs_by_entity ON contribs(entity);
CREATE TABLE violations(uri TEXT NOT NULL, position INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX violations_by_uri ON violations(uri);
CREATE TABLE parts(
    uri TEXT PRIMARY KEY, section INTEGER NOT NULL, kind TEXT NOT NULL, docid INTEGER NOT NULL,
    gz_off INTEGER NOT NULL, gz_len INTEGER NOT NULL, ttl_off INTEGER NOT NULL,
    ttl_len INTEGER NOT NULL, js_off INTEGER NOT NULL, js_len INTEGER NOT NULL,
    nq_off INTEGER NOT NULL, nq_len INTEGER NOT NULL);
"""


@dataclass(slots=True)
class Part:
    """Where one resource's bytes sit in the dumps, and its row in the keyword index."""

    uri: str
    section: int
    kind: str
    docid: int
    gz: tuple[int, int]
    ttl: tuple[int, int]
    js: tuple[int, int]
    nq: tuple[int, int]


@dataclass(slots=True)
class RecordRow:
    uri: str
    file: str
    row: int
    id: str
    kind: str
    title: str
    date: str
    lastmod: str
    source_hash: str
    sets: dict[str, str]
    line: int | None = None
    """The line the record starts at in its file, as its provenance states it."""


@dataclass(slots=True)
class FileRow:
    label: str
    rank: int
    size: int
    mtime: int
    notes: list[dict[str, Any]]
    """The file's report entries (rejected records, duplicates, a skip notice), replayed by a
    build that does not read the file again."""


def entity_json(entity: Entity) -> str:
    return json.dumps(
        [
            entity.uri,
            entity.kind,
            list(entity.types),
            entity.label,
            sorted(entity.variants),
            list(entity.same_as),
            [list(x) for x in entity.links],
            [list(x) for x in entity.literals],
        ],
        ensure_ascii=False,
    )


def entity_from_json(data: str) -> Entity:
    uri, kind, types, label, variants, same_as, links, literals = json.loads(data)
    return Entity(
        uri,
        kind,
        tuple(types),
        label,
        set(variants),
        tuple(same_as),
        [(a, b) for a, b in links],
        [(a, b) for a, b in literals],
    )


class BuildState:
    """The state file of one output; a full build writes it afresh, an incremental one edits a
    copy of it."""

    def __init__(self, path: Path, *, fresh: bool = False) -> None:
        self.path = path
        self.db = sqlite3.connect(path)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -65536"):
            self.db.execute(f"PRAGMA {pragma}")
        if fresh:
            self.db.executescript(SCHEMA)
        self.db.execute("BEGIN")

    def commit(self) -> None:
        self.db.execute("COMMIT")
        self.db.close()

    def abort(self) -> None:
        self.db.close()

    # --- meta ---------------------------------------------------------------------------

    def get(self, key: str) -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else ""

    def put(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # --- files and records ----------------------------------------------------------------

    def files(self) -> dict[str, FileRow]:
        rows = self.db.execute("SELECT label, rank, size, mtime, notes FROM files")
        return {r[0]: FileRow(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows}

    def put_file(self, row: FileRow) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
            (row.label, row.rank, row.size, row.mtime, json.dumps(row.notes, ensure_ascii=False)),
        )

    def drop_file(self, label: str) -> None:
        self.db.execute("DELETE FROM files WHERE label = ?", (label,))

    def put_record(self, row: RecordRow, entities: Iterable[Entity]) -> int:
        """Store a record's row and its entity contributions; returns the row's number, by
        which `links` finds it again."""
        cursor = self.db.execute(
            "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.uri,
                row.file,
                row.row,
                row.id,
                row.kind,
                row.title,
                row.date,
                row.lastmod,
                row.source_hash,
                json.dumps(row.sets, ensure_ascii=False),
                row.line,
            ),
        )
        self.db.execute("DELETE FROM contribs WHERE record = ?", (row.uri,))
        self.db.executemany(
            "INSERT INTO contribs VALUES (?, ?, ?, ?)",
            [(row.uri, e.uri, n, entity_json(e)) for n, e in enumerate(entities)],
        )
        return int(cursor.lastrowid or 0)

    def links(self, numbers: Iterable[int]) -> list[tuple[str, str]]:
        """(URI, title or else ID) of the records `put_record` numbered so, in that order."""
        wanted = list(numbers)
        found: dict[int, tuple[str, str]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self.db.execute(
                f"SELECT r.rowid, r.uri, {_LINK_TEXT} FROM records r "
                f"WHERE r.rowid IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            found.update((number, (uri, text)) for number, uri, text in rows)
        return [found[n] for n in wanted if n in found]

    def is_record(self, uri: str) -> bool:
        return self.db.execute("SELECT 1 FROM records WHERE uri = ?", (uri,)).fetchone() is not None

    def move_record(self, uri: str, file: str, row: int, line: int | None) -> None:
        self.db.execute(
            "UPDATE records SET file = ?, row = ?, line = ? WHERE uri = ?", (file, row, line, uri)
        )

    def drop_record(self, uri: str) -> None:
        self.db.execute("DELETE FROM records WHERE uri = ?", (uri,))
        self.db.execute("DELETE FROM contribs WHERE record = ?", (uri,))
        self.db.execute("DELETE FROM violations WHERE uri = ?", (uri,))

    def records_of(self, file: str) -> list[RecordRow]:
        rows = self.db.execute(
            "SELECT uri, file, row, id, kind, title, date, lastmod, source_hash, sets, line "
            "FROM records "
            "WHERE file = ? ORDER BY row",
            (file,),
        )
        return [_record_row(r) for r in rows]

    def ordered_uris(self) -> list[str]:
        """Every record's URI in source order."""
        return [uri for (uri,) in self.db.execute(_ORDERED.format(columns="r.uri"))]

    def record_count(self) -> int:
        """How many rows index_rows gives."""
        return int(self.db.execute(_ORDERED.format(columns="count(*)")).fetchone()[0])

    def index_rows(self) -> Iterator[tuple[str, str, str, str]]:
        """(URI, ID, title, date) of every record in source order, for the index page."""
        yield from self.db.execute(_ORDERED.format(columns="r.uri, r.id, r.title, r.date"))

    def entity_uris_of(self, record: str) -> set[str]:
        rows = self.db.execute("SELECT entity FROM contribs WHERE record = ?", (record,))
        return {uri for (uri,) in rows}

    def contributions(self, entity: str) -> Iterator[tuple[str, str, str]]:
        """(record URI, record title or ID, contributed entity JSON) in source order."""
        yield from self.db.execute(
            f"SELECT r.uri, {_LINK_TEXT}, c.data FROM contribs c JOIN records r ON r.uri = c.record "
            "JOIN files f ON f.label = r.file WHERE c.entity = ? "
            "ORDER BY f.rank, r.row, c.position",
            (entity,),
        )

    def entity_uris(self) -> set[str]:
        return {uri for (uri,) in self.db.execute("SELECT DISTINCT entity FROM contribs")}

    # --- SHACL results ----------------------------------------------------------------------

    def put_violations(self, uri: str, rows: Iterable[dict[str, str]]) -> None:
        """A resource's validation results (replacing those of its last version)."""
        self.db.execute("DELETE FROM violations WHERE uri = ?", (uri,))
        self.db.executemany(
            "INSERT INTO violations VALUES (?, ?, ?)",
            [(uri, n, json.dumps(row, ensure_ascii=False)) for n, row in enumerate(rows)],
        )

    def drop_violations(self, uri: str) -> None:
        self.db.execute("DELETE FROM violations WHERE uri = ?", (uri,))

    def violations(self) -> Iterator[tuple[str, str, str, int | None, dict[str, str]]]:
        """(URI, record ID, file, line, result) of every result: records in source order, then
        entities by URI (ID, file and line empty)."""
        rows = self.db.execute(
            "SELECT v.uri, r.id, r.file, r.line, v.data FROM violations v "
            "JOIN records r ON r.uri = v.uri JOIN files f ON f.label = r.file "
            "ORDER BY f.rank, r.row, v.position"
        )
        for uri, record_id, file, line, data in rows:
            yield uri, record_id, file, line, json.loads(data)
        rows = self.db.execute(
            "SELECT uri, data FROM violations WHERE uri NOT IN (SELECT uri FROM records) "
            "ORDER BY uri, position"
        )
        for uri, data in rows:
            yield uri, "", "", None, json.loads(data)

    # --- parts ------------------------------------------------------------------------------

    def parts(self) -> dict[str, Part]:
        rows = self.db.execute("SELECT * FROM parts")
        return {
            r[0]: Part(
                r[0], r[1], r[2], r[3], (r[4], r[5]), (r[6], r[7]), (r[8], r[9]), (r[10], r[11])
            )
            for r in rows
        }

    def replace_parts(self, parts: Iterable[Part]) -> None:
        self.db.execute("DELETE FROM parts")
        self.put_parts(parts)

    def put_parts(self, parts: Iterable[Part]) -> None:
        self.db.executemany(
            "INSERT INTO parts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(p.uri, p.section, p.kind, p.docid, *p.gz, *p.ttl, *p.js, *p.nq) for p in parts],
        )

    def has_part(self, uri: str) -> bool:
        return self.db.execute("SELECT 1 FROM parts WHERE uri = ?", (uri,)).fetchone() is not None


_LINK_TEXT = "CASE WHEN r.title != '' THEN r.title ELSE r.id END"
"""A backlink's text: the record's title, or else its ID (full and incremental builds alike)."""
_ORDERED = "SELECT {columns} FROM records r JOIN files f ON f.label = r.file ORDER BY f.rank, r.row"


def _record_row(r: tuple[Any, ...]) -> RecordRow:
    return RecordRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], json.loads(r[9]), r[10])


__all__ = [
    "ENTITIES",
    "RECORDS",
    "STATE_FILE",
    "BuildState",
    "FileRow",
    "Part",
    "RecordRow",
    "entity_from_json",
    "entity_json",
]
