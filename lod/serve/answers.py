"""Answers of recent SPARQL queries, kept for the build they came from.

A published build never changes, so the same query (text, answer format, dataset) has the same
answer until the next build is swapped in, and the app keeps one cache per build. Librarians
and crawlers ask the curated queries over and over; a kept answer costs no query process, no
query time of the client's allowance and no wait behind other queries. A request with
`Cache-Control: no-cache` (RFC 9111 section 5.2.1.4) or `Pragma: no-cache` is run again, as
benchmarks do. Answers from an external store (`lod serve --store`) are never kept: that
store's data may change under the server.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from http import HTTPStatus

from lod.serve.http import Request, Response

Key = tuple[str, str, tuple[str, ...] | None, tuple[str, ...] | None]

MAX_ANSWER = 1 << 20
"""Larger answers are not kept: they are rarely asked twice and would crowd out the rest."""
MAX_BYTES = 64 << 20
"""All kept answers together."""


@dataclass
class AnswerCache:
    max_bytes: int = MAX_BYTES
    size: int = 0
    kept: OrderedDict[Key, tuple[dict[str, str], bytes]] = field(default_factory=OrderedDict)

    def get(self, key: Key, request: Request) -> Response | None:
        if _no_cache(request):
            return None
        found = self.kept.get(key)
        if found is None:
            return None
        self.kept.move_to_end(key)
        headers, body = found
        return Response(HTTPStatus.OK, dict(headers), body)

    def put(self, key: Key, response: Response) -> None:
        if response.status != HTTPStatus.OK or len(response.body) > MAX_ANSWER:
            return
        old = self.kept.pop(key, None)
        if old is not None:
            self.size -= len(old[1])
        self.kept[key] = (dict(response.headers), response.body)
        self.size += len(response.body)
        while self.size > self.max_bytes:
            _, (_, body) = self.kept.popitem(last=False)
            self.size -= len(body)


def answer_key(
    query: str, fmt: str, default_graphs: list[str] | None, named_graphs: list[str] | None
) -> Key:
    return (
        query,
        fmt,
        None if default_graphs is None else tuple(default_graphs),
        None if named_graphs is None else tuple(named_graphs),
    )


def _no_cache(request: Request) -> bool:
    directives = request.header("cache-control").lower() + "," + request.header("pragma").lower()
    return any(d.strip() in ("no-cache", "no-store") for d in directives.split(","))
