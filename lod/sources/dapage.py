"""Reader for a Digital Archive record as its web page reads (saved as text).

Layout: document date, title, body (with a telegram header where there is one), a `###` line,
the summary, then "Document Information" with one heading line per field and its value below.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lod.dates import looks_like_date
from lod.errors import SourceError
from lod.model import Origin, Record
from lod.sources.text import clean, one_line

FORMAT = "dapage"

FIELDS: dict[str, tuple[str, str]] = {
    "source": ("citation", "scalar"),
    "rights": ("rights", "scalar"),
    "original uploaded date": ("uploaded", "scalar"),
    "type": ("doc_type", "scalar"),
    "language": ("languages", "list"),
    "record id": ("id", "scalar"),
    "authors": ("authors", "list"),
    "author": ("authors", "list"),
    "people": ("people", "list"),
    "associated people & organizations": ("people", "list"),
    "places": ("places", "list"),
    "associated places": ("places", "list"),
    "subjects": ("subjects", "list"),
    "subjects discussed": ("subjects", "list"),
    "original archive": ("archives", "list"),
    "original classification": ("classification", "scalar"),
    "classification": ("classification", "scalar"),
    "donors": ("donors", "list"),
    "contributors": ("contributors", "list"),
    "document contributors": ("contributors", "list"),
    "collections": ("collections", "list"),
    "credits": ("credits", "scalar"),
}
"""Headings of the "Document Information" block -> (model attribute, scalar or one-per-line list)."""

_BOILERPLATE = {"skip to content"}
_INFO = "document information"


MIN_LANDMARKS = 2
"""Landmarks of a page text (see `_landmarks`) a file must show to be one: a whole page shows
them all, a page cut short or missing a heading still two, a README or a note at most one."""


def sniff(text: str) -> bool:
    """A page text, whole or damaged (then read reports what is missing, not skip it)."""
    return _landmarks(text.splitlines()[:4000]) >= MIN_LANDMARKS


def _landmarks(lines: list[str]) -> int:
    """How many of a page text's landmarks the lines show: the web page's "Skip to content",
    the document date first, the `###` line before the summary, "Document Information" and
    "Record ID"."""
    shown = [line.strip() for line in lines if line.strip()]
    lowered = {line.lower() for line in shown}
    content = [line for line in shown if line.lower() not in _BOILERPLATE]
    return sum(
        (
            bool(shown) and shown[0].lower() in _BOILERPLATE,
            bool(content) and _is_date(content[0]),
            "###" in lowered,
            _INFO in lowered,
            "record id" in lowered,
        )
    )


def read(path: str, text: str) -> Iterator[Record | SourceError]:
    """One record per file; a SourceError raised here is reported by lod.sources.read_file."""
    yield _read(path, text)


def _read(path: str, text: str) -> Record:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    origin = Origin(path, 1)
    record = Record(id="", source_format=FORMAT, origin=origin)
    index = _skip(lines, 0)
    info = next((i for i, line in enumerate(lines) if line.strip().lower() == _INFO), len(lines))
    if info == len(lines):
        raise _cut_short(path, lines)
    # Date line, then title.
    if index < info and _is_date(lines[index]):
        record.put("date", one_line(lines[index]), origin.at("date", index + 1))
        index = _skip(lines, index + 1)
    if index < info:
        record.put("title", one_line(lines[index]), origin.at("title", index + 1))
        index += 1
    marker = next((i for i in range(index, info) if lines[i].strip() == "###"), None)
    body_end = marker if marker is not None else info
    body = clean("\n".join(lines[index:body_end]))
    record.put("text", body, origin.at("text", index + 1))
    if marker is not None:
        first = _skip(lines, marker + 1)
        record.put("summary", clean("\n".join(lines[first:info])), origin.at("summary", first + 1))
    parse_telegram(record, lines[index:body_end], index, origin)
    _read_info(record, lines, info + 1, origin)
    if not record.id:
        raise SourceError(
            "the record has no Record ID",
            file=path,
            line=info + 1,
            field="Record ID",
            hint="add a 'Record ID' heading with the archive's ID below it",
        )
    return record


def _cut_short(path: str, lines: list[str]) -> SourceError:
    """The error for a page without its "Document Information" block: most likely a file cut
    short, whose record ID (and so the record) is lost with the block."""
    last = max((i for i, line in enumerate(lines) if line.strip()), default=0) + 1
    return SourceError(
        f"the page text ends at line {last} without its 'Document Information' block",
        file=path,
        line=last,
        field="Document Information",
        hint="the file looks cut short: save the whole page again, down to the "
        "'Record ID' heading and the ID below it",
    )


def _is_date(line: str) -> bool:
    """A date line, possible or not: an impossible date ("2010-02-50") is reported as the
    date it is meant to be, not taken for the title."""
    return looks_like_date(line.strip())


def _skip(lines: list[str], index: int) -> int:
    while index < len(lines) and (
        not lines[index].strip() or lines[index].strip().lower() in _BOILERPLATE
    ):
        index += 1
    return index


def _read_info(record: Record, lines: list[str], start: int, origin: Origin) -> None:
    heading: str | None = None
    heading_line = 0
    values: list[str] = []

    def flush() -> None:
        if heading is None:
            return
        where = origin.at(heading, heading_line + 1)
        key = heading.lower()
        if key in FIELDS:
            attr, shape = FIELDS[key]
            if shape == "list":
                record.add(attr, values, where)
            else:
                record.put(attr, clean("\n".join(values)), where)
        elif values:
            record.put_extra(heading, clean("\n".join(values)), where)

    for number in range(start, len(lines)):
        line = lines[number].strip()
        unknown_heading = _looks_like_heading(lines, number) and (heading is None or bool(values))
        if line.lower() in FIELDS or unknown_heading:
            flush()
            heading, heading_line, values = line, number, []
        elif line and heading is not None:
            values.append(line)
    flush()


def _looks_like_heading(lines: list[str], number: int) -> bool:
    """An unknown field heading: a short Title Case line between blank lines, no final period."""
    line = lines[number].strip()
    before = lines[number - 1].strip() if number > 0 else ""
    after = lines[number + 1].strip() if number + 1 < len(lines) else ""
    return (
        0 < len(line) <= 40
        and not before
        and not after
        and not line.endswith((".", ":", ","))
        and line[0].isupper()
        and all(
            word[0].isupper() or not word[0].isalpha() for word in line.split() if len(word) > 3
        )
    )


# Telegram header and closing, as Soviet cipher telegrams print them.
_TELEGRAM = re.compile(r"^(?:CIPHERED\s+|CIPHER\s+)?TELEGRAM\s+No\.\s*(?P<number>[\w/-]+)", re.I)
_COPIES = re.compile(r"^Copies:\s*(?P<copies>.+)$", re.I)
_FROM = re.compile(r"^From\s+(?P<place>.+?)\s+Received\s+(?P<received>.+)$", re.I)
_RECEIVED = re.compile(
    r"(?P<h>\d{1,2})\s+hours?\s+(?P<m>\d{1,2})\s+minutes?\s+(?P<d>\d{1,2})\.(?P<mo>\d{1,2})\.(?P<y>\d{4})"
)
_PRECEDENCE = re.compile(r"^(?P<p>(?:EXTREMELY\s+)?URGENT|IMMEDIATE|PRIORITY|FLASH)\b.*$")
_TO = re.compile(r"^To\s+(?P<to>(?:Comrade\s+)?[^.]{2,80}?)\.?$")
_CLOSING_NO = re.compile(r"^No\.\s*(?P<number>\d[\w/-]*)$")
_CLOSING_DATE = re.compile(r"^(?P<date>\d{1,2}\.\d{1,2}\.\d{2,4})$")
_SIGNATURE = re.compile(r"^[A-Z][A-Z.\-' ]{3,60}$")


def parse_telegram(record: Record, body: list[str], offset: int, origin: Origin) -> None:
    """Pick the cipher-telegram header and closing out of the body text, keeping the verbatim."""
    stripped = [(offset + i + 1, line.strip()) for i, line in enumerate(body) if line.strip()]
    header_at = next(
        (n for n, (_, line) in enumerate(stripped[:12]) if _TELEGRAM.match(line)), None
    )
    if header_at is None:
        return
    headings = [line for _, line in stripped[:header_at] if line.isupper()]
    if headings:
        record.header["heading"] = " ".join(headings)
    for number, line in stripped[header_at : header_at + 8]:
        where = origin.at("text", number)
        if m := _TELEGRAM.match(line):
            record.header["telegram_number"] = m["number"]
        elif m := _COPIES.match(line):
            record.header["copies"] = m["copies"]
            names = [re.sub(r"\s*\(\d+\)$", "", part).strip() for part in m["copies"].split(",")]
            record.add("cc", names, where)
        elif m := _FROM.match(line):
            record.header["sent_from"] = m["place"]
            record.header["received"] = m["received"]
            record.add("places", [m["place"].title()], where)
            if r := _RECEIVED.search(m["received"]):
                record.header["received_at"] = (
                    f"{int(r['y']):04d}-{int(r['mo']):02d}-{int(r['d']):02d}T{int(r['h']):02d}:{int(r['m']):02d}:00"
                )
        elif m := _PRECEDENCE.match(line):
            record.header["precedence"] = line
        elif m := _TO.match(line):
            record.header["addressed_to"] = m["to"]
            record.add("recipients", [m["to"]], where)
            break
    tail = stripped[-4:]
    for i, (number, line) in enumerate(tail):
        if (
            (m := _CLOSING_NO.match(line))
            and i + 1 < len(tail)
            and (d := _CLOSING_DATE.match(tail[i + 1][1]))
        ):
            record.header["outgoing_number"] = m["number"]
            record.header["outgoing_date"] = d["date"]
            signature = [text for _, text in tail[:i] if _SIGNATURE.match(text)]
            if signature:
                record.header["signed"] = signature[-1]
                record.add("authors", [signature[-1]], origin.at("text", number - 1))
    if record.header:
        record.origins["header"] = origin.at("text", stripped[header_at][0])
