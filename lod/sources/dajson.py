"""Reader for the Digital Archive's JSON API: documents, collections and transcripts/translations.

Documents (`/srv/record/ID.json`) carry nested objects ({id, name, ...}); descriptions hold HTML.
A transcript or translation embedded in a document becomes that document's text; one read on its
own is published as a record of kind "transcript".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from lod.errors import SourceError, TooLargeError
from lod.model import Media, Origin, Record
from lod.sources.text import html_to_text, one_line

FORMAT = "dajson"
SITE = "https://digitalarchive.wilsoncenter.org"
MAX_DEPTH = 64

DOCUMENT_KEYS = {
    "doc_date",
    "frontend_doc_date",
    "transcripts",
    "translations",
    "media_files",
    "creators",
    "original_coverages",
}
SCALARS: dict[str, str] = {
    "title": "title",
    "frontend_doc_date": "date",
    "doc_date": "date_hint",
    "description": "summary",
    "source": "citation",
    "first_published_at": "uploaded",
    "source_created_at": "submitted",
    "source_updated_at": "modified",
    "uri": "url",
}
"""Document key -> scalar model attribute."""

NAMED_LISTS: dict[str, str] = {
    "type": "doc_type",
    "languages": "languages",
    "creators": "authors",
    "contributors": "contributors",
    "subjects": "subjects",
    "original_coverages": "places",
    "collections": "collections",
    "repositories": "archives",
    "donors": "donors",
    "classifications": "classification",
}
"""Document key -> model attribute filled from the `name` of each nested object."""

TEXTS: dict[str, str] = {"translations": "text", "transcripts": "transcript"}

REQUIRED: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("document", "title", frozenset(DOCUMENT_KEYS)),
    ("collection", "name", frozenset({"short_description", "main_src", "slug"})),
)
"""(kind, key it cannot do without, keys that show an item is meant as that kind): an item
that shows a kind but lacks its key is a damaged record, reported rather than passed over."""


def sniff(text: str) -> bool:
    head = text.lstrip()[:1]
    if head not in ("{", "["):
        return False
    try:
        data = json.loads(text)
    except RecursionError:
        return True  # nested past Python's stack: hostile, reported rather than skipped
    except ValueError:
        # A broken JSON object, or list of objects, is reported, not skipped.
        return head == "{" or text.lstrip()[1:].lstrip().startswith("{")
    # A record that lacks the one key its kind needs is a damaged record: reported, not skipped.
    return any(_kind(item) or _missing(item) for item in _items(data))


def read(path: str, text: str) -> Iterator[Record | SourceError]:
    try:
        data = json.loads(text)
    except RecursionError:
        yield SourceError(
            "the JSON is nested too deeply", file=path, hint=f"keep nesting under {MAX_DEPTH}"
        )
        return
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        yield SourceError(
            f"invalid JSON: {getattr(exc, 'msg', exc)}",
            file=path,
            line=line,
            hint="fix the JSON syntax at that line",
        )
        return
    lines = _Lines(text)
    for index, item in enumerate(_items(data)):
        line = lines.of(item) if isinstance(item, dict) else None
        origin = Origin(path, line, f"[{index}]" if isinstance(data, list) else "")
        try:
            _check_depth(item, origin)
            kind = _kind(item)
            if not kind:
                raise _unreadable(item, origin)
            yield READERS[kind](item, origin)
        except SourceError as exc:
            yield exc


def _items(data: Any) -> list[Any]:
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        return list(data["results"])
    return data if isinstance(data, list) else [data]


class _Lines:
    """The line each record starts at, found by its "id" (else its "title") in the text: the
    json module keeps no positions. Records come in file order, so each search starts where
    the last one matched."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def of(self, item: dict[str, Any]) -> int | None:
        for key in ("id", "title", "name", "filename"):
            if key not in item:
                continue
            value = item[key]
            scalar = isinstance(value, str | int) and not isinstance(value, bool)
            shown = re.escape(json.dumps(value, ensure_ascii=False)) if scalar else ""
            found = re.compile(rf'"{key}"\s*:\s*{shown}').search(self.text, self.at)
            if found:
                self.at = found.end()
                return self.text.count("\n", 0, found.start()) + 1
        return None


