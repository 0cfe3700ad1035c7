"""Fair use per client: a request rate, one query at a time, and a budget of query seconds.

A public endpoint is crawled hard; one client must not take the query processes (there are as
many as cores) or the event loop from everyone else. Each client (its address, or the address a
trusted proxy forwarded) has three allowances, and a request over any of them gets 429 Too Many
Requests with Retry-After (RFC 6585 section 4, RFC 9110 section 10.2.3), which crawlers honour,
after a second's pause (PENALTY):

- requests: a token bucket of `client_burst` tokens refilled at `client_rate` per second;
- queries at once: at most `client_queries` SPARQL queries of one client run together;
- query time: a bucket of `client_query_seconds` seconds of query-process time, refilled by that
  much a minute, charged with each query's run time after it ends, so a client whose queries
  ran long waits for its budget to come back before its next query starts.

A trusted proxy's own requests (no X-Forwarded-For) are the operator's (health checks, local
scripts, benchmarks) and are not limited. Each `lod serve` process keeps its own counts.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from ipaddress import ip_address

from lod.config import Config
from lod.errors import ConfigError
from lod.serve.http import Request, Response, error

MAX_CLIENTS = 100_000
"""Clients remembered at once; idle ones with full allowances are forgotten first."""
PENALTY = 1.0
"""Seconds a 429 waits before it is sent (without holding up anyone else): a client that ignores
Retry-After then gets one answer a second per connection, instead of keeping the server busy
refusing it; a client that honours Retry-After never waits for it."""
QUERY_WINDOW = 60.0
"""`client_query_seconds` is given back over this many seconds."""


@dataclass
class Bucket:
    """Tokens refilled continuously up to `size`; taking may overdraw (query time is charged
    after the fact), and a bucket in debt refuses until it is back above zero."""

    size: float
    rate: float
    level: float = 0.0
    stamp: float = 0.0

    def refill(self, now: float) -> float:
        self.level = min(self.size, self.level + (now - self.stamp) * self.rate)
        self.stamp = now
        return self.level

    def wait(self, now: float, need: float) -> float:
        """Seconds until `need` tokens are there (0: they are)."""
        level = self.refill(now)
        return 0.0 if level >= need else (need - level) / self.rate

    def full(self, now: float) -> bool:
        return self.refill(now) >= self.size


@dataclass
class Client:
    requests: Bucket
    seconds: Bucket
    running: int = 0


@dataclass
class Throttle:
    """The allowances of every client this process has seen lately."""

    rate: float
    burst: int
    queries: int
    query_seconds: float
    proxies: frozenset[str]
    clients: dict[str, Client] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Config) -> Throttle:
        proxies = frozenset(_address(p.strip()) for p in config.trusted_proxies.split(",") if p)
        return cls(
            config.client_rate,
            config.client_burst,
            config.client_queries,
            config.client_query_seconds,
            proxies,
        )

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def client_of(self, peer: str, request: Request) -> str | None:
        """Who is asking: the peer, or the last address a trusted proxy forwarded; None for a
        trusted proxy's own request, which is not limited."""
        if peer not in self.proxies:
            return peer
        forwarded = [a.strip() for a in request.header("x-forwarded-for").split(",") if a.strip()]
        for hop in reversed(forwarded):
            if hop not in self.proxies:
                return hop
        return None

    def admit(self, client: str | None) -> Response | None:
        """Take one request token; a 429 when the client has none left."""
        if client is None or not self.enabled:
            return None
        now = time.monotonic()
        state = self._client(client, now)
        wait = state.requests.wait(now, 1.0)
        if wait > 0:
            return too_many(wait, f"over {self.rate:g} requests a second")
        state.requests.level -= 1.0
        return None

    @contextmanager
    def query(self, client: str | None) -> Iterator[Response | None]:
        """Hold one of the client's query slots while its query runs, then charge its time;
        yields a 429 instead when the client is at its limit."""
        if client is None or not self.enabled:
            yield None
            return
        now = time.monotonic()
        state = self._client(client, now)
        if state.running >= self.queries:
            yield too_many(1.0, f"over {self.queries} queries at once")
            return
        wait = state.seconds.wait(now, 0.0)
        if wait > 0:
            yield too_many(wait, f"over {self.query_seconds:g} seconds of query time a minute")
            return
        state.running += 1
        try:
            yield None
        finally:
            state.running -= 1
            state.seconds.refill(time.monotonic())
            state.seconds.level -= time.monotonic() - now

    def _client(self, client: str, now: float) -> Client:
        state = self.clients.get(client)
        if state is None:
            if len(self.clients) >= MAX_CLIENTS:
                self._forget(now)
            state = self.clients[client] = Client(
                Bucket(self.burst, self.rate, self.burst, now),
                Bucket(
                    self.query_seconds,
                    self.query_seconds / QUERY_WINDOW,
                    self.query_seconds,
                    now,
                ),
            )
        return state

    def _forget(self, now: float) -> None:
        """Drop clients back at full allowances; if none is, the oldest half."""
        idle = [
            key
            for key, c in self.clients.items()
            if not c.running and c.requests.full(now) and c.seconds.full(now)
        ]
        for key in idle or list(self.clients)[: len(self.clients) // 2]:
            del self.clients[key]


def too_many(wait: float, why: str) -> Response:
    seconds = max(1, math.ceil(wait))
    return error(
        HTTPStatus.TOO_MANY_REQUESTS,
        f"too many requests from this client ({why}); retry after {seconds} s",
        **{"Retry-After": str(seconds)},
    )


def _address(text: str) -> str:
    try:
        return str(ip_address(text))
    except ValueError as exc:
        raise ConfigError(
            f"trusted_proxies: {text!r} is not an IP address; list addresses separated by commas"
        ) from exc
