"""`lod push`: load a build into an external SPARQL store, sending only what changed.

The build's own store holds every resource in its named graph (lod.provenance), the dataset
description in the default graph and the SHACL report in `<{base}validation.ttl>`. A push
copies each graph to the target under the same name; the default graph goes to
`<{base}doc/dataset>` (the dataset description's document, as every other graph is named by
its document), because stores disagree on what their default graph is. With `single_graph`
everything goes into that one graph instead.

Incremental and idempotent, with the state kept in the target itself, so that it can never
drift from what the target holds: the graph `<{base}doc/push-state>` says
`<graph> lod:pushedSha256 "…"` for every graph pushed (the SHA-256 of its sorted N-Triples). A
push sends the graphs whose digest differs, drops those the build no longer has, and then
writes the new state. A push killed half-way leaves a state that is at worst stale, and stale
only means sent again. A single graph is one unit: sent whole (in chunks) when anything in the
build changed.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyoxigraph import DefaultGraph, NamedNode, RdfFormat, Store, serialize

from lod.errors import LodError, StoreError
from lod.namespaces import prefixes_for
from lod.remote import RemoteStore
from lod.store import BUILD_INFO, STORE_DIR

DATASET_GRAPH = "doc/dataset"
STATE_GRAPH = "doc/push-state"
DIGEST_TERM = "pushedSha256"
CHUNK_BYTES = 1 << 20
"""Most N-Triples bytes in one request (a batch of small graphs, or a piece of a large one)."""


@dataclass
class PushReport:
    """What a push did, for the summary line."""

    target: str
    graphs: int = 0
    sent: int = 0
    unchanged: int = 0
    removed: int = 0
    triples: int = 0
    bytes: int = 0
    requests: int = 0
    names: list[str] = field(default_factory=list)
    """The graphs sent, in order (the tests check that only what changed goes)."""

    def summary(self) -> str:
        return (
            f"Pushed {self.sent} of {self.graphs} graphs ({self.triples} triples, "
            f"{self.bytes / 1e6:.1f} MB), {self.unchanged} unchanged, {self.removed} removed, "
            f"in {self.requests} requests -> {self.target}"
        )


@dataclass(frozen=True, slots=True)
class Graph:
    """One graph of the build as it will be pushed: its name in the target, its N-Triples."""

    name: str
    data: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def open_build(root: Path) -> tuple[str, Store]:
    """The build's base URI and its store, read-only."""
    try:
        info = json.loads((root / BUILD_INFO).read_text(encoding="utf-8"))
        base = str(info["base_uri"])
    except (OSError, ValueError, KeyError) as exc:
        raise LodError(
            f"{root} is not a lod build (no readable {BUILD_INFO}); run `lod build --out {root}`"
        ) from exc
    try:
        return base, Store.read_only(str(root / STORE_DIR))
    except OSError as exc:
        raise LodError(f"cannot open the store of {root}: {exc}; rebuild it") from exc


def graph_count(store: Store) -> int:
    """How many graphs build_graphs yields: the named graphs and the default graph."""
    return sum(1 for _ in store.named_graphs()) + 1


def build_graphs(store: Store, base: str) -> Iterator[Graph]:
    """Every graph of the build, named as in the target, sorted by name; each graph's lines
    sorted, so equal content gives equal bytes (and digest) whatever the store's order."""
    names = sorted(g.value for g in store.named_graphs())
    sources: list[tuple[str, NamedNode | DefaultGraph]] = [(n, NamedNode(n)) for n in names]
    sources.append((base + DATASET_GRAPH, DefaultGraph()))
    for name, source in sorted(sources, key=lambda pair: pair[0]):
        triples = [q.triple for q in store.quads_for_pattern(None, None, None, source)]
        data = serialize(triples, format=RdfFormat.N_TRIPLES) or b""
        lines = sorted(data.splitlines(keepends=True))
        yield Graph(name, b"".join(lines))


def pushed_state(remote: RemoteStore, base: str) -> dict[str, str]:
    """Graph name -> digest of what the target holds, from its state graph (empty if none)."""
    term = prefixes_for(base + "vocab/lod#")["lod"] + DIGEST_TERM
    rows = remote.select(
        f"SELECT ?g ?d WHERE {{ GRAPH <{base}{STATE_GRAPH}> {{ ?g <{term}> ?d }} }}"
    )
    return {row["g"].value: row["d"].value for row in rows if row["g"] is not None}


