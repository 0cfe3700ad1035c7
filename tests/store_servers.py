"""Real SPARQL servers for the external-store tests, started on 127.0.0.1 and stopped after.

Oxigraph comes from PyPI (the `oxigraph` package, in the `test` extra); Virtuoso from Debian's
`virtuoso-opensource` (`make test` installs it when it runs as root). A server that cannot be
present makes its tests skip with the reason; one that is present but fails to start fails.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.conftest import free_port

VIRTUOSO_VAD = Path("/usr/share/virtuoso-opensource-7/vad")
VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DisableTcpSocket = 0
MaxClientConnections = 10
CheckpointInterval = 60
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
DirsAllowed = ., {vad}
VADInstallDir = {vad}/
ThreadsPerQuery = 2

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
MaxClientConnections = 10
ServerThreads = 10
Charset = UTF-8
EnabledGzipContent = 0

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 30
MaxQueryCostEstimationTime = 0
"""
VIRTUOSO_GRANTS = (
    # A user of its own for lod push: SPARQL Update and Graph Store writes need the
    # SPARQL_UPDATE role and write permission on the graphs.
    "DB.DBA.USER_CREATE ('lod', 'lod-secret');",
    'GRANT SPARQL_UPDATE TO "lod";',
    "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('lod', 3);",
    # Anonymous users read (the /sparql endpoint lod serve --store uses), never write.
    "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 1);",
)


@dataclass(frozen=True, slots=True)
class StoreServer:
    """How to reach one running server: its endpoints and the push credentials."""

    name: str
    query: str
    update: str
    graph_store: str
    user: str = ""
    password: str = ""
    auth: str = "basic"


def _wait(url: str, process: subprocess.Popen[bytes], seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{url}: the server stopped: {log.read_text(errors='replace')}")
        try:
            if requests.get(url, params={"query": "ASK {}"}, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url}: the server did not answer within {seconds:g} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def oxigraph_command() -> list[str] | None:
    found = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    return [found] if Path(found).exists() else None


@contextmanager
def oxigraph(folder: Path) -> Iterator[StoreServer]:
    """`oxigraph serve` on a free port; queries see the union of the graphs, as lod's do."""
    command = oxigraph_command()
    assert command is not None
    port = free_port()
    log = folder / "oxigraph.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *command,
                "serve",
                "--location",
                str(folder / "data"),
                "--bind",
                f"127.0.0.1:{port}",
                "--union-default-graph",
                "--timeout-s",
                "30",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url + "/query", process, 20, log)
        yield StoreServer("oxigraph", url + "/query", url + "/update", url + "/store")
    finally:
        _stop(process)


def virtuoso_binaries() -> tuple[str, str] | None:
    server = shutil.which("virtuoso-t")
    isql = shutil.which("isql-vt") or shutil.which("isql")
    return (server, isql) if server and isql else None


@contextmanager
def virtuoso(folder: Path) -> Iterator[StoreServer]:
    """`virtuoso-t` with its own database in `folder`; the SQL and HTTP ports free ones."""
    binaries = virtuoso_binaries()
    assert binaries is not None
    server, isql = binaries
    sql_port, http_port = free_port(), free_port()
    (folder / "virtuoso.ini").write_text(
        VIRTUOSO_INI.format(dir=folder, sql_port=sql_port, http_port=http_port, vad=VIRTUOSO_VAD),
        encoding="utf-8",
    )
    log = folder / "virtuoso-stdout.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [server, "+foreground", "+configfile", str(folder / "virtuoso.ini")],
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{http_port}"
    try:
        _wait(url + "/sparql", process, 90, folder / "virtuoso.log")
        subprocess.run(
            [isql, f"127.0.0.1:{sql_port}", "dba", "dba", "exec=" + " ".join(VIRTUOSO_GRANTS)],
            check=True,
            capture_output=True,
            timeout=60,
        )
        yield StoreServer(
            "virtuoso",
            url + "/sparql",
            url + "/sparql-auth",
            url + "/sparql-graph-crud-auth",
            "lod",
            "lod-secret",
            "digest",
        )
    finally:
        _stop(process)
