"""HTTP mechanics shared by every view: the request and response types, CORS, validators
(ETag, Last-Modified, 304), gzip, byte ranges, and error bodies in the negotiated format.

Views build a `Response`; `finish` applies these rules once, in one place, so no view can
forget CORS on a redirect or `Vary` on a negotiated answer.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from functools import lru_cache
from html import escape
from http import HTTPStatus
from pathlib import Path
from stat import S_ISREG
from urllib.parse import parse_qs

from lod.formats import with_charset

SMALL_FILE = 1 << 20
"""Files up to this size are read whole (and may be gzipped); larger ones are streamed."""
CHUNK = 256 * 1024
GZIP_MIN = 512
COMPRESSIBLE = ("text/", "application/ld+json", "application/n-triples", "application/rdf+xml")
COMPRESSIBLE_MORE = ("application/sparql-results", "application/json", "application/xml")
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": (
        "Content-Location, Content-Range, ETag, Link, Location, Vary, "
        "SPARQL-Result-Limit, SPARQL-Result-Truncated, Retry-After"
    ),
}
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src {scripts}; style-src 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'"
)
"""Sent with every HTML answer: a script runs only if its view names it by hash (the query
page's own), so a value that got past the escaping still could not run, and Chromium logs the
refusal. Styles are the pages' inline blocks; the only image is the empty icon `data:,` each
page names so that browsers do not ask for a /favicon.ico the site does not have."""
PREFLIGHT = {
    "Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",
    "Access-Control-Allow-Headers": (
        "Accept, Accept-Encoding, Cache-Control, Content-Type, If-None-Match, "
        "If-Modified-Since, Pragma, Range"
    ),
    "Access-Control-Max-Age": "86400",
}


@dataclass
class Request:
    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    body: bytes = b""
    client: str | None = None
    """Who is asking, for the per-client limits (lod.serve.throttle); None: not limited."""

    @property
    def params(self) -> dict[str, list[str]]:
        return parse_qs(self.query_string, keep_blank_values=True)

    def header(self, name: str) -> str:
        return self.headers.get(name, "")


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    file: Path | None = None
    """A large file to stream instead of `body` (dumps); ranges apply to it."""


def file_response(path: str, media_type: str) -> Response | None:
    """200 with the file's bytes, validators and ranges; None when there is no such file.
    One open and one fstat: this is the hot path of every document request."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, on every path
    except OSError:
        return None
    with handle:
        try:
            stat = os.fstat(handle.fileno())
            if not S_ISREG(stat.st_mode):
                return None
            headers = {
                "Content-Type": media_type,
                "Last-Modified": _http_date(stat.st_mtime),
                "Accept-Ranges": "bytes",
            }
            if stat.st_size > SMALL_FILE:
                headers["ETag"] = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
                return Response(HTTPStatus.OK, headers, file=Path(path))
            body = handle.read()
        except OSError:
            return None
    key = (path, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    etag = _ETAGS.get(key)
    if etag is None:
        if len(_ETAGS) > ETAG_CACHE:
            _ETAGS.clear()
        etag = _ETAGS[key] = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers["ETag"] = etag
    return Response(HTTPStatus.OK, headers, body)


ETAG_CACHE = 200_000
_ETAGS: dict[tuple[str, int, int, int], str] = {}
"""Content-hash ETags of files by (path, inode, mtime, size): the same bytes keep the same ETag
across rebuilds, and hashing happens once per file version."""


@lru_cache(maxsize=4096)
def _http_date(mtime: float) -> str:
    return formatdate(mtime, usegmt=True)


def content_security_policy(*script_hashes: str) -> str:
    """The policy of an HTML answer whose inline scripts have these sha256 hashes (base64)."""
    scripts = " ".join(f"'sha256-{h}'" for h in script_hashes) or "'none'"
    return CONTENT_SECURITY_POLICY.format(scripts=scripts)


_NO_SCRIPT_POLICY = content_security_policy()


def finish(request: Request, response: Response) -> Response:
    """Apply CORS, the content security policy (HTML), validators, conditional requests,
    ranges and gzip to a view's response. Validators and ranges apply to GET and HEAD; gzip to
    any 200 (query results by POST too)."""
    headers = response.headers
    headers.update(CORS)
    headers["X-Content-Type-Options"] = "nosniff"
    if headers.get("Content-Type", "").startswith("text/html"):
        headers.setdefault("Content-Security-Policy", _NO_SCRIPT_POLICY)
    if response.status != HTTPStatus.OK:
        return response
    cacheable = request.method in ("GET", "HEAD")
    if cacheable and "ETag" not in headers and response.file is None:
        headers["ETag"] = '"' + hashlib.blake2b(response.body, digest_size=12).hexdigest() + '"'
    encode = (
        response.file is None
        and len(response.body) >= GZIP_MIN
        and _compressible(headers.get("Content-Type", ""))
    )
    if encode:
        _vary(headers, "Accept-Encoding")
        if _accepts_gzip(request.header("accept-encoding")):
            if "ETag" in headers:
                headers["ETag"] = headers["ETag"][:-1] + '-gzip"'
            headers["Content-Encoding"] = "gzip"
    if cacheable and _not_modified(request, headers):
        kept = {k: v for k, v in headers.items() if k not in ("Content-Type", "Accept-Ranges")}
        return Response(HTTPStatus.NOT_MODIFIED, kept)
    if headers.get("Content-Encoding") == "gzip":
        headers.pop("Accept-Ranges", None)
        response.body = gzip.compress(response.body, compresslevel=5, mtime=0)
    elif cacheable and "Accept-Ranges" in headers and request.header("range"):
        return _ranged(request, response)
    return response


def _vary(headers: dict[str, str], name: str) -> None:
    present = [v.strip() for v in headers.get("Vary", "").split(",") if v.strip()]
    if name not in present:
        headers["Vary"] = ", ".join([*present, name])


def _compressible(media_type: str) -> bool:
    return media_type.startswith(COMPRESSIBLE) or media_type.startswith(COMPRESSIBLE_MORE)


def _accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.strip()
            return not (q.startswith("q=") and _float(q[2:]) <= 0)
    return False


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def _not_modified(request: Request, headers: dict[str, str]) -> bool:
    """RFC 9110 13.1.2/13.1.3: If-None-Match wins; If-Modified-Since only without it."""
    tags = request.header("if-none-match")
    if tags:
        if tags.strip() == "*":
            return True
        wanted = {t.strip().removeprefix("W/") for t in tags.split(",")}
        return headers.get("ETag", "") in wanted
    since = request.header("if-modified-since")
    modified = headers.get("Last-Modified")
    if since and modified:
        try:
            return parsedate_to_datetime(modified) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def _ranged(request: Request, response: Response) -> Response:
    """One byte range (RFC 9110 14.2); several ranges or a stale If-Range get the whole file."""
    size = response.file.stat().st_size if response.file else len(response.body)
    spec = request.header("range").strip()
    if_range = request.header("if-range")
    if if_range and if_range != response.headers.get("ETag"):
        return response
    if not spec.startswith("bytes=") or "," in spec:
        return response
    first, _, last = spec[6:].strip().partition("-")
    try:
        if first:
            start, end = int(first), int(last) if last else size - 1
        else:
            start, end = max(0, size - int(last)), size - 1
    except ValueError:
        return response
    end = min(end, size - 1)
    if start > end or start >= size:
        return Response(
            HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
            {**CORS, "Content-Range": f"bytes */{size}"},
        )
    headers = {**response.headers, "Content-Range": f"bytes {start}-{end}/{size}"}
    if response.file is None:
        return Response(HTTPStatus.PARTIAL_CONTENT, headers, response.body[start : end + 1])
    headers["X-Range"] = f"{start}-{end}"
    return Response(HTTPStatus.PARTIAL_CONTENT, headers, file=response.file)


def file_chunks(response: Response) -> tuple[int, int]:
    """(offset, length) to send of a streamed file, after any range."""
    assert response.file is not None
    span = response.headers.pop("X-Range", "")
    if span:
        start, end = (int(x) for x in span.split("-"))
        return start, end - start + 1
    return 0, os.path.getsize(response.file)


def _comment(message: str) -> str:
    return " ".join(message.split()).replace("--", "- -")


ERROR_BODIES = {
    "text/html": lambda status, message: (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<link rel="icon" href="data:,">'
        f"<title>{status} {escape(HTTPStatus(status).phrase)}</title></head><body>"
        f"<h1>{status} {escape(HTTPStatus(status).phrase)}</h1><p>{escape(message)}</p>"
        '<p><a href="/">Home</a> · <a href="/query">SPARQL query</a> · '
        '<a href="/search">Search</a></p></body></html>\n'
    ),
    "text/turtle": lambda status, message: f"# {status} {_comment(message)}\n",
    "application/n-triples": lambda status, message: f"# {status} {_comment(message)}\n",
    "application/rdf+xml": lambda status, message: (
        f'<?xml version="1.0" encoding="utf-8"?>\n<!-- {status} {_comment(message)} -->\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n'
    ),
    "application/ld+json": lambda status, message: (
        json.dumps({"@graph": [], "error": {"status": status, "message": message}}) + "\n"
    ),
    "application/json": lambda status, message: (
        json.dumps({"error": {"status": status, "message": message}}) + "\n"
    ),
    "text/plain": lambda status, message: f"{status} {HTTPStatus(status).phrase}: {message}\n",
}


def error(status: int, message: str, media_type: str = "text/plain", **headers: str) -> Response:
    """An error answer in `media_type` (one of ERROR_BODIES); the message must be safe to show."""
    media_type = media_type if media_type in ERROR_BODIES else "text/plain"
    body = ERROR_BODIES[media_type](status, message).encode("utf-8")
    return Response(status, {"Content-Type": with_charset(media_type), **headers}, body)


def preflight() -> Response:
    return Response(HTTPStatus.NO_CONTENT, dict(PREFLIGHT))
