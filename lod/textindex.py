"""The keyword index: SQLite FTS5 over titles, summaries, full texts and entity labels.

`lod build` writes one index file (`INDEX_FILE`) into the site with `TextIndexWriter`; the
server opens it read-only with `TextIndex` and answers keyword searches from it.

Choices, and why:

- One FTS5 table, columns `uri` (stored, not indexed), `title`, `summary`, `labels`, `text`.
  Ranking is bm25 with the column weights in `WEIGHTS`: a word in the title counts more than in
  the summary, the labels of linked people, places and subjects, then the full text.
- Tokenizer `unicode61 remove_diacritics 2`: case folding and accent folding for every script
  (Russian, German, French words and transliterated names), so "Molotov" finds "MOLOTOV" and
  "cafe" finds "café". No Porter stemming: it is English-only and breaks truncation, the search
  librarians use most (with it, `negotiat*` finds nothing, as "negotiations" is indexed under
  the stem "negoti"); exact words plus `word*` are predictable in every language.
- The kind of a resource (record, agent, place, ...) is encoded in its rowid (`kind index <<
  KIND_SHIFT | sequence`), so a kind filter is a rowid range that FTS5 applies inside the index,
  without reading any stored row.
- Users never write FTS5 syntax: `fts_query` quotes every word, so operators, brackets, colons
  and stray quotes are plain text, and input without a word matches nothing.
- Every match is scored (bm25 has no early exit): about 1.5 µs per matching row on the
  benchmark machine, so a word found in 100,000 records costs ~150 ms, a rarer one a few ms.
  Only rowids and scores are sorted; URIs, titles and snippets are read for the page alone.
- Snippets mark the matched words with `MARK_START` and `MARK_END` (the control characters
  STX and ETX, removed from all indexed text so they cannot come from the data); the caller
  HTML-escapes the snippet and then replaces the two markers with its own tags.

The file is reproducible: rows go in the order the build adds them, nothing in it depends on
the clock, the page size is fixed and `close()` merges the index into one segment, so the same
input gives the same bytes (with the same SQLite version).
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lod.errors import PublishError
from lod.uris import ENTITY_KINDS

INDEX_FILE = "search.sqlite"
FORMAT_VERSION = "1"
MARK_START = "\x02"
"""Opens a matched word in `Hit.snippet`; never occurs in indexed text."""
MARK_END = "\x03"
"""Closes a matched word in `Hit.snippet`."""
ELLIPSIS = "…"
SNIPPET_TOKENS = 16
KINDS = ENTITY_KINDS
KIND_SHIFT = 40
WEIGHTS = {"uri": 0.0, "title": 20.0, "summary": 5.0, "labels": 3.0, "text": 1.0}
"""bm25 weight of each column, in table order. FTS5's bm25 normalizes by the length of the
whole row, so a long record tends to lose to a short one that has the word only in its text;
the title's high weight keeps title matches ahead in all but extreme cases."""
MAX_TERMS = 32
"""Words and phrases kept of one query; a pasted page of text is cut, not refused."""
MAX_LIMIT = 10_000
BATCH = 512
FTS5_OPTIONS = {"hashsize": 64 * 2**20, "automerge": 0}
"""Build settings: buffer 64 MB of postings in memory before writing a segment (FTS5's
`hashsize`, default 1 MB; long supported but undocumented), and merge segments once at the end
(`optimize`) instead of while adding. Together twice as fast as the defaults."""
MMAP_BYTES = 2**30

_SCHEMA = (
    "CREATE TABLE info(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE VIRTUAL TABLE docs USING fts5("
    "uri UNINDEXED, title, summary, labels, text, "
    "tokenize = 'unicode61 remove_diacritics 2')",
)
_BM25 = f"bm25(docs, {', '.join(str(w) for w in WEIGHTS.values())})"
_PHRASE = re.compile(r'"([^"]*)"(\*?)')
_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
_NOT_MARKS = str.maketrans({MARK_START: " ", MARK_END: " "})


@dataclass(frozen=True, slots=True)
class Hit:
    """One resource that matched. `score`: higher is better (bm25, sign flipped). `snippet`:
    plain text with the matched words between MARK_START and MARK_END; escape it before use."""

    uri: str
    kind: str
    title: str
    snippet: str
    score: float


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    total: int
    hits: list[Hit]