def _kind(item: Any) -> str:
    """What an item is, by its keys; an ID is not needed to tell (a record without one is
    reported, not skipped)."""
    if not isinstance(item, dict):
        return ""
    keys = set(item)
    if "title" in keys and keys & DOCUMENT_KEYS:
        return "document"
    if "filename" in keys and "content_type" in keys and keys & {"html", "raw", "url"}:
        return "transcript"
    if (
        "name" in keys
        and keys & {"short_description", "main_src", "slug"}
        and "filename" not in keys
    ):
        return "collection"
    return ""


def _unreadable(item: Any, origin: Origin) -> SourceError:
    """The error for an item that is no record of a known kind: in a file of records it is a
    record gone wrong, to be reported, not dropped without a word."""
    record_id = _shown_id(item)
    shown = (origin.field, f"(id {record_id!r})" if record_id else "")
    label = " ".join(part for part in shown if part) or "in this file"
    missing = _missing(item)
    if missing:
        kind, key = missing
        return SourceError(
            f"the {kind} {label} has no {key}",
            file=origin.file,
            line=origin.line,
            field=key,
            hint=f'give it a "{key}"; without one it cannot be published',
            record_id=record_id,
        )
    return SourceError(
        f"the item {label} is no document, collection or transcript",
        file=origin.file,
        line=origin.line,
        field=origin.field or "record",
        value=json.dumps(item, ensure_ascii=False)[:200],
        hint="compare it with records/examples/example-api-document.json, or remove it",
        record_id=record_id,
    )


def _missing(item: Any) -> tuple[str, str] | None:
    """(kind, key) when the item shows a kind of record (REQUIRED) but lacks its key."""
    keys = set(item) if isinstance(item, dict) else set()
    return next(((k, key) for k, key, shows in REQUIRED if keys & shows and key not in keys), None)


def _shown_id(item: Any) -> str:
    """The item's id as text, when it has a usable one (for naming it in a report)."""
    raw = item.get("id") if isinstance(item, dict) else None
    usable = isinstance(raw, str | int) and not isinstance(raw, bool)
    return one_line(str(raw)) if usable else ""


def _check_depth(value: Any, origin: Origin) -> None:
    """Refuse a record nested deeper than MAX_DEPTH, walking it without recursion."""
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise TooLargeError(
                "the JSON is nested too deeply",
                file=origin.file,
                line=origin.line,
                field=origin.field or "record",
                value=f"depth {depth}",
                hint=f"keep nesting under {MAX_DEPTH}",
            )
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        stack.extend((child, depth + 1) for child in children)


def _id(item: dict[str, Any], origin: Origin) -> str:
    raw = item.get("id")
    if isinstance(raw, dict | list | bool):
        raise SourceError(
            "the record's id is not a number or a string",
            file=origin.file,
            line=origin.line,
            field="id",
            value=json.dumps(raw, ensure_ascii=False)[:200],
            hint="every API record needs its numeric id",
        )
    value = one_line(str(raw if raw is not None else ""))
    if not value:
        raise SourceError(
            "the record has no id",
            file=origin.file,
            line=origin.line,
            field="id",
            hint="every API record needs its numeric id",
        )
    return value


def _scalar(value: Any, key: str, origin: Origin) -> str:
    """A scalar field's text; a list or object where text belongs is refused, not flattened
    into a title like "[1, {}]"."""
    if isinstance(value, dict | list):
        raise SourceError(
            f"the {key} is a JSON {'list' if isinstance(value, list) else 'object'}, not text",
            file=origin.file,
            line=origin.line,
            field=key,
            value=json.dumps(value, ensure_ascii=False)[:200],
            hint=f"give {key} as a string",
        )
    return str(value)


def _name(value: Any) -> str:
    if isinstance(value, dict):
        return one_line(html_to_text(str(value.get("name") or value.get("value") or "")))
    return one_line(html_to_text(str(value))) if value not in (None, "") else ""


