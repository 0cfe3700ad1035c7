"""ResourceSync (ANSI/NISO Z39.99-2017) from the change log: Source Description, Capability
List, Resource List and Change List.

A destination mirrors the Turtle documents: each entry's `loc` is one, with the log's SHA-256 and
length of its bytes, and `rs:ln rel="describes"` to the thing it is about. Every document is a
function of the log alone, so it stays byte for byte (and ETag for ETag) the same until a build
changes something. A list of more than PART_SIZE entries becomes an index (a `sitemapindex`,
spec sections 10.2 and 12.2) whose parts are `{list}-{n}.xml`.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterable
from xml.sax.saxutils import escape

from lod.changelog import DELETED, ChangeLog
from lod.serve.kinds import turtle_url

RS = "http://www.openarchives.org/rs/terms/"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
MEDIA_TYPE = "application/xml; charset=utf-8"
SOURCE_DESCRIPTION = "/.well-known/resourcesync"
FOLDER = "/resourcesync/"
CAPABILITY_LIST = FOLDER + "capabilitylist.xml"
PART_SIZE = 50_000
"""Most entries in one list document: the sitemap protocol's limit, which ResourceSync keeps."""
DOCUMENT_TYPE = "text/turtle"

_LIST = re.compile(r"/resourcesync/(resourcelist|changelist)(?:-([1-9][0-9]{0,8}))?\.xml")


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def _md(**attributes: str) -> str:
    """An rs:md element; attributes with empty values are left out (`from_` is `from`)."""
    pairs = "".join(
        f' {name.rstrip("_")}="{_attr(value)}"' for name, value in attributes.items() if value
    )
    return f"<rs:md{pairs}/>"


def _ln(rel: str, href: str) -> str:
    return f'<rs:ln rel="{rel}" href="{_attr(href)}"/>'


def _document(root: str, head: Iterable[str], entries: Iterable[str]) -> bytes:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<{root} xmlns="{SITEMAP}" xmlns:rs="{RS}">',
        *head,
        *entries,
        f"</{root}>",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _entry(element: str, loc: str, *inner: str) -> str:
    return f"<{element}><loc>{escape(loc)}</loc>{''.join(inner)}</{element}>"


def source_description(site: str, base: str) -> bytes:
    """The entry point at /.well-known/resourcesync (section 11): one capability list."""
    return _document(
        "urlset",
        [_ln("describedby", base + "dataset"), _md(capability="description")],
        [_entry("url", site + CAPABILITY_LIST[1:], _md(capability="capabilitylist"))],
    )


def capability_list(site: str, base: str) -> bytes:
    """What this source offers (section 9): a resource list and a change list."""
    return _document(
        "urlset",
        [
            _ln("describedby", base + "dataset"),
            _ln("up", site + SOURCE_DESCRIPTION[1:]),
            _md(capability="capabilitylist"),
        ],
        [
            _entry("url", _list_url(site, name), _md(capability=name))
            for name in ("resourcelist", "changelist")
        ],
    )


def _list_url(site: str, name: str, part: int = 0) -> str:
    return f"{site}{FOLDER[1:]}{name}{f'-{part}' if part else ''}.xml"