class TextIndexWriter:
    """Builds the index file at `path` (which must not exist yet); `close()` finishes it,
    `abort()` removes it."""

    def __init__(self, path: Path, *, update: bool = False) -> None:
        """`update`: edit an existing index file (a copy of the last build's, made by an
        incremental build) instead of creating one."""
        self.path = path
        self._update = update
        if path.exists() and not update:
            raise PublishError(f"{path} already exists; the keyword index is written afresh")
        self._rows: list[tuple[int, str, str, str, str, str]] = []
        self._next = [0] * len(KINDS)
        try:
            self._db = sqlite3.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise PublishError(f"cannot create the keyword index {path}: {exc}") from exc
        if update:
            self._resume()
            return
        try:
            for pragma in (
                "page_size = 4096",
                "journal_mode = OFF",  # the build discards the whole folder if it fails
                "synchronous = OFF",
                "locking_mode = EXCLUSIVE",
                "cache_size = -65536",
            ):
                self._db.execute(f"PRAGMA {pragma}")
            for statement in _SCHEMA:
                self._db.execute(statement)
            for option, value in FTS5_OPTIONS.items():
                with suppress(sqlite3.OperationalError):  # for speed only: do without it
                    self._db.execute("INSERT INTO docs(docs, rank) VALUES (?, ?)", (option, value))
            self._db.execute(
                "INSERT INTO info VALUES ('format', ?), ('kinds', ?)",
                (FORMAT_VERSION, " ".join(KINDS)),
            )
            self._db.execute("BEGIN")
        except sqlite3.Error as exc:
            self.abort()
            raise PublishError(f"cannot create the keyword index {path}: {exc}") from exc

    def add(
        self,
        uri: str,
        kind: str,
        title: str,
        *,
        summary: str = "",
        text: str = "",
        labels: Iterable[str] = (),
    ) -> int:
        """Index one resource; `kind` is one of KINDS. Resources are numbered in the order they
        are added, which keeps the file reproducible. Returns the row's id, which an
        incremental build needs to replace or remove the row."""
        number = KINDS.index(kind)  # ValueError on a kind the index does not know
        rowid = (number << KIND_SHIFT) | self._next[number]
        self._next[number] += 1
        self._rows.append(
            (rowid, uri, _clean(title), _clean(summary), _clean("; ".join(labels)), _clean(text))
        )
        if len(self._rows) >= BATCH:
            self._flush()
        return rowid

    def _resume(self) -> None:
        try:
            self._db.execute("PRAGMA journal_mode = OFF")
            self._db.execute("PRAGMA synchronous = OFF")
            for number in range(len(KINDS)):
                low, high = number << KIND_SHIFT, (number + 1) << KIND_SHIFT
                top = self._db.execute(
                    "SELECT max(rowid) FROM docs WHERE rowid >= ? AND rowid < ?", (low, high)
                ).fetchone()[0]
                self._next[number] = 0 if top is None else (top - low) + 1
            self._db.execute("BEGIN")
        except sqlite3.Error as exc:
            self.abort()
            raise PublishError(f"cannot update the keyword index {self.path}: {exc}") from exc

    def remove(self, rowids: Iterable[int]) -> None:
        """Drop rows (resources that changed or went away) from an index being updated."""
        try:
            self._db.executemany("DELETE FROM docs WHERE rowid = ?", [(r,) for r in rowids])
        except sqlite3.Error as exc:
            raise PublishError(f"cannot update the keyword index {self.path}: {exc}") from exc

    def _flush(self) -> None:
        try:
            self._db.executemany(
                "INSERT INTO docs(rowid, uri, title, summary, labels, text) VALUES (?,?,?,?,?,?)",
                self._rows,
            )
        except sqlite3.Error as exc:
            raise PublishError(f"cannot write the keyword index {self.path}: {exc}") from exc
        self._rows.clear()

    def close(self) -> None:
        """Write what is buffered and merge the index into one segment (fastest to query).
        No VACUUM: it would take a fifth of the indexing time to save about 1% of the file,
        and the file is reproducible without it (pages are allocated in the same order)."""
        try:
            self._flush()
            if not self._update:  # a few changed rows need no merge of the whole index
                self._db.execute("INSERT INTO docs(docs) VALUES ('optimize')")
            self._db.execute("COMMIT")
            self._db.close()
        except sqlite3.Error as exc:
            self.abort()
            raise PublishError(f"cannot finish the keyword index {self.path}: {exc}") from exc

    def abort(self) -> None:
        """Give up: close the connection and remove the unfinished file."""
        self._db.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> TextIndexWriter:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


