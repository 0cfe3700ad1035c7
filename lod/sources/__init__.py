"""The sources stage: find files, detect each one's format from its content, read Records.

Readers are a table (`READERS`): each has `sniff(text) -> bool` and `read(path, text)` yielding
Records or SourceErrors, so one bad record never stops its neighbours. Files no reader claims
(a README, a LICENSE, unrelated JSON) are skipped with a notice, not counted as rejected; a
reader claims a damaged file of its format too (a scrape missing a column, a page cut short)
and reports what is wrong with it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from types import ModuleType

from lod.errors import Cleaned, SourceError
from lod.model import Origin, Record
from lod.sources import dacsv, dajson, dapage, oai, tei
from lod.sources.limits import oversized, unaddressable
from lod.sources.text import Note, collect, decode, utf16_guess
from lod.sources.units import Known, Unchanged
from lod.vocab import Vocab, load_vocab

READERS: tuple[ModuleType, ...] = (oai, tei, dajson, dacsv, dapage)
"""Tried in order; the first whose sniff() accepts the text reads the file."""

MAX_FILE_BYTES = 256 * 1024 * 1024
READER_FAILURES = (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError)
SKIP_DIRS = {".git", "__pycache__", ".venv", "node_modules"}


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file that is no record in any known format."""

    file: str
    reason: str


Item = Record | SourceError | Skipped | Unchanged


def find_files(paths: Iterable[Path], out: Path | None = None) -> Iterator[Path]:
    """Every file under the given paths, recursively, in a stable (sorted) order; none in
    `out`, the output folder, which a build must not read back as its input (`lod build src
    --out src/site`). Its staging folders and lock file beside it start with "." and are not
    read either."""
    for path in paths:
        if out is not None and path.resolve().is_relative_to(out.resolve()):
            raise SourceError(
                "this is in the output folder (--out), which lod writes and does not read",
                file=str(path),
                hint="give the folders of the records as SOURCES, or choose another --out",
            )
        if path.is_dir():
            yield from _walk(path, out)
        elif path.exists():
            yield path
        else:
            raise SourceError(
                "no such file or folder", file=str(path), hint="check the SOURCES path"
            )


def _walk(top: Path, out: Path | None) -> Iterator[Path]:
    """The files under `top`. Symlinked folders are followed, as symlinked files are read, but
    each folder only once, so a symlink loop ends. A folder that cannot be listed is yielded
    itself, where its files would be, for read_file to report: skipped in silence, its records
    would vanish from the publication without a word."""
    seen: set[tuple[int, int]] = set()
    for folder in (out, top):
        if folder is not None:
            _first_visit(folder, seen)
    failed: list[OSError] = []
    for root, dirs, files in os.walk(top, onerror=failed.append, followlinks=True):
        yield from _unlisted(failed, top)
        here = Path(root)
        dirs[:] = [
            d
            for d in sorted(dirs)
            if d not in SKIP_DIRS and not d.startswith(".") and _first_visit(here / d, seen)
        ]
        for name in sorted(files):
            if not name.startswith("."):
                yield here / name
    yield from _unlisted(failed, top)


def _first_visit(folder: Path, seen: set[tuple[int, int]]) -> bool:
    """Whether `folder` (by device and inode, whatever the path to it) is new to `seen`; one
    that cannot be stat'ed counts as new, and os.walk reports it."""
    try:
        stat = folder.stat()
    except OSError:
        return True
    identity = (stat.st_dev, stat.st_ino)
    if identity in seen:
        return False
    seen.add(identity)
    return True


def _unlisted(failed: list[OSError], top: Path) -> Iterator[Path]:
    while failed:
        error = failed.pop(0)
        yield Path(os.fsdecode(error.filename)) if error.filename else top


def read_file(
    path: Path, label: str | None = None, vocab: Vocab | None = None, known: Known | None = None
) -> Iterator[Item]:
    """Read one file: its records (enriched), its bad records as SourceErrors, or a Skipped."""
    name = label or label_of(path)
    if path.is_dir():
        yield _unreadable_folder(path, name)
        return
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            yield SourceError(
                f"the file is larger than {MAX_FILE_BYTES // 2**20} MiB",
                file=name,
                hint="split it into smaller files",
            )
            return
        data = path.read_bytes()
    except OSError as exc:
        yield SourceError(
            f"cannot read the file: {exc.strerror}",
            file=name,
            hint="check that it exists and that lod may read it (a symlink must point to a file), "
            "or take it out of SOURCES",
        )
        return
    utf16 = utf16_guess(data)
    if (
        utf16
        and detect(
            data.decode("utf-16-be" if utf16 == "UTF-16BE" else "utf-16-le", "replace").lstrip(
                "\ufeff"
            )
        )
        is None
    ):
        yield Skipped(name, f"{utf16} text that is no record")
        return
    if not utf16 and b"\x00" in data[:8192] and not _is_utf8(data):
        yield Skipped(name, "binary file")
        return
    try:
        text = decode(data, name)
    except SourceError as exc:
        yield exc
        return
    reader = detect(text)
    if reader is None:
        yield Skipped(
            name, "not a record in any known format (page text, CSV scrape, JSON API, TEI, OAI-PMH)"
        )
        return
    vocab = vocab or load_vocab()
    units = known is not None and getattr(reader, "UNITS", False)
    items = reader.read(name, text, known) if units else reader.read(name, text)
    while True:
        try:
            with collect() as notes:
                item = next(items)
        except StopIteration:
            return
        except SourceError as exc:
            yield exc  # a reader that stops at a file-level problem (one-record formats)
            return
        except READER_FAILURES as exc:
            # A reader bug on odd input must cost this file, not the build or its neighbours.
            yield SourceError(
                f"the {reader.FORMAT} reader could not read this file ({type(exc).__name__})",
                file=name,
                hint="check the file against the format's examples in records/examples; "
                "if it is valid, please report it",
            )
            return
        if isinstance(item, Record):
            rejected = oversized(item) or unaddressable(item)
            if rejected is not None:
                yield rejected
                continue
            enrich(item, vocab)
            if notes:
                yield cleaned(item, notes)
        yield item


