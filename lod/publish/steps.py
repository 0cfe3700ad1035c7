"""Steps both kinds of build share: reporting items, deduplicating records, backlinks.

A full build (lod.publish.site) and an incremental one (lod.publish.incremental) must report,
order and link exactly alike, so that an incremental build's output is the full build's.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from lod.authorities import Entity
from lod.changelog import LOG_FILE, ChangeLog, State
from lod.errors import Cleaned, SourceError
from lod.model import Record
from lod.publish.dumps import Ranges
from lod.publish.finish import BuildReport
from lod.publish.state import RecordRow
from lod.publish.writer import RecordDone, Written
from lod.sources.units import Unchanged
from lod.textindex import TextIndexWriter
from lod.uris import Minter

MAX_BACKLINKS = 500


def backlink(minter: Minter, entity_uri: str, record_uri: str, text: str) -> dict[str, str]:
    """The link an entity page shows to a record that refers to it."""
    depth = minter.path(entity_uri).count("/") + 1
    return {"href": "../" * depth + "doc/" + minter.path(record_uri) + ".html", "text": text}


def report_skip(
    report: BuildReport, entry: dict[str, str], on_problem: Callable[[str], None]
) -> None:
    report.skipped.append(entry)
    on_problem(f"notice: {entry['file']}: skipped, {entry['reason']}")


COUNTERS = {"rejected": "rejected", "duplicate": "duplicates", "cleaned": "cleaned"}
"""Report entry kind -> the BuildReport count it adds to. A cleaned record is also published,
and counted as attempted then; rejected and duplicate ones are attempted here."""


def report_error(
    report: BuildReport, error: SourceError, on_problem: Callable[[str], None]
) -> dict[str, Any]:
    """Count a rejected, duplicate or cleaned record and return its report entry."""
    kind = (
        "duplicate"
        if isinstance(error, DuplicateError)
        else "cleaned"
        if isinstance(error, Cleaned)
        else "rejected"
    )
    entry = {**error.as_dict(), "kind": kind}
    _count(report, entry)
    on_problem(f"{'notice' if kind == 'cleaned' else 'error'}: {error}")
    return entry


def replay(
    report: BuildReport, notes: list[dict[str, Any]], on_problem: Callable[[str], None]
) -> None:
    """Report again what an unread, unchanged file gave last time (rejected records, skips)."""
    for note in notes:
        if "skipped" in note:
            report_skip(report, note["skipped"], on_problem)
            continue
        entry = note["error"]
        _count(report, entry)
        notice = "notice" if entry.get("kind") == "cleaned" else "error"
        on_problem(f"{notice}: {SourceError.from_dict(entry)}")


def _count(report: BuildReport, entry: dict[str, Any]) -> None:
    counter = COUNTERS[entry.get("kind", "rejected")]
    setattr(report, counter, getattr(report, counter) + 1)
    if counter != "cleaned":
        report.attempted += 1
    report.errors.append(entry)


def supersedes(error: SourceError, previous: object) -> bool:
    """Whether `error`, a record's rejection, replaces the repair notice read just before it:
    a Cleaned notice says the record was published with a repaired value, which a record that
    was then rejected was not. The rejection is its one report row."""
    return (
        isinstance(previous, Cleaned)
        and not isinstance(error, Cleaned)
        and previous.record_id == error.record_id
        and previous.file == error.file
    )


def published_notices(results: Iterable[object]) -> Iterator[object]:
    """The workers' results with each repair notice held until its record's result: dropped
    when that is a rejection (`supersedes`), passed on otherwise."""
    held: Cleaned | None = None
    for item in results:
        if held is not None and not (isinstance(item, SourceError) and supersedes(item, held)):
            yield held
        held = None
        if isinstance(item, Cleaned):
            held = item
            continue
        yield item
    if held is not None:
        yield held


def record_row(done: RecordDone, row: int) -> RecordRow:
    return RecordRow(
        done.uri,
        done.file,
        row,
        done.id,
        done.record_kind,
        done.title,
        done.date,
        done.lastmod,
        done.source_hash,
        done.sets,
        done.line,
    )


def spans(ranges: Ranges) -> tuple[tuple[int, int], ...]:
    return ranges.gz, ranges.ttl, ranges.js, ranges.nq


def carry_log(previous: Path, root: Path) -> ChangeLog:
    """The log goes on from the last build's, whatever this build rebuilds."""
    old = previous / LOG_FILE
    if old.is_file():
        shutil.copyfile(old, root / LOG_FILE)
    return ChangeLog(root / LOG_FILE)


