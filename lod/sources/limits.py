"""Limits on a record's values, checked once a reader has read it.

A title, a date or a name is a line of text; a megabyte of it is a broken export or an attack,
and a record ID becomes a file name, which file systems cap at 255 bytes. Such a record is
rejected with its field and the start of its value; long free text (full text, summary,
transcript, fields lod does not know) has no limit of its own beyond the file's. A record ID
also becomes a URI path segment, which '.' and '..' cannot be (see unaddressable).
"""

from __future__ import annotations

from lod.errors import SourceError
from lod.model import Record
from lod.uris import DOT_SEGMENTS, safe_id

MAX_ID = 200
"""Characters of the ID as it is written in URIs (percent-encoded; its file name is no longer)."""

MAX_LINE = 10_000
"""Characters of a one-line value: titles, dates, names, identifiers, citations."""

FREE_TEXT = frozenset({"summary", "text", "transcript", "rights", "credits"})
"""Attributes that hold prose, limited only by the file size."""


def oversized(record: Record) -> SourceError | None:
    """The first value over its limit, as the error that rejects the record; else None."""
    if len(safe_id(record.id)) > MAX_ID:
        return _error(record, "id", record.id, f"the record ID is longer than {MAX_ID} characters")
    for attr in record.filled():
        if attr in FREE_TEXT:
            continue
        value = getattr(record, attr)
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, str) and len(item) > MAX_LINE:
                return _error(
                    record,
                    attr,
                    item,
                    f"the {attr} is {len(item):,} characters long, more than {MAX_LINE:,}",
                )
    return None


def unaddressable(record: Record) -> SourceError | None:
    """The error that rejects a record whose ID is '.' or '..'; else None. Its URI would end in
    a dot segment however it is written: RFC 3986 makes record/%2E%2E the same URI as record/..
    (2.3, 6.2.2.2), and every WHATWG URL parser (browsers, Node.js and so Comunica) removes it
    (5.2.4), fetching the site's home page (or record/) instead of the record."""
    if record.id.strip() not in DOT_SEGMENTS:
        return None
    return _error(
        record,
        "id",
        record.id,
        f"the record ID {record.id.strip()!r} cannot be a URI path segment: browsers and "
        f"JavaScript clients remove it from record/{safe_id(record.id)} as a dot segment",
        hint="give the record an ID with something other than dots in it",
    )


def _error(
    record: Record,
    attr: str,
    value: str,
    message: str,
    hint: str = "check the export: a one-line value this long is a broken file or a wrong column",
) -> SourceError:
    origin = record.origins.get(attr, record.origin)
    return SourceError(
        message,
        file=record.origin.file,
        line=origin.line,
        field=origin.field or attr,
        value=value[:80],
        hint=hint,
        record_id=record.id if attr != "id" else "",
    )