class TextIndex:
    """Searches an index file read-only. Safe to share between threads: each thread gets its
    own SQLite connection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise PublishError(
                f"no keyword index at {path}; build the site with `lod build` to create it"
            )
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        info = dict(self._read("SELECT key, value FROM info", ()))
        if info.get("format") != FORMAT_VERSION:
            raise PublishError(
                f"{path} is a keyword index of another lod version; rebuild the site"
            )
        self.kinds = tuple(str(info["kinds"]).split())
        """The kinds of resource in this index, in rowid order."""

    def search(
        self, q: str, *, kind: str | None = None, limit: int = 20, offset: int = 0
    ) -> SearchResult:
        """The best `limit` matches for the words in `q` after `offset`, and how many there are
        in all. Never fails on what a user typed: text without a word, or a `kind` not in
        `self.kinds`, gives no hits."""
        match = fts_query(q)
        if not match or (kind is not None and kind not in self.kinds):
            return SearchResult(q, 0, [])
        where, args = self._where(match, kind)
        total = self._read(f"SELECT count(*) FROM docs WHERE {where}", args)[0][0]
        limit, offset = min(limit, MAX_LIMIT), max(0, offset)
        if limit <= 0 or offset >= total:
            return SearchResult(q, total, [])
        # Rank rowids only, then read titles and snippets of the page: in one query SQLite
        # would build every matching row's snippet before sorting.
        top = self._read(
            f"SELECT rowid, {_BM25} AS score FROM docs WHERE {where} "
            "ORDER BY score LIMIT ? OFFSET ?",
            (*args, limit, offset),
        )
        rowids = [rowid for rowid, _score in top]
        # The rowid range goes to FTS5, which then evaluates the query once; `+rowid IN` is
        # checked by SQLite on the few rows in range (an IN handed to FTS5 would re-run the
        # query per rowid, slow for prefixes).
        rows = self._read(
            "SELECT rowid, uri, title, snippet(docs, -1, ?, ?, ?, ?) FROM docs "
            "WHERE docs MATCH ? AND rowid BETWEEN ? AND ? "
            f"AND +rowid IN ({', '.join('?' * len(rowids))})",
            (MARK_START, MARK_END, ELLIPSIS, SNIPPET_TOKENS, match, min(rowids), max(rowids))
            + tuple(rowids),
        )
        found = {row[0]: row[1:] for row in rows}
        hits = []
        for rowid, score in top:
            uri, title, snippet = found[rowid]
            hits.append(Hit(uri, self.kinds[rowid >> KIND_SHIFT], title, snippet, -score))
        return SearchResult(q, total, hits)

    def uris(self, q: str, limit: int) -> list[tuple[str, float]]:
        """(uri, score) of the best `limit` matches, best first; for joining with SPARQL."""
        match = fts_query(q)
        if not match or limit <= 0:
            return []
        top = self._read(
            f"SELECT rowid, {_BM25} AS score FROM docs WHERE docs MATCH ? ORDER BY score LIMIT ?",
            (match, min(limit, MAX_LIMIT)),
        )
        if not top:
            return []
        # URIs of the winners only: sorting URIs along would read every match's stored row.
        rowids = tuple(rowid for rowid, _score in top)
        uris = dict(
            self._read(
                f"SELECT rowid, uri FROM docs WHERE rowid IN ({', '.join('?' * len(rowids))})",
                rowids,
            )
        )
        return [(uris[rowid], -score) for rowid, score in top]

    def _where(self, match: str, kind: str | None) -> tuple[str, tuple[object, ...]]:
        if kind is None:
            return "docs MATCH ?", (match,)
        low = self.kinds.index(kind) << KIND_SHIFT
        return "docs MATCH ? AND rowid BETWEEN ? AND ?", (match, low, low + (1 << KIND_SHIFT) - 1)

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()

    def _read(self, sql: str, args: tuple[object, ...]) -> list[Any]:
        try:
            return self._connection().execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                raise self._corrupt(exc) from exc
            raise
        except sqlite3.DatabaseError as exc:  # not a database, malformed image
            raise self._corrupt(exc) from exc

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            uri = f"file:{quote(os.fspath(self.path.resolve()))}?mode=ro"
            try:
                connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
                connection.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
            except sqlite3.Error as exc:
                raise self._corrupt(exc) from exc
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def _corrupt(self, exc: sqlite3.Error) -> PublishError:
        return PublishError(
            f"the keyword index {self.path} cannot be read ({exc}); rebuild the site"
        )


def fts_query(text: str) -> str:
    """Free text -> an FTS5 query that cannot be a syntax error: every word or "quoted phrase"
    becomes an FTS5 string (quotes doubled), a trailing `*` makes it a prefix, and all of them
    must match (AND). Pieces without a letter or digit are dropped, so punctuation-only input
    gives ''. An unbalanced quote is ignored."""
    terms: list[str] = []
    position = 0
    # Lone surrogates (from a lenient decoder upstream) cannot be encoded for SQLite, and FTS5
    # ends a query string at a NUL; control characters separate words in the index anyway.
    text = _CONTROLS.sub(" ", text.encode("utf-8", "replace").decode("utf-8"))
    text = unicodedata.normalize("NFC", text)
    for match in _PHRASE.finditer(text):
        terms.extend(_words(text[position : match.start()]))
        terms.extend(_term(match[1], bool(match[2])))
        position = match.end()
    terms.extend(_words(text[position:]))
    return " AND ".join(terms[:MAX_TERMS])


def _words(text: str) -> list[str]:
    out: list[str] = []
    for piece in text.replace('"', " ").split():
        out.extend(_term(piece.rstrip("*"), piece.endswith("*")))
    return out


def _term(piece: str, prefix: bool) -> list[str]:
    # unicode61 makes tokens of letters, numbers and private-use characters (its default
    # "categories" option); a string without any would be an empty phrase, which matches nothing.
    if not any(
        unicodedata.category(c)[0] in "LN" or unicodedata.category(c) == "Co" for c in piece
    ):
        return []
    quoted = '"' + piece.replace('"', '""') + '"'
    return [quoted + " *" if prefix else quoted]


def _clean(text: str) -> str:
    if MARK_START in text or MARK_END in text:
        text = text.translate(_NOT_MARKS)
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


__all__ = [
    "INDEX_FILE",
    "KINDS",
    "MARK_END",
    "MARK_START",
    "Hit",
    "SearchResult",
    "TextIndex",
    "TextIndexWriter",
    "fts_query",
]