def _unreadable_folder(path: Path, name: str) -> SourceError:
    """The report for a folder find_files could not list (it yields no other folders)."""
    try:
        with os.scandir(path):
            reason = "it could not be listed when lod looked for files; run the build again"
    except OSError as exc:
        reason = str(exc.strerror)
    return SourceError(
        f"cannot read the folder: {reason}; none of the files in it were read",
        file=name,
        hint="make it readable by the user running lod (e.g. chmod a+rx), "
        "or take it out of SOURCES",
    )


def cleaned(record: Record, notes: list[Note]) -> Cleaned:
    """One report row for everything lod changed in a record's values: the first field it
    changed (found by the value it became), the others named in the message."""
    fields: list[tuple[str, int | None, Note]] = []
    for note in notes:
        origin = _origin_of(record, note.result)
        entry = (origin.field, origin.line, note)
        if origin.field not in [f for f, _, _ in fields]:
            fields.append(entry)
    field, line, first = fields[0]
    others = [f for f, _, _ in fields[1:] if f]
    message = first.reason + (f" here and in {', '.join(others)}" if others else "")
    return Cleaned(
        message,
        file=record.origin.file,
        line=line,
        field=field,
        value=first.raw,
        hint="the record was published with the repaired value; fix the source to keep it as is",
        record_id=record.id,
    )


def _origin_of(record: Record, result: str) -> Origin:
    """Where the value that became `result` went: the origin of the first attribute holding
    it (lists and extras included); the record's own origin when none does."""
    probe = " ".join(_visible(result).split()[:20])
    if probe:
        values: list[tuple[str, object]] = [(a, getattr(record, a)) for a in record.filled()]
        values += [(f"extra:{k}", v) for k, v in record.extra.items()]
        values.append(("id", record.id))
        for attr, value in values:
            texts = value if isinstance(value, list) else [value]
            if attr in record.origins and any(
                isinstance(t, str) and probe in _visible(t) for t in texts
            ):
                return record.origins[attr]
    return record.origin


def _visible(text: str) -> str:
    """Text as a reader may have kept it: tags out, entities decoded, whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]*>", "", text)).split())


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def detect(text: str) -> ModuleType | None:
    sniffers: list[tuple[ModuleType, Callable[[str], bool]]] = [(r, r.sniff) for r in READERS]
    for reader, sniff in sniffers:
        if sniff(text):
            return reader
    return None


def source_files(
    paths: Iterable[Path], base: Path | None = None, out: Path | None = None
) -> list[tuple[Path, str]]:
    """Every source file in reading order (none in the output folder `out`), with the label
    reports use: its name relative to `base`. A build compares these with the last one's to
    read only what changed."""
    return [(path, label_of(path, base)) for path in find_files(paths, out)]


def label_of(path: Path, base: Path | None = None) -> str:
    """The name reports, the state file and provenance give a file: relative to `base`, and
    always valid UTF-8. A name's bytes that are no UTF-8 (a Latin-1 name, say) are written
    as \\xNN: SQLite, JSON and RDF literals cannot hold the lone surrogates Python reads
    them as. The Path itself keeps the real bytes for reading."""
    name = str(path.relative_to(base)) if base and path.is_relative_to(base) else str(path)
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def stamp(path: Path) -> tuple[int, int]:
    """Size and modification time, which tell an incremental build whether to read a file
    again. A file that cannot be read (a dangling symlink, a file without read permission)
    gets (-1, -1): read_file reports it as unreadable, and no build should fail over it.
    Permission counts because chmod leaves size and time as they were: a file made unreadable
    after a build, or readable again, must be read again to be reported or published."""
    try:
        stat = path.stat()
    except OSError:
        return -1, -1
    if not os.access(path, os.R_OK):
        return -1, -1
    return stat.st_size, stat.st_mtime_ns


def read_sources(paths: Iterable[Path], base: Path | None = None) -> Iterator[Item]:
    """All items from all files under `paths`; file names are reported relative to `base`."""
    yield from read_files(source_files(paths, base))


def read_files(files: Iterable[tuple[Path, str]], known: Known | None = None) -> Iterator[Item]:
    vocab = load_vocab()
    for path, label in files:
        yield from read_file(path, label, vocab, known)


_FROM_TO = re.compile(
    r"\b[Ff]rom\s+(?P<from>.+?)(?:\s+[Tt]hrough\s+.+?)?\s+to\s+(?P<to>.+?)(?=,|\s+(?:on|regarding|about|concerning)\s|$)"
)


def enrich(record: Record, vocab: Vocab) -> None:
    """Facts a title states ("Telegram from Mao Zedong to I.V. Stalin", "Letter, ..."): sender,
    recipient and type, kept with the title as their origin."""
    if not record.title or record.kind != "document":
        return
    where = record.origins.get("title", record.origin).at("title")
    doc_type = vocab.type_from_title(record.title)
    if doc_type and not record.doc_type:
        record.put("doc_type", doc_type.label, where)
    match = _FROM_TO.search(record.title)
    if match and (doc_type or record.doc_type):
        record.add("authors", _people(match["from"]), where)
        record.add("recipients", _people(match["to"]), where)


def _people(text: str) -> list[str]:
    return [part.strip() for part in re.split(r",\s*|\s+and\s+", text) if part.strip()]
