"""A small linked-data server for a built output: thing URIs answer 303 to their describing
document, documents are content-negotiated (Accept, or a file suffix), files carry the right
media types, and every response says `Vary: Accept`.

This is the static site's own server for `lod serve`; it works whatever base URI the build was
made with, because it maps request paths, not hosts.
"""

from __future__ import annotations

import mimetypes
import posixpath
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lod.formats import BY_NAME, BY_SUFFIX, FORMATS, negotiate
from lod.uris import ENTITY_KINDS

STATIC_TYPES = {
    ".jsonld": "application/ld+json; charset=utf-8",
    ".ttl": "text/turtle; charset=utf-8",
    ".nt": "application/n-triples",
    ".rdf": "application/rdf+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".gz": "application/gzip",
    ".jsonl": "application/ld+json; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
WELL_KNOWN = {"/.well-known/void": "text/turtle; charset=utf-8"}
THING_ROOTS = tuple(f"/{kind}/" for kind in ENTITY_KINDS) + ("/dataset",)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes = b""


def resolve(root: Path, method: str, target: str, accept: str) -> Answer:
    """Route one request to an Answer (pure, so tests can call it without sockets)."""
    path = unquote(urlsplit(target).path)
    query = urlsplit(target).query
    normal = posixpath.normpath(path) if path not in ("", "/") else "/"
    if ".." in path.split("/"):
        return _text(HTTPStatus.NOT_FOUND, "not found")
    if normal == "/":
        return _file(root / "index.html", "text/html; charset=utf-8")
    if normal in WELL_KNOWN:
        return _file(root / normal.lstrip("/"), WELL_KNOWN[normal])
    if normal.startswith(THING_ROOTS) and "." not in normal.rsplit("/", 1)[-1]:
        doc = "/doc" + normal
        if (root / ("." + doc + ".html")).exists():
            suffix = ""
            if "format=" in query:
                fmt = BY_NAME.get(query.split("format=", 1)[1].split("&")[0])
                suffix = fmt.suffix if fmt else ""
            return Answer(HTTPStatus.SEE_OTHER, {"Location": doc + suffix, "Vary": "Accept"})
        return _text(HTTPStatus.NOT_FOUND, "no such resource")
    if normal.startswith("/doc/") and "." not in normal.rsplit("/", 1)[-1]:
        fmt = negotiate(accept)
        if fmt is None:
            offers = ", ".join(f.media_type for f in FORMATS)
            return _text(HTTPStatus.NOT_ACCEPTABLE, f"not acceptable; available: {offers}")
        file = root / (normal.lstrip("/") + fmt.suffix)
        answer = _file(file, fmt.content_type)
        if answer.status == HTTPStatus.OK:
            links = [
                f'<{normal}{f.suffix}>; rel="alternate"; type="{f.media_type}"' for f in FORMATS
            ]
            answer.headers.update(
                {
                    "Vary": "Accept",
                    "Content-Location": normal + fmt.suffix,
                    "Link": ", ".join(links),
                }
            )
        return answer
    file = root / normal.lstrip("/")
    suffix = Path(normal).suffix
    fmt = BY_SUFFIX.get(suffix)
    media_type = (
        fmt.content_type
        if fmt
        else STATIC_TYPES.get(suffix)
        or (mimetypes.guess_type(normal)[0] or "application/octet-stream")
    )
    return _file(file, media_type)


def _file(path: Path, media_type: str) -> Answer:
    try:
        if path.is_file() and not path.name.startswith(".") and "store" not in path.parts[-2:-1]:
            return Answer(HTTPStatus.OK, {"Content-Type": media_type}, path.read_bytes())
    except OSError:
        pass
    return _text(HTTPStatus.NOT_FOUND, "not found")


def _text(status: int, message: str) -> Answer:
    return Answer(
        status, {"Content-Type": "text/plain; charset=utf-8"}, (message + "\n").encode("utf-8")
    )


def make_handler(root: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "lod"

        def do_GET(self) -> None:
            self._answer(send_body=True)

        def do_HEAD(self) -> None:
            self._answer(send_body=False)

        def _answer(self, send_body: bool) -> None:
            answer = resolve(root, self.command, self.path, self.headers.get("Accept", ""))
            self.send_response(answer.status)
            headers = {"Access-Control-Allow-Origin": "*", **answer.headers}
            headers["Content-Length"] = str(len(answer.body))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if send_body:
                self.wfile.write(answer.body)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


def make_server(root: Path, host: str, port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), make_handler(root))
    server.daemon_threads = True
    return server
