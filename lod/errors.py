"""The one tree every lod error comes from, so callers can catch lod's failures and nothing else.

LodError
├── ConfigError          a setting or lod.toml is wrong
├── SourceError          a record cannot be read (file, line, field, value, hint)
│   ├── UnsafeXMLError   DTDs/entities refused before any expansion
│   ├── TooLargeError    input past lod's limits on size, nesting or triples
│   ├── MappingError     a value read fine but cannot become RDF (e.g. an impossible date)
│   └── Cleaned          not a failure: a record published after lod repaired a value
├── PublishError         the output cannot be written
│   ├── BuildRunning     another build holds the output folder
│   └── DiskFullError    the disk holding the output ran out of space during a build
├── HarvestError         a harvest cannot go on (server unreachable, errors, unparsable answers)
├── OAIError             an OAI-PMH request the protocol answers with an error code
├── StoreError           an external SPARQL store cannot be reached or refuses a request
└── QueryError           a SPARQL query is refused or fails (the server maps each to a status)
    ├── QuerySyntaxError     the query does not parse
    ├── QueryRefused         an update, a federated SERVICE call, or a graph outside the dataset
    ├── QueryTimeout         the query ran past the time limit and was stopped
    └── QueryUnavailable     the external store behind the endpoint cannot answer now
"""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping


class LodError(Exception):
    """Base of every error lod raises on purpose."""


class ConfigError(LodError):
    """A setting is missing or invalid."""


class PublishError(LodError):
    """The output folder cannot be written or swapped in."""


class BuildRunning(PublishError):
    """Another lod build holds the output folder (its lock); nothing was written."""


class DiskFullError(PublishError):
    """The file system holding the output ran out of space (or quota) during a build; the build
    was abandoned and the last publication is unchanged."""


FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
SQLITE_FULL = 13
"""SQLite's result code for "database or disk is full" (sqlite3.Error.sqlite_errorcode)."""


def out_of_space(exc: BaseException) -> bool:
    """Whether `exc`, or an exception it was raised from, says a disk is full: an OSError with
    ENOSPC or EDQUOT, SQLite's SQLITE_FULL, or pyoxigraph's (RocksDB's) I/O error, an OSError
    without errno that carries the system's text for ENOSPC."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and (
            current.errno in FULL_ERRNOS
            or (current.errno is None and os.strerror(errno.ENOSPC) in str(current))
        ):
            return True
        if getattr(current, "sqlite_errorcode", None) == SQLITE_FULL:
            return True
        current = current.__cause__ or current.__context__
    return False


class HarvestError(LodError):
    """A harvest cannot go on; the message names the URL. `code` is the OAI-PMH error code when
    the provider answered with one (section 3.6), else empty."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class StoreError(LodError):
    """An external SPARQL store (`lod push`, `lod serve --store`) cannot be reached, refuses a
    request or answers something unreadable; the message names the URL and what to check."""


class OAIError(LodError):
    """An OAI-PMH request the protocol answers with an error element (section 3.6): `code` is
    the protocol's (badArgument, idDoesNotExist, ...); the message is safe to show."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class QueryError(LodError):
    """A SPARQL query cannot be answered; the message is safe to show to the client."""


class QuerySyntaxError(QueryError):
    """The query text does not parse; the message carries the parser's position."""


class QueryRefused(QueryError):
    """The query is valid but not allowed on a public, read-only endpoint."""


class QueryTimeout(QueryError):
    """The query ran past the time limit and its process was stopped."""

    @classmethod
    def after(cls, limit: float) -> QueryTimeout:
        return cls(
            f"the query ran longer than the time limit of {limit:g} s and was stopped; "
            "narrow it (LIMIT, more specific patterns) and try again"
        )


class QueryUnavailable(QueryError):
    """The external store (`lod serve --store`) cannot be reached or failed; worth a retry."""


class SourceError(LodError):
    """A record (or a whole file) cannot be read; says where and what to do."""

    def __init__(
        self,
        message: str,
        *,
        file: str = "",
        line: int | None = None,
        field: str = "",
        value: str = "",
        hint: str = "",
        record_id: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        self.value = value
        self.hint = hint
        self.record_id = record_id

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle with the keyword fields, so errors cross from build worker processes intact."""
        return (_rebuild, (type(self), self.message, self.as_fields()))

    def as_fields(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "value": self.value,
            "hint": self.hint,
            "record_id": self.record_id,
        }

    def where(self) -> str:
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.field:
            parts.append(f"field {self.field!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = f"{self.where()}: {self.message}"
        if self.value:
            text += f" (value {_clip(self.value)!r})"
        if self.hint:
            text += f"; {self.hint}"
        return text

    def as_dict(self) -> dict[str, object]:
        """The row written to the build report, every text writable as UTF-8 (a file name
        or a value may carry lone surrogates)."""
        return {
            "file": _safe(self.file),
            "line": self.line,
            "field": _safe(self.field),
            "value": _clip(self.value),
            "record": _safe(self.record_id),
            "error": _safe(self.message),
            "fix": _safe(self.hint),
        }

    @classmethod
    def from_dict(cls, row: Mapping[str, object]) -> SourceError:
        """The error a report row (`as_dict`) was made from, so that an incremental build
        tells an unchanged file's problems in the first build's words."""
        line = row.get("line")
        return cls(
            str(row.get("error") or ""),
            file=str(row.get("file") or ""),
            line=line if isinstance(line, int) else None,
            field=str(row.get("field") or ""),
            value=str(row.get("value") or ""),
            hint=str(row.get("fix") or ""),
            record_id=str(row.get("record") or ""),
        )


class UnsafeXMLError(SourceError):
    """An XML file declares a DTD or entities; refused before expansion (billion laughs, XXE)."""


class TooLargeError(SourceError):
    """Input past lod's limits on size, nesting depth or triples, refused before a parser can
    spend unbounded time, memory or stack on it (deep RDF/XML, a graph of a million triples)."""


class MappingError(SourceError):
    """A record was read but one of its values cannot be mapped (e.g. an impossible date)."""


class Cleaned(SourceError):
    """A record that is published, but only after lod removed or repaired part of a value
    (control characters, a <script> element, a lone surrogate, mojibake). Raised never, only
    reported: the librarian learns what lod changed, where, and what to fix at the source."""


def _clip(value: str, limit: int = 200) -> str:
    """At most `limit` characters, and writable as UTF-8 anywhere (report.json, SQLite, a
    terminal): a lone surrogate is shown as its escape, "\\ud800", rather than crash the report."""
    return _safe(value if len(value) <= limit else value[:limit] + "…")


def _safe(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _rebuild(cls: type[SourceError], message: str, fields: dict[str, object]) -> SourceError:
    return cls(message, **fields)  # type: ignore[arg-type]
