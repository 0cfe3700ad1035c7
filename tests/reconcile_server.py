"""A small W3C Reconciliation Service on 127.0.0.1 for `lod reconcile`'s tests.

A real HTTP server (http.server in a thread): GET on /api without `queries` answers the service
manifest; with `queries` it answers each query from the candidates the test put in, by name.
Statuses the test queues (500, 429 + Retry-After) answer the next query requests instead. Every
request is logged with its time, query and User-Agent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.loopback import loopback


@dataclass
class Seen:
    at: float
    queries: dict[str, Any]
    user_agent: str


@dataclass
class Service:
    """Candidates by query text: [(id, name, score, match)]."""

    candidates: dict[str, list[tuple[str, str, float, bool]]] = field(default_factory=dict)
    faults: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    manifest: dict[str, Any] = field(
        default_factory=lambda: {
            "versions": ["0.2"],
            "name": "Test reconciliation service",
            "identifierSpace": "http://www.wikidata.org/entity/",
            "schemaSpace": "http://www.wikidata.org/prop/direct/",
            "view": {"url": "https://www.wikidata.org/wiki/{{id}}"},
        }
    )
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, queries: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for key, query in queries.items():
            found = self.candidates.get(query["query"], [])[: int(query.get("limit", 3))]
            out[key] = {
                "result": [
                    {"id": i, "name": n, "score": s, "match": m, "type": [{"id": "Q5"}]}
                    for i, n, s, m in found
                ]
            }
        return out


def _handler(service: Service) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            raw = parse_qs(parts.query).get("queries", [""])[0]
            queries = json.loads(raw) if raw else {}
            with service.lock:
                service.seen.append(
                    Seen(time.monotonic(), queries, self.headers.get("User-Agent", ""))
                )
                fault = service.faults.pop(0) if queries and service.faults else None
            if fault is not None:
                self._send(fault[0], b"failure", fault[1])
            elif parts.path != "/api":
                self._send(404, b"{}", {})
            else:
                body = service.answer(queries) if queries else service.manifest
                self._send(200, json.dumps(body).encode(), {})

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serving(service: Service) -> Iterator[str]:
    """Run the service on a free port of 127.0.0.1; yields its endpoint URL."""
    with loopback(_handler(service)) as url:
        yield url + "/api"
