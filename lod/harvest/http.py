"""A polite HTTP client for harvesting: one request at a time, spaced, retried, identified.

Archives run small servers. A harvester says who it is (User-Agent), never sends requests
closer together than `interval`, gives up on a silent server after `timeout`, and backs off
exponentially on server errors, timeouts and dropped connections. When the server says how long
to wait (`Retry-After` on 429 and 503, RFC 9110 section 10.2.3: seconds or an HTTP-date), that is
the wait. After `attempts` tries the harvest stops with an error naming the URL and what failed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
import requests.auth
import urllib3

from lod import __version__
from lod.errors import HarvestError, LodError

USER_AGENT = (
    f"lod/{__version__} (archival linked-data publisher; OAI-PMH and JSON harvester) "
    f"python-requests/{requests.__version__}"
)

READ_CHUNK = 1 << 16
"""Bytes read at a time, between the checks of an answer's size and time."""
RETRY_AFTER_STATUSES = (429, 503)
"""Statuses whose Retry-After header says how long to wait (RFC 6585 section 4; RFC 9110)."""

TRANSIENT = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
"""Failures worth another attempt: the server or the network may recover."""


@dataclass(frozen=True, slots=True)
class Politeness:
    """How lod treats a server. The defaults suit a small archive's server."""

    interval: float = 1.0
    """Minimum seconds between the starts of two requests (retries included)."""
    timeout: float = 30.0
    """Seconds to wait for a connection, and for each piece of the answer."""
    attempts: int = 5
    """Tries per request, the first one included."""
    backoff: float = 2.0
    """Seconds before the first retry; each further retry waits twice as long."""
    max_wait: float = 300.0
    """Longest single wait: backoff stops growing here, and a longer Retry-After ends the
    harvest (with the server's wait in the message) instead of hanging silently."""
    max_bytes: int = 256 * 2**20
    """Longest answer read, decompressed: a source file lod reads is capped at this size too,
    and a server sending without end would otherwise fill the memory."""
    max_read: float = 600.0
    """Longest time to read one answer: `timeout` bounds each piece, not a server that
    trickles a byte at a time for ever."""


class PoliteSession:
    """Requests under a Politeness; counts what it sent (`requests`).

    Harvests only GET; `lod push` also PUTs, POSTs and DELETEs to a SPARQL store, so failures
    are raised as `error` (HarvestError by default) and the give-up message ends with `again`.
    Only idempotent requests may go through here: a retry repeats the request."""

    def __init__(
        self,
        politeness: Politeness | None = None,
        user_agent: str = USER_AGENT,
        *,
        error: type[LodError] = HarvestError,
        again: str = "check the URL and the server, then run the harvest again",
        auth: requests.auth.AuthBase | None = None,
    ) -> None:
        self.politeness = politeness or Politeness()
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.session.auth = auth
        self.error = error
        self.again = again
        self.requests = 0
        self._last_start = float("-inf")

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> PoliteSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        accept: tuple[int, ...] = (),
    ) -> requests.Response:
        """The response to GET url?params once it succeeds (2xx, or a status in `accept`);
        HarvestError when it cannot."""
        return self.request("GET", url, params=params, accept=accept)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: bytes | Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        accept: tuple[int, ...] = (),
        stream: bool = False,
    ) -> requests.Response:
        """The response to `method` url?params once it succeeds (2xx, or a status in
        `accept`); `self.error` when it cannot."""
        try:
            full = requests.Request(method, url, params=dict(params or {})).prepare().url or url
        except requests.RequestException as exc:
            raise self.error(f"{url}: {_describe(exc, 0)}") from None
        p = self.politeness
        problem = ""
        for attempt in range(1, max(1, p.attempts) + 1):
            self._space()
            try:
                response = self.session.request(
                    method,
                    full,
                    data=data,
                    headers=dict(headers or {}),
                    timeout=p.timeout,
                    stream=True,
                )
                if not stream:
                    self._read(response, full)
            except TRANSIENT as exc:
                problem = _describe(exc, p.timeout)
                wait = self._backoff(attempt)
            except requests.RequestException as exc:
                raise self.error(
                    f"{full}: cannot be requested: {_describe(exc, p.timeout)}"
                ) from None
            else:
                status = response.status_code
                if status < 400 or status in accept:
                    return response
                if status < 500 and status != 429:
                    raise self.error(
                        f"{method} {full}: the server answered HTTP {status} {response.reason}"
                        + _detail(response)
                    )
                problem = f"HTTP {status} {response.reason}" + _detail(response)
                wait = self._backoff(attempt)
                if status in RETRY_AFTER_STATUSES:
                    wait = _retry_after(response.headers.get("Retry-After", ""), wait)
            if attempt >= p.attempts:
                break
            if wait > p.max_wait:
                raise self.error(
                    f"{full}: the server asks lod to wait {wait:.0f} s (Retry-After), more than "
                    f"the {p.max_wait:.0f} s it waits; try again later"
                )
            time.sleep(wait)
        tries = f"{p.attempts} attempt{'s' if p.attempts != 1 else ''}"
        raise self.error(f"{method} {full}: gave up after {tries} (last: {problem}); {self.again}")

    def _read(self, response: requests.Response, url: str) -> None:
        """Read the answer into `response` (its .content), within `max_bytes` and `max_read`."""
        p = self.politeness
        deadline = time.monotonic() + p.max_read
        chunks: list[bytes] = []
        size = 0
        with response:
            while chunk := _read_some(response):
                size += len(chunk)
                if size > p.max_bytes:
                    raise self.error(
                        f"{url}: the answer is over {p.max_bytes:,} bytes, more than lod reads; "
                        "ask for smaller pages, or check the URL"
                    )
                if time.monotonic() > deadline:
                    raise self.error(
                        f"{url}: the answer took over {p.max_read:g} s to arrive and is not "
                        "finished; the server is too slow or sends without end"
                    )
                chunks.append(chunk)
        response._content = b"".join(chunks)

    def _space(self) -> None:
        """Wait until `interval` has passed since the last request started."""
        now = time.monotonic()
        ready = self._last_start + self.politeness.interval
        if now < ready:
            time.sleep(ready - now)
        self._last_start = time.monotonic()
        self.requests += 1

    def _backoff(self, attempt: int) -> float:
        p = self.politeness
        return float(min(p.backoff * 2 ** (attempt - 1), p.max_wait))


