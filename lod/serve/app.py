"""`lod serve`: the ASGI app over a built output folder, and the uvicorn server that runs it.

A request walks: ASGI scope -> `Request` -> route table -> view -> `finish` (CORS, validators,
gzip, ranges) -> ASGI messages. The app follows rebuilds: `lod build` swaps a new output folder
in, the app notices (the folder's build.json is a new file) and answers from the new build,
while queries already running finish on the old one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lod.changelog import open_log
from lod.config import Config
from lod.errors import LodError
from lod.formats import negotiate
from lod.namespaces import prefixes_for
from lod.publish.site import finish_commit
from lod.serve import endpoint, feeds, linked, oai, pages
from lod.serve.answers import AnswerCache, answer_key
from lod.serve.http import CHUNK, Request, Response, error, file_chunks, finish, preflight
from lod.serve.pool import QueryPool, Runner, Setup
from lod.serve.remote import RemotePool
from lod.serve.throttle import PENALTY, Throttle
from lod.store import BUILD_INFO, STORE_DIR, die_with_parent
from lod.textindex import INDEX_FILE, TextIndex

RECHECK = 1.0
"""Seconds between checks for a rebuilt output folder."""
FRESH = {"/oai"}
"""Paths (with the feeds') that look for a new build on every request: a harvester that goes
on the responseDate of an answer from the old build must find every change the new build's
log stamps (ChangeLog.publish), so no answer may come from the old build once the new one is
in place. A stat per request; document requests check once a second."""
MAX_BODY = endpoint.MAX_BODY
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class Build:
    """One published build: its base URI, prefixes, triple count, query pool, search index."""

    def __init__(self, root: Path, config: Config) -> None:
        info_path = root / BUILD_INFO
        try:
            stat = info_path.stat()
            info = json.loads(info_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LodError(
                f"{root} is not a lod build (no readable {BUILD_INFO}); run `lod build --out {root}`"
            ) from exc
        self.identity = (stat.st_ino, stat.st_mtime_ns)
        self.root = root
        self.folder = str(root)
        """The folder as a string: request paths are joined to it without pathlib's overhead."""
        self.base: str = info["base_uri"]
        self.title: str = info.get("title", "lod archive")
        self.triples: int = int(info.get("triples", 0))
        self.prefixes = prefixes_for(self.base + "vocab/lod#")
        self.search_iri = self.base + "vocab/lod#search"
        index = root / INDEX_FILE
        self.index = TextIndex(index) if index.is_file() else None
        self.log = open_log(root)
        """The change log behind OAI-PMH, the feeds and tombstones (None for older builds)."""
        self._config = config
        self._pool: Runner | None = None
        self.remote = (
            RemotePool(config, self.base, self.index.uris if self.index else None)
            if config.store
            else None
        )
        """The external store (`lod serve --store`) answering queries and documents."""
        self.answers = AnswerCache() if self.remote is None else None
        """Answers of recent queries on this build (lod.serve.answers)."""

    @property
    def pool(self) -> Runner:
        """Started on the first query: serving documents needs no query processes."""
        if self.remote is not None:
            return self.remote
        if self._pool is None:
            setup = Setup(
                str(self.root / STORE_DIR),
                str(self.root / INDEX_FILE),
                self.base + "vocab/lod#",
                self.base,
            )
            size = self._config.query_workers or os.cpu_count() or 1
            self._pool = QueryPool(setup, size, self._config.query_timeout)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        if self.remote is not None:
            self.remote.close()
        if self.index is not None:
            self.index.close()
        if self.log is not None:
            self.log.close()


@dataclass
class App:
    """The ASGI application for one output folder."""

    root: Path
    config: Config

    def __post_init__(self) -> None:
        self.root = self.root.resolve()
        self._stuck = False
        self._finish_commit()
        self.build = Build(self.root, self.config)
        self.throttle = Throttle.from_config(self.config)
        self._checked = time.monotonic()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = _request(scope)
        peer = scope.get("client")
        request.client = self.throttle.client_of(peer[0] if peer else "", request)
        try:
            response = self.throttle.admit(request.client)
            if response is not None:
                await asyncio.sleep(PENALTY)
            else:
                response = await self._body(request, receive)
            if response is None:
                response = await self.route(request)
        except Exception as exc:  # the one handler: logged here, never shown to the client
            print(f"lod serve: {request.method} {request.path}: {exc!r}", file=sys.stderr)
            response = error(HTTPStatus.INTERNAL_SERVER_ERROR, "the server could not answer")
        await _send(finish(request, response), request.method, send)

    async def route(self, request: Request) -> Response:
        build = self._current(fresh=request.path in FRESH or request.path.startswith(feeds.ROOTS))
        path = linked.clean_path(request.path)
        if path is None:
            return linked.not_found(request, "no such path")
        if request.method == "OPTIONS":
            return preflight()
        view = ROUTES.get(path)
        if view is not None:
            return await view(self, build, request)
        if request.method not in ("GET", "HEAD"):
            return error(
                HTTPStatus.METHOD_NOT_ALLOWED,
                f"{request.method} is not allowed here; this site is read-only",
                Allow="GET, HEAD, OPTIONS",
            )
        if path.startswith(feeds.ROOTS):
            origin = _origin(request)
            return await asyncio.to_thread(
                feeds.answer, request, build.log, build.base, origin, path
            )
        if path.startswith("/doc/") and build.remote is not None:
            return await asyncio.to_thread(
                linked.store_document, build.remote, request, path, build.log, build.base
            )
        if path.startswith("/doc/"):
            return linked.document(build.folder, request, path, build.log, build.base)
        if linked.is_thing(path):
            return linked.thing(
                build.folder, request, path, self.config.thing_redirect, build.log, build.base
            )
        return linked.static(build.folder, request, path)

    async def sparql(self, build: Build, request: Request) -> Response:
        parsed = endpoint.parse(request)
        if isinstance(parsed, Response):
            return parsed
        accept = request.header("accept")
        if parsed is None:
            wants_page = negotiate(accept, endpoint.GRAPH_OFFERS)
            if wants_page is not None and wants_page.name == "html":
                return self._negotiated_page(build, request)
            endpoint_uri = f"{_origin(request)}/sparql"
            return endpoint.service_description(endpoint_uri, build.triples, accept)
        checked = endpoint.choose(parsed, accept, build.search_iri, build.prefixes)
        if isinstance(checked, Response):
            return checked
        chosen, analysis = checked
        if chosen.name == "html":
            return self._negotiated_page(build, request)
        fmt = f"{chosen.name} {chosen.media_type}"
        key = answer_key(parsed.query, fmt, parsed.default_graphs, parsed.named_graphs)
        kept = build.answers.get(key, request) if build.answers is not None else None
        if kept is not None:
            return kept
        with self.throttle.query(request.client) as refused:
            if refused is not None:
                await asyncio.sleep(PENALTY)
                return refused
            response = await endpoint.answer(
                build.pool, parsed, chosen, self.config.query_row_limit, analysis
            )
        if build.answers is not None:
            build.answers.put(key, response)
        return response

    def _negotiated_page(self, build: Build, request: Request) -> Response:
        """The query page, where /sparql answers HTML by `Accept`: a shared cache must not give
        it to a SPARQL client asking for results at the same URL."""
        page = self._query_page(build, request)
        page.headers["Vary"] = "Accept"
        return page

    async def query(self, build: Build, request: Request) -> Response:
        if request.method not in ("GET", "HEAD", "POST"):
            return error(HTTPStatus.METHOD_NOT_ALLOWED, "use GET", Allow="GET, HEAD, OPTIONS")
        return self._query_page(build, request)

    def _query_page(self, build: Build, request: Request) -> Response:
        return pages.query_page(
            request,
            build.title,
            build.base,
            build.prefixes,
            self.config.query_timeout,
            self.config.query_row_limit,
        )

    async def search(self, build: Build, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return error(HTTPStatus.METHOD_NOT_ALLOWED, "use GET", Allow="GET, HEAD, OPTIONS")
        return await asyncio.to_thread(
            pages.search_view, request, build.index, build.title, build.base
        )

    async def oai(self, build: Build, request: Request) -> Response:
        if build.log is None:
            return error(
                HTTPStatus.NOT_FOUND,
                "this build has no change log, which OAI-PMH is served from; "
                "rebuild it with this version of lod",
            )
        repository = oai.Repository(
            build.log,
            build.folder,
            build.base,
            build.title,
            f"{_origin(request)}/oai",
            self.config.admin_email,
            max(1, self.config.oai_page_size),
            self.config.publisher,
        )
        return await asyncio.to_thread(oai.answer, repository, request)

    def _current(self, *, fresh: bool = False) -> Build:
        """The build now in the folder; a rebuilt one replaces the old (checked once a second,
        or on every request when `fresh`)."""
        now = time.monotonic()
        if not fresh and now - self._checked < RECHECK:
            return self.build
        self._checked = now
        self._finish_commit()
        try:
            stat = (self.root / BUILD_INFO).stat()
        except OSError:
            return self.build
        if (stat.st_ino, stat.st_mtime_ns) != self.build.identity:
            old, self.build = self.build, Build(self.root, self.config)
            old.close()
        return self.build

    def _finish_commit(self) -> None:
        """A build killed while moving its files in leaves the folder half old, half new until
        the commit is finished (lod.publish.incremental); the server finishes it rather than
        serve the mix until the next build. Costs a stat a second otherwise."""
        try:
            finish_commit(self.root)
        except (OSError, LodError) as exc:
            if not self._stuck:  # say it once, not every second
                print(f"lod serve: {self.root}: {exc}", file=sys.stderr)
            self._stuck = True

    async def _body(self, request: Request, receive: Receive) -> Response | None:
        """Read the body, refusing one over MAX_BODY (by Content-Length or as it arrives)."""
        declared = request.header("content-length")
        if declared.isdigit() and int(declared) > MAX_BODY:
            return _too_large()
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                return _too_large()
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        request.body = b"".join(chunks)
        return None

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.build.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


View = Callable[[App, Build, Request], Awaitable[Response]]
ROUTES: dict[str, View] = {
    "/sparql": App.sparql,
    "/query": App.query,
    "/search": App.search,
    "/oai": App.oai,
}


def _too_large() -> Response:
    return error(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        f"the request body is over {MAX_BODY // (1 << 20)} MB",
        Connection="close",
    )


def _request(scope: Scope) -> Request:
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    raw = scope.get("raw_path")
    return Request(
        scope["method"],
        # raw_path is still percent-encoded, so the path is decoded exactly once (clean_path)
        raw.decode("latin-1") if isinstance(raw, bytes) else quote(scope["path"]),
        scope.get("query_string", b"").decode("latin-1"),
        headers,
    )


_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def _origin(request: Request) -> str:
    """This server's origin as the client named it (a malformed Host falls back to loopback)."""
    host = request.header("host")
    return f"http://{host if _HOST.fullmatch(host) else '127.0.0.1'}"


async def _send(response: Response, method: str, send: Send) -> None:
    headers = [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()
    ]
    if response.file is None:
        if response.status != HTTPStatus.NOT_MODIFIED:
            # A 304 has no body; a length there would have to be the 200's (RFC 9110 8.6).
            headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        body = response.body if method != "HEAD" else b""
        await send({"type": "http.response.body", "body": body})
        return
    offset, length = file_chunks(response)
    headers.append((b"content-length", str(length).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    if method == "HEAD":
        await send({"type": "http.response.body", "body": b""})
        return
    with response.file.open("rb") as handle:
        handle.seek(offset)
        while length > 0:
            chunk = handle.read(min(length, CHUNK))
            if not chunk:
                break
            length -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": length > 0})
    if length > 0:
        await send({"type": "http.response.body", "body": b""})


def run(root: Path, config: Config, host: str, port: int, on_ready: Callable[[str], None]) -> None:
    """Serve `root` until interrupted: one uvicorn process, or `serve_workers` forked ones
    sharing the listening socket (each with its own app, query pool and connections)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        raise LodError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(2048)
    App(root, config).build.close()  # fail here, once, if root is no build
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    on_ready(f"http://{shown}:{sock.getsockname()[1]}/")
    if config.serve_workers <= 1:
        _serve_socket(root, config, sock)
        return
    children = []
    parent = os.getpid()
    for _ in range(config.serve_workers):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                # Killed with -9, the parent cannot stop its workers; orphans would keep the
                # port, and a restarted server could not listen on it.
                die_with_parent(parent)
                _serve_socket(root, config, sock)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        children.append(pid)

    def stop(signum: int, frame: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        os.waitpid(child, 0)


def _serve_socket(root: Path, config: Config, sock: socket.socket) -> None:
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(
            App(root, config),
            lifespan="on",
            log_level="warning",
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=5,
        )
    )
    server.run(sockets=[sock])
