"""Kept answers (lod.serve.answers): a repeated query is answered without a query process,
`Cache-Control: no-cache` runs it again, and a rebuild starts afresh."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from lod.config import Config
from lod.publish.site import build
from lod.serve.answers import AnswerCache, answer_key
from lod.serve.http import Request, Response
from tests.conftest import BASE, RECORDS, running_server

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } LIMIT 1"


def ask(url: str, query: str, **headers: str) -> requests.Response:
    return requests.get(
        url + "/sparql",
        params={"query": query},
        headers={"Accept": "application/sparql-results+json", **headers},
        timeout=60,
    )


def test_a_repeated_query_is_answered_from_the_kept_answer(records_site: Path) -> None:
    # one query process, a 2 s limit: while the cross product holds the process, only a kept
    # answer can come back at once; a query that really runs waits for the process
    with running_server(records_site, query_workers="1", query_timeout="2") as url:
        first = ask(url, COUNT)
        assert first.status_code == 200
        with ThreadPoolExecutor(2) as pool:
            slow = pool.submit(ask, url, SLOW)
            time.sleep(0.3)
            started = time.monotonic()
            again = ask(url, COUNT)
            assert time.monotonic() - started < 0.5, "answered while the process was busy"
            assert again.content == first.content and again.headers["ETag"] == first.headers["ETag"]
            assert slow.result().status_code == 503
            slow = pool.submit(ask, url, SLOW)
            time.sleep(0.3)
            started = time.monotonic()
            ask(url, COUNT, **{"Cache-Control": "no-cache"})
            assert time.monotonic() - started >= 1.0, "no-cache waited for the busy process"
            slow.result()
        started = time.monotonic()
        assert ask(url, SLOW).status_code == 503
        assert time.monotonic() - started >= 1.5, "the 503 was not kept: it ran again"
        csv = ask(url, COUNT, Accept="text/csv")
        assert csv.headers["Content-Type"].startswith("text/csv"), "the format is in the key"


def test_a_rebuild_starts_a_fresh_cache(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(RECORDS, src)
    out = tmp_path / "site"
    config = Config(base_uri=BASE, progress=False)
    build([src], out, config)
    with running_server(out) as url:
        before = ask(url, COUNT).json()["results"]["bindings"][0]["n"]["value"]
        assert ask(url, COUNT).json()["results"]["bindings"][0]["n"]["value"] == before
        (src / "112095.txt").write_text(
            (RECORDS / "112095.txt")
            .read_text(encoding="utf-8")
            .replace("Telegram from Mao", "Telegram sent by Mao", 1),
            encoding="utf-8",
        )
        extra = src / "extra.txt"
        extra.write_text(
            (RECORDS / "112095.txt").read_text(encoding="utf-8").replace("112095", "990001"),
            encoding="utf-8",
        )
        build([src], out, config)
        deadline = time.monotonic() + 10
        after = before
        while after == before and time.monotonic() < deadline:
            time.sleep(0.3)
            after = ask(url, COUNT).json()["results"]["bindings"][0]["n"]["value"]
        assert int(after) > int(before)


def test_the_cache_keeps_to_its_budget() -> None:
    cache = AnswerCache(max_bytes=250)
    request = Request("GET", "/sparql", "", {})
    for n in range(5):
        cache.put(answer_key(f"q{n}", "json", None, None), Response(200, {}, b"x" * 100))
        assert cache.size <= 250
    assert cache.get(answer_key("q0", "json", None, None), request) is None
    assert cache.get(answer_key("q4", "json", None, None), request) is not None
    cache.put(answer_key("error", "json", None, None), Response(503, {}, b"busy"))
    assert cache.get(answer_key("error", "json", None, None), request) is None
    no_cache = Request("GET", "/sparql", "", {"cache-control": "max-age=0, no-cache"})
    assert cache.get(answer_key("q4", "json", None, None), no_cache) is None