RAW_FAILURES: tuple[tuple[type[Exception], type[requests.RequestException]], ...] = (
    (urllib3.exceptions.ReadTimeoutError, requests.exceptions.ReadTimeout),
    (urllib3.exceptions.DecodeError, requests.exceptions.ContentDecodingError),
    (urllib3.exceptions.ProtocolError, requests.exceptions.ChunkedEncodingError),
)
"""urllib3's failures while reading an answer, as the requests errors they stand for."""


def _read_some(response: requests.Response) -> bytes:
    """What has arrived of the answer, decompressed, up to READ_CHUNK bytes; b"" at its end.
    Not iter_content: it waits for a whole chunk, so a trickling server is never timed."""
    try:
        return bytes(response.raw.read1(READ_CHUNK, decode_content=True))
    except urllib3.exceptions.HTTPError as exc:
        for raw, failure in RAW_FAILURES:
            if isinstance(exc, raw):
                raise failure(str(exc)) from exc
        raise


def _retry_after(value: str, default: float) -> float:
    """Seconds to wait from a Retry-After value (delay-seconds or HTTP-date); `default` when
    the header is missing or unreadable."""
    value = value.strip()
    if not value:
        return default
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


PROBLEMS: tuple[tuple[type[requests.RequestException], str], ...] = (
    (requests.Timeout, "no answer within {timeout:g} s"),
    (requests.exceptions.InvalidSchema, "not an http(s) URL"),
    (requests.exceptions.MissingSchema, "not an http(s) URL"),
    (requests.exceptions.InvalidURL, "not a valid URL"),
    (requests.exceptions.TooManyRedirects, "too many redirects"),
    (requests.exceptions.SSLError, "the TLS connection failed (certificate?)"),
    (requests.ConnectionError, "the connection failed or was dropped"),
    (requests.exceptions.ChunkedEncodingError, "the connection was dropped mid-answer"),
    (requests.exceptions.ContentDecodingError, "the answer's compression is broken"),
)
"""Request failures in words, the most specific first."""


def _detail(response: requests.Response, limit: int = 300) -> str:
    """The start of an error answer's text: servers say there what they refused and why."""
    if response.request.method == "HEAD" or not response.content:
        return ""
    text = " ".join(response.content[: limit * 4].decode("utf-8", "replace").split())
    return f": {text[:limit]}" if text else ""


def _describe(exc: requests.RequestException, timeout: float) -> str:
    for kind, text in PROBLEMS:
        if isinstance(exc, kind):
            return text.format(timeout=timeout)
    return type(exc).__name__


__all__ = ["USER_AGENT", "Politeness", "PoliteSession"]