def push(
    root: Path,
    remote: RemoteStore,
    *,
    single_graph: str = "",
    chunk_bytes: int = CHUNK_BYTES,
    progress: bool = False,
) -> PushReport:
    """Push the build in `root` to `remote`; see the module docstring for what is sent."""
    check_target(remote)
    base, store = open_build(root)
    report = PushReport(remote.endpoints.graph_store or remote.endpoints.update)
    before = remote.session.requests
    pushed = pushed_state(remote, base)
    digests: dict[str, str] = {}
    if single_graph:
        # Two passes, so that memory holds one graph at a time, never the whole build.
        each = "".join(g.digest for g in build_graphs(store, base))
        whole = hashlib.sha256(each.encode()).hexdigest()
        digests[single_graph] = whole
        report.graphs = 1
        if pushed.get(single_graph) != whole:
            parts = (g.data for g in build_graphs(store, base))
            _send_large(remote, single_graph, parts, chunk_bytes, report)
        else:
            report.unchanged = 1
    else:
        changed = _changed(store, base, pushed, digests, report)
        _send(remote, changed, chunk_bytes, progress, graph_count(store), report)
    gone = sorted(set(pushed) - set(digests))
    for start in range(0, len(gone), 500):
        remote.drop(gone[start : start + 500])
    report.removed = len(gone)
    if report.sent or gone or set(pushed) != set(digests):
        _write_state(remote, base, digests, chunk_bytes)
    report.requests = remote.session.requests - before
    return report


def _changed(
    store: Store, base: str, pushed: dict[str, str], digests: dict[str, str], report: PushReport
) -> Iterator[Graph]:
    """The graphs whose content differs from what was pushed; fills `digests` as it goes."""
    for graph in build_graphs(store, base):
        report.graphs += 1
        digests[graph.name] = graph.digest
        if pushed.get(graph.name) == digests[graph.name]:
            report.unchanged += 1
        else:
            yield graph


def _send(
    remote: RemoteStore,
    graphs: Iterator[Graph],
    chunk_bytes: int,
    progress: bool,
    total: int,
    report: PushReport,
) -> None:
    """Send graphs in batches of about `chunk_bytes` (one Update request, or one PUT each);
    a graph larger than a batch goes alone, in pieces."""
    from tqdm import tqdm

    bar = tqdm(total=total, unit=" graphs", disable=not progress, file=sys.stderr, leave=False)
    batch: list[tuple[str, bytes]] = []
    size = 0
    with bar:
        for graph in graphs:
            if len(graph.data) > chunk_bytes:
                _send_large(remote, graph.name, [graph.data], chunk_bytes, report)
                _tick(bar, report)
                continue
            report.names.append(graph.name)
            alone = _blank(graph.data)
            if batch and (size + len(graph.data) > chunk_bytes or alone):
                _flush(remote, batch, report)
                _tick(bar, report)
                batch, size = [], 0
            batch.append((graph.name, graph.data))
            size += len(graph.data)
            if alone:
                _flush(remote, batch, report)
                batch, size = [], 0
        if batch:
            _flush(remote, batch, report)
        _tick(bar, report)


def _tick(bar: Any, report: PushReport) -> None:
    """The bar counts graphs looked at (unchanged ones pass without a request)."""
    bar.n = report.graphs
    bar.refresh()


def _blank(data: bytes) -> bool:
    """A graph with blank nodes goes in a request of its own: SPARQL Update forbids one blank
    node label in two operations of a request (SPARQL 1.1 Update, section 3.1.1)."""
    return b"_:" in data


def _flush(remote: RemoteStore, batch: list[tuple[str, bytes]], report: PushReport) -> None:
    remote.replace(batch)
    report.sent += len(batch)
    for _, data in batch:
        report.bytes += len(data)
        report.triples += data.count(b"\n")


def _send_large(
    remote: RemoteStore, name: str, parts: Iterable[bytes], chunk_bytes: int, report: PushReport
) -> None:
    """One graph in pieces of whole lines: the first replaces the graph, the others add."""
    first = True
    for chunk in _chunks(parts, chunk_bytes):
        if first:
            remote.replace([(name, chunk)])
            first = False
        else:
            remote.append(name, chunk)
        report.bytes += len(chunk)
        report.triples += chunk.count(b"\n")
    if first:
        remote.replace([(name, b"")])
    report.sent += 1
    report.names.append(name)


def _chunks(parts: Iterable[bytes], chunk_bytes: int) -> Iterator[bytes]:
    buffer: list[bytes] = []
    size = 0
    for part in parts:
        for line in part.splitlines(keepends=True):
            if buffer and size + len(line) > chunk_bytes:
                yield b"".join(buffer)
                buffer, size = [], 0
            buffer.append(line)
            size += len(line)
    if buffer:
        yield b"".join(buffer)


def _write_state(remote: RemoteStore, base: str, digests: dict[str, str], chunk_bytes: int) -> None:
    term = prefixes_for(base + "vocab/lod#")["lod"] + DIGEST_TERM
    lines = b"".join(
        f'<{name}> <{term}> "{digest}" .\n'.encode() for name, digest in sorted(digests.items())
    )
    scratch = PushReport("")
    _send_large(remote, base + STATE_GRAPH, [lines], chunk_bytes, scratch)


def check_target(remote: RemoteStore) -> None:
    """Fail early, naming the option, when the target has nowhere to write."""
    if not (remote.endpoints.graph_store or remote.endpoints.update):
        raise StoreError("lod push needs --graph-store URL or --update URL to write to")


__all__ = ["CHUNK_BYTES", "DATASET_GRAPH", "STATE_GRAPH", "PushReport", "push"]