def _document(item: dict[str, Any], origin: Origin) -> Record:
    record = Record(id=_id(item, origin), source_format=FORMAT, origin=origin, kind="document")
    record.origins["id"] = origin.at("id")
    for key, value in item.items():
        where = origin.at(key)
        if key == "id" or value in (None, "", [], {}):
            continue
        if key in SCALARS:
            raw = _scalar(value, key, origin)
            text = html_to_text(raw) if key == "description" else one_line(raw)
            record.put(SCALARS[key], _absolute(text) if key == "uri" else text, where)
        elif key in NAMED_LISTS and isinstance(value, list | dict):
            names = [_name(v) for v in (value if isinstance(value, list) else [value])]
            attr = NAMED_LISTS[key]
            if isinstance(getattr(record, attr), list):
                record.add(attr, names, where)
            else:
                record.put(attr, "; ".join(n for n in names if n), where)
            if key == "original_coverages":
                for place in value if isinstance(value, list) else []:
                    parent = _name(place.get("parent")) if isinstance(place, dict) else ""
                    if parent:
                        record.place_parents[_name(place)] = parent
        elif key == "rights" and isinstance(value, dict):
            text = html_to_text(str(value.get("rights") or value.get("name") or ""))
            record.put("rights", text, where)
            if value.get("name") and value.get("rights"):
                record.put_extra("rights_name", one_line(str(value["name"])), where)
        elif key in TEXTS and isinstance(value, list):
            texts = [
                html_to_text(str(t.get("html") or t.get("raw") or ""))
                for t in value
                if isinstance(t, dict)
            ]
            record.put(TEXTS[key], "\n\n".join(t for t in texts if t), where)
            record.media.extend(
                _media(t, key) for t in value if isinstance(t, dict) and t.get("url")
            )
            record.origins.setdefault("media", where)
        elif key == "media_files" and isinstance(value, list):
            record.media.extend(
                _media(m, key) for m in value if isinstance(m, dict) and m.get("url")
            )
            record.origins.setdefault("media", where)
        else:
            record.put_extra(key, _flat(value), where)
    return record


def _collection(item: dict[str, Any], origin: Origin) -> Record:
    record = Record(id=_id(item, origin), source_format=FORMAT, origin=origin, kind="collection")
    record.origins["id"] = origin.at("id")
    mapping = {
        "name": "title",
        "description": "summary",
        # A sentence about the collection, not another name for it: a description, not a title.
        "short_description": "description",
        "first_published_at": "uploaded",
        "source_created_at": "submitted",
        "source_updated_at": "modified",
    }
    for key, value in item.items():
        where = origin.at(key)
        if key == "id" or value in (None, "", [], {}):
            continue
        if key in mapping:
            text = html_to_text(str(value)) if key == "description" else one_line(str(value))
            record.put(mapping[key], text, where)
        elif key in ("main_src", "thumb_src"):
            record.media.append(Media(url=_absolute(str(value)), title=key))
            record.origins.setdefault("media", where)
        elif key == "value" and one_line(str(value)) == one_line(str(item.get("name", ""))):
            record.origins["title_value"] = where
        else:
            record.put_extra(key, _flat(value), where)
    return record


def _transcript(item: dict[str, Any], origin: Origin) -> Record:
    record = Record(
        id=f"transcript-{_id(item, origin)}", source_format=FORMAT, origin=origin, kind="transcript"
    )
    record.origins["id"] = origin.at("id")
    record.put(
        "transcript",
        html_to_text(str(item.get("html") or item.get("raw") or "")),
        origin.at("html" if item.get("html") else "raw"),
    )
    if item.get("raw") and item.get("html") and item["raw"] != item["html"]:
        record.put_extra("raw", html_to_text(str(item["raw"])), origin.at("raw"))
    elif item.get("raw"):
        record.origins["raw"] = origin.at("raw")
    record.put("title", one_line(str(item.get("filename") or "")), origin.at("filename"))
    if item.get("url"):
        record.media.append(_media(item, "transcript"))
        record.origins["media"] = origin.at("url")
    for key in ("source_created_at", "source_updated_at"):
        if item.get(key):
            record.put(
                "submitted" if key == "source_created_at" else "modified",
                one_line(str(item[key])),
                origin.at(key),
            )
    for key in ("asset_id", "extension", "pdf", "content_type"):
        if item.get(key):
            record.put_extra(key, _flat(item[key]), origin.at(key))
    return record


def _media(item: dict[str, Any], role: str) -> Media:
    return Media(
        url=_absolute(str(item.get("url", ""))),
        filename=str(item.get("filename") or ""),
        content_type=str(item.get("content_type") or ""),
        title=role,
    )


def _absolute(url: str) -> str:
    return SITE + url if url.startswith("/") else url


def _flat(value: Any) -> str:
    if isinstance(value, str):
        return html_to_text(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


READERS = {"document": _document, "collection": _collection, "transcript": _transcript}
