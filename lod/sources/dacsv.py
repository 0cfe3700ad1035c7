"""Reader for the CSV scrape of the Digital Archive (one row per record).

The scrape stores lists as JSON strings ('["Nehru, Jawaharlal"]'), writes a missing value as
the string "None", and names people inverted; every column reaches the model or `extra`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterator

from lod.errors import SourceError
from lod.model import Origin, Record
from lod.sources.text import clean, html_to_text, needs_repair, one_line
from lod.sources.units import Unchanged

FORMAT = "dacsv"

COLUMNS: dict[str, tuple[str, str]] = {
    "record_id": ("id", "id"),
    "id": ("id", "id"),
    "document_url": ("url", "line"),
    "original_publication_date": ("date", "line"),
    "title": ("title", "line"),
    "credits": ("credits", "text"),
    "text_body": ("text", "text"),
    "summary": ("summary", "text"),
    "authors": ("authors", "list"),
    "associated_places": ("places", "list"),
    "subjects_discussed": ("subjects", "list"),
    "associated_people_orgs": ("people", "list"),
    "document_contributors": ("contributors", "list"),
    "source": ("citation", "line"),
    "original_upload_date": ("uploaded", "line"),
    "original_archive_title": ("archives", "list"),
    "language": ("languages", "list"),
    "rights": ("rights", "text"),
    "original_classification": ("classification", "line"),
    "donors": ("donors", "list"),
    "scraped_at": ("retrieved", "line"),
    "type": ("doc_type", "line"),
    "collections": ("collections", "list"),
}
"""CSV column -> (model attribute, shape). Columns not listed are kept in `extra`."""

MISSING = {"", "none", "null", "nan", "[]"}

ID_COLUMNS = ("record_id", "id")
REQUIRED = (("record_id", ID_COLUMNS), ("title", ("title",)))
"""(column, names it may have): a scrape without one of these cannot publish a single row."""

MIN_KNOWN_COLUMNS = 3
"""A header naming this many of the scrape's columns is a scrape, damaged if it lacks a
required one; fewer (an unrelated CSV sharing "id" or "type") is no scrape and is skipped."""

SEPARATORS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}
"""Cell separators a spreadsheet may save with; the scrape's own is the comma."""


def sniff(text: str) -> bool:
    """A scrape, whole or damaged: a header with the required columns, or with enough of the
    scrape's columns under any common separator to be a scrape gone wrong (reported by read)."""
    first = text.split("\n", 1)[0]
    return any(_is_scrape(_columns(first, separator)) for separator in SEPARATORS)


def _columns(line: str, separator: str) -> set[str]:
    try:
        header = next(csv.reader([line], delimiter=separator))
    except (csv.Error, StopIteration):
        return set()
    return {h.strip().lower() for h in header}


def _is_scrape(names: set[str]) -> bool:
    return not _lacking(names) or len(names & COLUMNS.keys()) >= MIN_KNOWN_COLUMNS


def _lacking(names: set[str]) -> list[str]:
    return [column for column, aliases in REQUIRED if not names & set(aliases)]


def _header_error(path: str, header: list[str], first_line: str) -> SourceError | None:
    """Why no row of this scrape can be read: cells split by another separator than the
    comma, or a required column missing (one error for the file, naming the column)."""
    missing = _lacking({h.lower() for h in header})
    if not missing:
        return None
    for separator, name in SEPARATORS.items():
        if separator != "," and _is_scrape(_columns(first_line, separator)):
            return SourceError(
                f"the columns are separated by {name}, not commas",
                file=path,
                line=1,
                field="header",
                value=first_line,
                hint="save the file as comma-separated CSV, as the scrape is written",
            )
    return SourceError(
        f"the CSV scrape has no {' and no '.join(repr(c) for c in missing)} column",
        file=path,
        line=1,
        field=missing[0],
        hint=f"add a {missing[0]!r} column to the header on line 1, or rename the column "
        "that holds it; no row can be published without it",
    )


UNITS = True
"""Each row is a unit with its own hash: a republish parses only rows it does not know."""


def read(
    path: str, text: str, known: Callable[[str], bool] | None = None
) -> Iterator[Record | SourceError | Unchanged]:
    csv.field_size_limit(64 * 1024 * 1024)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        yield SourceError("the CSV has no header row", file=path, line=1, hint=str(exc))
        return
    damaged = _header_error(path, header, text.split("\n", 1)[0].rstrip("\r"))
    if damaged is not None:
        yield damaged
        return
    row_number = 1
    while True:
        start_line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield SourceError(
                f"malformed CSV: {exc}",
                file=path,
                line=start_line,
                hint="check quoting around this line",
            )
            return
        row_number += 1
        if not any(cell.strip() for cell in row):
            continue
        unit = hashlib.sha256(repr((header, row)).encode("utf-8", "surrogatepass")).hexdigest()
        if known is not None and known(unit) and not any(map(needs_repair, row)):
            yield Unchanged(path, unit, start_line)
            continue
        try:
            record = _row(path, header, row, row_number, start_line)
        except SourceError as exc:
            yield exc
            continue
        record.unit = unit
        yield record


def _row(path: str, header: list[str], row: list[str], row_number: int, line: int) -> Record:
    origin = Origin(path, line)
    if len(row) != len(header):
        raise SourceError(
            f"row {row_number} has {len(row)} cells, the header has {len(header)}",
            file=path,
            line=line,
            field="row",
            value=",".join(row)[:200],
            hint="check for an unquoted comma or a missing cell",
        )
    record = Record(id="", source_format=FORMAT, origin=origin)
    for name, raw in zip(header, row, strict=True):
        where = origin.at(name)
        if raw.strip().lower() in MISSING:
            continue
        attr, shape = COLUMNS.get(name.lower(), ("", "extra"))
        if shape == "extra":
            record.put_extra(name, clean(raw), where)
        elif shape == "id":
            record.id = one_line(raw)
            record.origins["id"] = where
        elif shape == "line":
            record.put(attr, one_line(html_to_text(raw)), where)
        elif shape == "text":
            record.put(attr, html_to_text(raw), where)
        else:
            record.add(attr, parse_list(raw, path, line, name), where)
    if not record.id:
        raise SourceError(
            "the row has no record ID",
            file=path,
            line=line,
            field="record_id",
            hint="fill the record_id column; rows without an ID cannot get a URI",
        )
    return record


def parse_list(raw: str, path: str, line: int, name: str) -> list[str]:
    """A JSON list of strings; a bare value is one item."""
    text = raw.strip()
    if not text.startswith("["):
        return [one_line(text)]
    try:
        values = json.loads(text)
    except ValueError as exc:
        raise SourceError(
            "the list is not valid JSON",
            file=path,
            line=line,
            field=name,
            value=raw,
            hint='write lists as JSON, e.g. ["Nehru, Jawaharlal"]',
        ) from exc
    if not isinstance(values, list):
        raise SourceError("expected a JSON list", file=path, line=line, field=name, value=raw)
    return [one_line(str(v)) for v in values if v not in (None, "", "None")]
