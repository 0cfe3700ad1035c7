"""The change feeds over HTTP: ResourceSync and the Activity Streams collection.

Both are written from the build's one change log, at request time, so they cannot tell
different stories; links between feed documents point where the client found them
(`kinds.site_root`), resources to their URIs under the base.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.utils import formatdate
from http import HTTPStatus

from lod.changelog import ChangeLog
from lod.serve import activity, resourcesync
from lod.serve.http import Request, Response
from lod.serve.kinds import site_root
from lod.serve.linked import not_found

ROOTS = (resourcesync.SOURCE_DESCRIPTION, resourcesync.FOLDER, activity.ROOT)
"""Request paths that start with one of these are the feeds'."""
FEEDS: tuple[tuple[Callable[[ChangeLog, str, str, str], bytes | None], str], ...] = (
    (resourcesync.document, resourcesync.MEDIA_TYPE),
    (activity.document, activity.MEDIA_TYPE),
)
"""Each feed's writer (the document at a path, or None) and the media type it writes."""


def answer(request: Request, log: ChangeLog | None, base: str, origin: str, path: str) -> Response:
    """The feed document at `path`, Last-Modified at the log's last change."""
    if log is None:
        return not_found(request, "this build has no change log; rebuild it to publish feeds")
    site = site_root(base, origin)
    for write, media_type in FEEDS:
        body = write(log, site, base, path)
        if body is not None:
            headers = {"Content-Type": media_type}
            last = log.last_time()
            if last:
                headers["Last-Modified"] = formatdate(
                    datetime.fromisoformat(last).timestamp(), usegmt=True
                )
            return Response(HTTPStatus.OK, headers, body)
    return not_found(request, f"no feed document {path}")
