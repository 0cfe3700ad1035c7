"""The query page in a real headless Chromium: a librarian's query runs in the page's own
JavaScript, its results link to records, and following a link lands on the record page.

Skipped where Chromium is not installed (`make test` installs it when run as root, as in CI).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from html import unescape
from pathlib import Path
from urllib.parse import quote

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
SENT_BY_MAO = """SELECT ?record ?title WHERE {
  ?mao schema:name "Mao Zedong" .
  ?record schema:sender ?mao ; dcterms:title ?title .
}"""


def dom(url: str) -> str:
    """The page's DOM after its scripts ran (a virtual-time budget lets the fetch finish)."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=15000",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            timeout=90,
            check=True,
        )
    return done.stdout.decode("utf-8")


def test_query_sent_by_mao_and_follow_a_result(records_server: str, records_site: Path) -> None:
    page = dom(f"{records_server}/query?query={quote(SENT_BY_MAO)}")
    status = re.search(r'<div id="status"[^>]*>([^<]*)</div>', page)
    assert status and status.group(1).startswith("1 result"), status
    links = re.findall(r'<td><a href="([^"]+)">([^<]+)</a>', page)
    assert links == [("/record/112095", "http://127.0.0.1:8000/record/112095")]
    record = dom(records_server + links[0][0])
    title = re.search(r"<h1>([^<]*)</h1>", record)
    assert title and unescape(title.group(1)).startswith("Telegram from Mao Zedong to I.V. Stalin")


def test_example_queries_run_in_the_page(records_server: str) -> None:
    page = dom(f"{records_server}/query?example=telegrams-by-sender-and-year")
    status = re.search(r'<div id="status"[^>]*>([^<]*)</div>', page)
    assert status and status.group(1).startswith("1 result"), status
    assert '<a href="/record/112095">' in page
