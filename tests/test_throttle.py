"""Fair use per client (lod.serve.throttle) over real HTTP: clients are told apart by their
address (each test client binds its own loopback address, 127.0.0.N), a client over its
allowance gets 429 with Retry-After, and nobody else notices."""

from __future__ import annotations

import http.client
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

import lod.serve.throttle as throttle_module
from lod.config import Config
from lod.errors import ConfigError
from lod.serve.http import Request
from lod.serve.throttle import Throttle
from tests.conftest import running_server

CROSS_PRODUCT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
ASK = "ASK { ?s ?p ?o }"


def call(
    url: str, path: str, source: str = "127.0.0.1", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    """GET `path` from the loopback address `source`: a client of its own to the server."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname or "", parts.port, timeout=30, source_address=(source, 0)
    )
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, headers, response.read().decode()
    finally:
        connection.close()


def query(url: str, text: str, source: str) -> tuple[int, dict[str, str], str]:
    return call(url, f"/sparql?query={quote(text)}", source, {"Accept": "application/json"})


def test_a_client_over_its_rate_gets_429_and_others_do_not(records_site: Path) -> None:
    with running_server(records_site, client_rate="2", client_burst="10") as url:
        statuses = [call(url, "/robots.txt", "127.0.0.2")[0] for _ in range(10)]
        assert statuses == [200] * 10
        status, headers, body = call(url, "/robots.txt", "127.0.0.2")
        assert status == 429 and headers["retry-after"] == "1"
        assert "2 requests a second" in body
        assert call(url, "/robots.txt", "127.0.0.3")[0] == 200
        local = [call(url, "/robots.txt")[0] for _ in range(30)]
        assert local == [200] * 30, "the operator's own loopback requests are not limited"
        time.sleep(1.1)
        assert call(url, "/robots.txt", "127.0.0.2")[0] == 200, "the bucket refills"


def test_a_trusted_proxy_names_the_client(records_site: Path) -> None:
    with running_server(records_site, client_rate="1", client_burst="3") as url:
        forwarded = {"X-Forwarded-For": "203.0.113.9"}
        assert [call(url, "/robots.txt", headers=forwarded)[0] for _ in range(4)] == [
            200,
            200,
            200,
            429,
        ]
        assert call(url, "/robots.txt", headers={"X-Forwarded-For": "203.0.113.10"})[0] == 200
        spoofed = {"X-Forwarded-For": "198.51.100.1"}
        statuses = [call(url, "/robots.txt", "127.0.0.4", spoofed)[0] for _ in range(4)]
        assert statuses[-1] == 429, "an untrusted peer's X-Forwarded-For is ignored"


def test_one_query_at_a_time_per_client(records_site: Path) -> None:
    with running_server(records_site, query_timeout="3", query_workers="2") as url:
        with ThreadPoolExecutor(2) as pool:
            slow = pool.submit(query, url, CROSS_PRODUCT, "127.0.0.5")
            time.sleep(0.5)
            status, headers, body = query(url, ASK, "127.0.0.5")
            assert status == 429 and headers["retry-after"] == "1"
            assert "1 queries at once" in body
            assert query(url, ASK, "127.0.0.6")[0] == 200, "another client's query runs"
            assert slow.result()[0] == 503


def test_a_client_whose_queries_ran_long_waits(records_site: Path) -> None:
    settings = {"query_timeout": "2", "client_query_seconds": "1"}
    with running_server(records_site, **settings) as url:
        assert query(url, CROSS_PRODUCT, "127.0.0.7")[0] == 503
        status, headers, body = query(url, ASK, "127.0.0.7")
        assert status == 429 and "1 seconds of query time a minute" in body
        # the 2 s query overdrew a 1 s budget refilled at 1 s a minute: about a minute per second over
        assert 55 <= int(headers["retry-after"]) <= 125, headers["retry-after"]
        assert call(url, "/robots.txt", "127.0.0.7")[0] == 200, "documents are still served"
        assert query(url, ASK, "127.0.0.8")[0] == 200


def test_clients_are_forgotten_when_the_table_is_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(throttle_module, "MAX_CLIENTS", 3)
    throttle = Throttle.from_config(Config(client_rate=1000.0, client_burst=2))
    for n in range(10):
        assert throttle.admit(f"198.51.100.{n}") is None
        assert len(throttle.clients) <= 3
    assert "198.51.100.9" in throttle.clients


def test_who_is_asking() -> None:
    throttle = Throttle.from_config(Config(trusted_proxies="127.0.0.1, ::1, 10.0.0.2"))
    request = Request("GET", "/", "", {"x-forwarded-for": "198.51.100.7, 203.0.113.1, 10.0.0.2"})
    assert throttle.client_of("127.0.0.1", request) == "203.0.113.1"
    assert throttle.client_of("192.0.2.1", request) == "192.0.2.1"
    assert throttle.client_of("::1", Request("GET", "/", "", {})) is None
    with pytest.raises(ConfigError, match="trusted_proxies: 'localhost'"):
        Throttle.from_config(Config(trusted_proxies="localhost"))