def _parts(total: int) -> int:
    return -(-total // PART_SIZE)


def resource_list(log: ChangeLog, site: str, base: str, part: int) -> bytes | None:
    """Every resource published now (section 10), in URI order; part 0 is the whole list, or its
    index once it has more than PART_SIZE entries. None for a part that does not exist."""
    total = log.count()
    at = log.last_time()
    parts = _parts(total)
    head = [_ln("up", site + CAPABILITY_LIST[1:])]
    if part == 0 and parts > 1:
        return _document(
            "sitemapindex",
            [*head, _md(capability="resourcelist", at=at, completed=at)],
            [
                _entry(
                    "sitemap",
                    _list_url(site, "resourcelist", n),
                    _md(capability="resourcelist", at=at),
                )
                for n in range(1, parts + 1)
            ],
        )
    if part and (part > parts or parts == 1):
        return None
    after = _bounds(log)[part - 1] if part else ""
    if part:
        head.append(_ln("index", _list_url(site, "resourcelist")))
    entries = (
        _entry(
            "url",
            turtle_url(base, r.uri),
            f"<lastmod>{r.modified}</lastmod>",
            _md(hash=f"sha-256:{r.hash}", length=str(r.length), type=DOCUMENT_TYPE),
            _ln("describes", r.uri),
        )
        for r in log.resources(after=after, limit=PART_SIZE)
    )
    return _document(
        "urlset", [*head, _md(capability="resourcelist", at=at, completed=at)], entries
    )


_BOUNDS: weakref.WeakKeyDictionary[ChangeLog, tuple[int, list[str]]] = weakref.WeakKeyDictionary()
"""Per open log: the URI each resource list part starts after. A part starts after a URI, not at
an offset, so reading part n costs one index seek; the bounds are found once per build."""


def _bounds(log: ChangeLog) -> list[str]:
    known = _BOUNDS.get(log)
    if known is not None and known[0] == PART_SIZE:
        return known[1]
    bounds = [""]
    while True:
        page = log.resources(after=bounds[-1], limit=PART_SIZE)
        if len(page) < PART_SIZE:
            break
        bounds.append(page[-1].uri)
    _BOUNDS[log] = (PART_SIZE, bounds)
    return bounds


def change_list(log: ChangeLog, site: str, base: str, part: int) -> bytes | None:
    """Every logged change (section 12), oldest first; part n holds log entries (n-1)*PART_SIZE+1
    to n*PART_SIZE (entry numbers are dense: the log is append-only), so a full part never
    changes. Part 0 is the whole list, or its index past PART_SIZE entries."""
    total = log.last_seq()
    parts = _parts(total)
    head = [_ln("up", site + CAPABILITY_LIST[1:])]
    if part == 0 and parts > 1:
        spans = [_span(log, n, parts) for n in range(1, parts + 1)]
        return _document(
            "sitemapindex",
            [*head, _md(capability="changelist", from_=spans[0][0])],
            [
                _entry(
                    "sitemap",
                    _list_url(site, "changelist", n),
                    _md(capability="changelist", from_=start, until=end),
                )
                for n, (start, end) in enumerate(spans, 1)
            ],
        )
    if part and (part > parts or parts == 1):
        return None
    if part:
        head.append(_ln("index", _list_url(site, "changelist")))
        start, end = _span(log, part, parts)
    else:
        start, end = log.first_time(), ""
    low = (part - 1) * PART_SIZE if part else 0
    entries = (
        _entry(
            "url",
            turtle_url(base, c.uri),
            f"<lastmod>{c.time}</lastmod>",
            _md(
                change=c.change,
                datetime=c.time,
                hash="" if c.change == DELETED else f"sha-256:{c.hash}",
                length="" if c.change == DELETED else str(c.length),
                type="" if c.change == DELETED else DOCUMENT_TYPE,
            ),
            _ln("describes", c.uri),
        )
        for c in log.changes(after=low, before=low + PART_SIZE + 1, limit=PART_SIZE)
    )
    return _document(
        "urlset", [*head, _md(capability="changelist", from_=start, until=end)], entries
    )


def _span(log: ChangeLog, part: int, parts: int) -> tuple[str, str]:
    """(from, until) of change list part `part`: the times of its first and last entries; the
    last part is open (no until) since the next build adds to it."""
    low = (part - 1) * PART_SIZE
    first = log.changes(after=low, limit=1)
    start = first[0].time if first else ""
    if part == parts:
        return start, ""
    last = log.changes(before=low + PART_SIZE + 1, newest_first=True, limit=1)
    return start, last[0].time if last else ""


LISTS: dict[str, Callable[[ChangeLog, str, str, int], bytes | None]] = {
    "resourcelist": resource_list,
    "changelist": change_list,
}


def document(log: ChangeLog, site: str, base: str, path: str) -> bytes | None:
    """The ResourceSync document at `path`, or None when there is none."""
    if path == SOURCE_DESCRIPTION:
        return source_description(site, base)
    if path == CAPABILITY_LIST:
        return capability_list(site, base)
    match = _LIST.fullmatch(path)
    if match is None:
        return None
    return LISTS[match[1]](log, site, base, int(match[2] or 0))