def record_state(done: RecordDone) -> State:
    """A published record as the change log sees it."""
    written = done.written
    return State(done.uri, "record", written.digest, written.length, done.title, tuple(done.sets))


def entity_state(minter: Minter, entity: Entity, written: Written) -> State:
    return State(
        entity.uri, kind_of(minter, entity.uri), written.digest, written.length, entity.label
    )


def index_record(index: TextIndexWriter, minter: Minter, done: RecordDone) -> int:
    """Add a record to the keyword index: title, summary, full text, linked names."""
    return index.add(
        done.uri,
        kind_of(minter, done.uri),
        done.title,
        summary=done.summary,
        text=done.text,
        labels=done.labels,
    )


def index_entity(index: TextIndexWriter, minter: Minter, entity: Entity) -> int:
    """Add an entity to the keyword index: its label and its variants."""
    return index.add(
        entity.uri,
        kind_of(minter, entity.uri),
        entity.label,
        labels=sorted(entity.variants - {entity.label}),
    )


def kind_of(minter: Minter, uri: str) -> str:
    """'record', 'agent', ... : the first segment of the URI path (record sets live under
    their archive, so they are found as 'archive')."""
    return minter.path(uri).split("/", 1)[0]


class DuplicateError(SourceError):
    """A record whose ID an earlier record already has; the later copy is not published."""


class SeenIds:
    """The (kind, ID) of every record read so far and where it was first read, in a private
    temporary SQLite database: SQLite keeps a few megabytes of it in memory and the rest on
    disk, where a dictionary of a million IDs would hold hundreds of megabytes."""

    def __init__(self) -> None:
        self._db = sqlite3.connect("")
        self._db.execute(
            "CREATE TABLE seen(kind TEXT, id TEXT, at TEXT NOT NULL, PRIMARY KEY (kind, id)) "
            "WITHOUT ROWID"
        )

    def first(self, key: tuple[str, str], where: str) -> str | None:
        """Where `key` was first seen, or None (and `where` is remembered) if it is new."""
        row = self._db.execute("SELECT at FROM seen WHERE kind = ? AND id = ?", key).fetchone()
        if row is not None:
            return str(row[0])
        self._db.execute("INSERT INTO seen VALUES (?, ?, ?)", (*key, where))
        return None


def deduplicated(
    items: Iterable[object], unit_keys: dict[str, tuple[str, str]] | None = None
) -> Iterator[object]:
    """Turn repeated (kind, ID) pairs into DuplicateErrors before any worker writes files.
    `unit_keys` gives the (kind, ID) of rows an incremental build did not parse again. A
    record's Cleaned notice (read just before it) is dropped with a duplicate copy: the record
    gets one row, the duplicate one."""
    seen = SeenIds()
    held: Cleaned | None = None
    for item in items:
        if isinstance(item, Cleaned):
            held = item
            continue
        if isinstance(item, Unchanged) and unit_keys is not None:
            seen.first(unit_keys[item.unit], item.file)
        elif isinstance(item, Record):
            where = f"{item.origin.file}{f':{item.origin.line}' if item.origin.line else ''}"
            first = seen.first((item.kind, item.id), where)
            if first is not None:
                held = None
                yield DuplicateError(
                    f"duplicate record ID {item.id!r}, first read from {first}",
                    file=item.origin.file,
                    line=item.origins.get("id", item.origin).line,
                    field="id",
                    value=item.id,
                    hint="give each record its own ID; this copy was not published",
                    record_id=item.id,
                )
                continue
        if held is not None:
            yield held
            held = None
        yield item
    if held is not None:
        yield held
