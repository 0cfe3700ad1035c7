"""The change log as an Activity Streams 2.0 change feed, in the pattern of the LD4 Entity
Metadata Management API 1.0: an OrderedCollection (the entry point) at /activity and
OrderedCollectionPages (change sets) at /activity/page/{n}, each change a Create, Update or
Delete whose `object` is the thing URI.

Newest first, as Activity Streams reads an OrderedCollection: `first` is the newest page, `next`
leads to older ones, and items run newest first within a page (EMM 3.2 asks for one consistent
order). Pages are numbered from the oldest and hold log entries (n-1)*PAGE_SIZE+1 to
n*PAGE_SIZE, so a full page never changes: a consumer reads from `first` until it meets the
`endTime` it stopped at last time.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lod.changelog import CREATED, DELETED, UPDATED, Change, ChangeLog
from lod.serve.kinds import class_of

CONTEXT = "https://www.w3.org/ns/activitystreams"
MEDIA_TYPE = f'application/ld+json; profile="{CONTEXT}"'
ROOT = "/activity"
PAGE_SIZE = 1000
ACTIVITY_TYPES = {CREATED: "Create", UPDATED: "Update", DELETED: "Delete"}
SUMMARY = "Changes to the records and entities of this dataset, newest first"

_PAGE = re.compile(r"/activity/page/([1-9][0-9]{0,8})")


def _pages(log: ChangeLog) -> int:
    return -(-log.last_seq() // PAGE_SIZE)


def _ref(site: str, page: int) -> dict[str, str]:
    return {"id": f"{site}{ROOT[1:]}/page/{page}", "type": "OrderedCollectionPage"}


def collection(log: ChangeLog, site: str) -> dict[str, Any]:
    """The entry point (EMM 3.1): how many changes, and where the newest and oldest pages are."""
    pages = _pages(log)
    entry: dict[str, Any] = {
        "@context": CONTEXT,
        "id": site + ROOT[1:],
        "type": "OrderedCollection",
        "summary": SUMMARY,
        "totalItems": log.last_seq(),
    }
    if pages:
        entry["first"] = _ref(site, pages)
        entry["last"] = _ref(site, 1)
    return entry


def page(log: ChangeLog, site: str, base: str, number: int) -> dict[str, Any] | None:
    """Change set `number` (EMM 3.2), or None past the last one."""
    pages = _pages(log)
    if not 1 <= number <= pages:
        return None
    low = (number - 1) * PAGE_SIZE
    changes = log.changes(after=low, before=low + PAGE_SIZE + 1, limit=PAGE_SIZE, newest_first=True)
    body: dict[str, Any] = {
        "@context": CONTEXT,
        **_ref(site, number),
        "partOf": {"id": site + ROOT[1:], "type": "OrderedCollection"},
        "totalItems": len(changes),
    }
    if number < pages:
        body["prev"] = _ref(site, number + 1)
    if number > 1:
        body["next"] = _ref(site, number - 1)
    body["orderedItems"] = [_activity(change, base) for change in changes]
    return body


def _activity(change: Change, base: str) -> dict[str, Any]:
    """One change (EMM 3.3 and 4): the thing URI, its class, when, and a line saying what."""
    kind = ACTIVITY_TYPES[change.change]
    summary = f"{kind} {change.kind} {change.title}".rstrip()
    if change.reason:
        summary += f": {change.reason}"
    thing = {"id": change.uri, "type": class_of(change.kind, change.uri, base)}
    if change.title:
        thing["name"] = change.title
    thing["updated"] = change.time
    return {
        "type": kind,
        "summary": summary,
        "published": change.time,
        "endTime": change.time,
        "object": thing,
    }


def document(log: ChangeLog, site: str, base: str, path: str) -> bytes | None:
    """The feed document at `path`, or None when there is none."""
    if path == ROOT:
        body = collection(log, site)
    else:
        match = _PAGE.fullmatch(path)
        found = page(log, site, base, int(match[1])) if match else None
        if found is None:
            return None
        body = found
    return (json.dumps(body, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
