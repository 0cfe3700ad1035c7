"""deploy/nginx.conf in a real nginx on 127.0.0.1: the static-host content negotiation works.

Skipped where no nginx binary is installed (`make test` installs it when run as root, as CI is).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from lod.serve.http import content_security_policy
from tests.conftest import ENCODED_IDS, ROOT, free_port, wait_until_answering

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed")


@contextmanager
def serving(site: Path, work: Path) -> Iterator[str]:
    """deploy/nginx.conf in a real nginx, over `site`; yields its base URL."""
    port = free_port()
    server = (ROOT / "deploy" / "nginx.conf").read_text()
    server = server.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{port};")
    server = server.replace("root /srv/lod/site;", f"root {site};")
    (work / "nginx.conf").write_text(
        "daemon off; master_process off; worker_processes 1;\n"
        f"pid {work}/nginx.pid; error_log {work}/error.log;\n"
        "events { worker_connections 64; }\n"
        f"http {{ access_log off; client_body_temp_path {work}; proxy_temp_path {work};\n"
        f"fastcgi_temp_path {work}; uwsgi_temp_path {work}; scgi_temp_path {work};\n"
        f"{server}\n}}\n"
    )
    assert NGINX is not None
    proc = subprocess.Popen([NGINX, "-p", str(work), "-c", str(work / "nginx.conf")])
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(url + "/index.html", proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def nginx(records_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(records_site, tmp_path_factory.mktemp("nginx")) as url:
        yield url


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        ("text/turtle", "text/turtle"),
        ("application/ld+json", "application/ld+json"),
        ("application/n-triples", "application/n-triples"),
        ("application/rdf+xml", "application/rdf+xml"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "text/html"),
    ],
)
def test_nginx_negotiates(nginx: str, accept: str, media: str) -> None:
    r = requests.get(
        nginx + "/record/112095", headers={"Accept": accept}, allow_redirects=False, timeout=5
    )
    assert r.status_code == 303 and r.headers["Location"].endswith("/doc/record/112095")
    doc = requests.get(nginx + "/doc/record/112095", headers={"Accept": accept}, timeout=5)
    assert doc.status_code == 200 and doc.headers["Content-Type"].startswith(media)
    assert doc.headers["Vary"] == "Accept" and doc.headers["Access-Control-Allow-Origin"] == "*"
    assert doc.headers["Content-Security-Policy"] == content_security_policy()
    assert doc.headers["X-Content-Type-Options"] == "nosniff"


def test_nginx_void_and_store(nginx: str) -> None:
    void = requests.get(nginx + "/.well-known/void", timeout=5)
    assert void.status_code == 200 and void.headers["Content-Type"].startswith("text/turtle")
    assert void.headers["Vary"] == "Accept" and void.headers["X-Content-Type-Options"] == "nosniff"
    for media in ("application/rdf+xml", "application/ld+json", "application/n-triples"):
        other = requests.get(nginx + "/.well-known/void", headers={"Accept": media}, timeout=5)
        assert other.status_code == 200 and other.headers["Content-Type"].startswith(media)
    for hidden in (
        "/store/CURRENT",
        "/search.sqlite",
        "/build.json",
        "/changes.sqlite",
        "/.lod-state.sqlite",
        "/.lod-output",
    ):
        assert requests.get(nginx + hidden, timeout=5).status_code == 404, hidden


@pytest.mark.parametrize(
    "path", ["/vocab/type", "/vocab/type/telegram", "/vocab/language/ru", "/archive/aprf"]
)
def test_nginx_sends_concepts_and_schemes_to_their_documents(nginx: str, path: str) -> None:
    r = requests.get(
        nginx + path, headers={"Accept": "text/turtle"}, allow_redirects=False, timeout=5
    )
    assert r.status_code == 303 and r.headers["Location"].endswith("/doc" + path)
    doc = requests.get(nginx + "/doc" + path, headers={"Accept": "text/turtle"}, timeout=5)
    assert doc.status_code == 200 and doc.headers["Content-Type"].startswith("text/turtle")


@pytest.mark.parametrize("path", ["/vocab/lod.ttl", "/vocab/lod", "/vocab/shapes.ttl"])
def test_nginx_serves_the_vocabulary_files_beside_the_schemes(nginx: str, path: str) -> None:
    r = requests.get(nginx + path, allow_redirects=False, timeout=5)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")
    assert b"@prefix" in r.content


@pytest.fixture(scope="module")
def nginx_encoded(encoded_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(encoded_site, tmp_path_factory.mktemp("nginx-encoded")) as url:
        yield url


@pytest.mark.parametrize("record_id", ["Doc 5", "dok-ü", "oai:archive.org:123"])
def test_nginx_serves_records_whose_ids_need_encoding(nginx_encoded: str, record_id: str) -> None:
    """The files are named by the decoded path, which nginx looks up, and the 303 keeps the
    path encoded. (IDs holding '/' or '%' keep those encoded in their file names, which nginx
    decodes: only `lod serve` finds those.)"""
    segment = ENCODED_IDS[record_id]
    thing = requests.get(
        f"{nginx_encoded}/record/{segment}?format=ttl",
        headers={"Accept": "text/turtle"},
        allow_redirects=False,
        timeout=5,
    )
    assert thing.status_code == 303
    assert thing.headers["Location"].endswith(f"/doc/record/{segment}")
    for accept, media in [("text/turtle", "text/turtle"), ("text/html", "text/html")]:
        doc = requests.get(thing.headers["Location"], headers={"Accept": accept}, timeout=5)
        assert doc.status_code == 200 and doc.headers["Content-Type"].startswith(media)
        assert f"Record {record_id}" in doc.text
