"""`lod push`: load a build into an external SPARQL store, sending only what changed.

The build's own store holds every resource in its named graph (lod.provenance), the dataset
description in the default graph and the SHACL report in `<{base}validation.ttl>`. A push
copies each graph to the target under the same name; the default graph goes to
`<{base}doc/dataset>` (the dataset description's document, as every other graph is named by
its document), because stores disagree on what their default graph is. With `single_graph`
everything goes into that one graph instead.

Incremental and idempotent, with the state kept in the target itself, so that it can never
drift from what the target holds: it says `<graph> lod:pushedSha256 "…"` for every graph
pushed (the SHA-256 of its sorted N-Triples). A push sends the graphs whose digest differs,
drops those the build no longer has, and then writes the new state. A single graph is one
unit: sent whole (in chunks) when anything in the build changed.

A push killed half-way must leave a state that is at worst stale, as stale only means sent
again; a state missing a graph the target holds would leave that graph there for good once
its record is deleted. So the state is never written in place: it goes in parts of at most
STATE_PART entries (each one request, each read back whole by one query, under the row caps
stores set) into one of two slots, `<{base}doc/push-state/a/0>`, ... or `.../b/0`, ..., and
only then does `<{base}doc/push-state>` name the new slot, in one request. Graphs new to the
target are entered (with no digest) before they are sent.
"""

from __future__ import annotations

import hashlib
import json
import re
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
SLOTS = ("a", "b")
STATE_PART = 5000
"""Entries in one part of the state: ~0.7 MB, one request, and under Virtuoso's default cap
of 10,000 rows an answer."""
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


def _sources(store: Store, base: str) -> list[tuple[str, NamedNode | DefaultGraph]]:
    """Each graph's name in the target and in the build, sorted by name."""
    names = sorted(g.value for g in store.named_graphs())
    sources: list[tuple[str, NamedNode | DefaultGraph]] = [(n, NamedNode(n)) for n in names]
    sources.append((base + DATASET_GRAPH, DefaultGraph()))
    return sorted(sources, key=lambda pair: pair[0])


def build_graphs(store: Store, base: str) -> Iterator[Graph]:
    """Every graph of the build, named as in the target, sorted by name; each graph's lines
    sorted, so equal content gives equal bytes (and digest) whatever the store's order."""
    for name, source in _sources(store, base):
        triples = [q.triple for q in store.quads_for_pattern(None, None, None, source)]
        data = serialize(triples, format=RdfFormat.N_TRIPLES) or b""
        lines = sorted(data.splitlines(keepends=True))
        yield Graph(name, b"".join(lines))


@dataclass(frozen=True, slots=True)
class State:
    """What the target holds by the push state: graph name -> digest ('' for a graph entered
    before it was sent), and where that state is (its slot and number of parts)."""

    digests: dict[str, str]
    slot: str = ""
    parts: int = 0


def _term(base: str, name: str) -> str:
    return prefixes_for(base + "vocab/lod#")["lod"] + name


def pushed_state(remote: RemoteStore, base: str) -> State:
    """The target's push state (empty if none). A state written before the slots, in the
    pointer graph itself, is read as one part."""
    pointer = base + STATE_GRAPH
    rows = remote.select(f"SELECT ?p ?o WHERE {{ GRAPH <{pointer}> {{ <{pointer}> ?p ?o }} }}")
    said = {row["p"].value: row["o"].value for row in rows if row["p"] is not None}
    slot = said.get(_term(base, "pushStateIn"), "")
    if not slot:
        return State(_read_part(remote, base, pointer))
    parts, entries = (
        int(said[_term(base, "pushStateParts")]),
        int(said[_term(base, "pushStateEntries")]),
    )
    digests: dict[str, str] = {}
    for index in range(parts):
        digests.update(_read_part(remote, base, f"{slot}/{index}"))
    if len(digests) != entries:
        # A store that cuts answers short (Virtuoso's ResultSetMaxRows) must not make a push
        # believe graphs are missing, or never remove them.
        raise StoreError(
            f"read {len(digests)} of the {entries} entries of the push state in <{slot}/...>: "
            f"the store cut its answers short; let it answer {STATE_PART} rows at least "
            f"(Virtuoso: ResultSetMaxRows), or drop the graph <{pointer}> to push all again"
        )
    return State(digests, slot, parts)


def _read_part(remote: RemoteStore, base: str, graph: str) -> dict[str, str]:
    term = _term(base, DIGEST_TERM)
    rows = remote.select(f"SELECT ?g ?d WHERE {{ GRAPH <{graph}> {{ ?g <{term}> ?d }} }}")
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
    state = pushed_state(remote, base)
    pushed = state.digests
    names = [single_graph] if single_graph else [n for n, _ in _sources(store, base)]
    new = [name for name in names if name not in pushed]
    if new:
        # Entered before they are sent: a push stopped half-way must not leave a graph in the
        # target that no state names, which nothing would ever remove.
        state = _write_state(remote, base, {**pushed, **dict.fromkeys(new, "")}, state, chunk_bytes)
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
        _send(remote, changed, chunk_bytes, progress, len(names), report)
    gone = sorted(set(pushed) - set(digests))
    for start in range(0, len(gone), 500):
        remote.drop(gone[start : start + 500])
    report.removed = len(gone)
    if report.sent or gone or set(state.digests) != set(digests):
        _write_state(remote, base, digests, state, chunk_bytes)
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
        for unit in _units(part):
            if buffer and size + len(unit) > chunk_bytes:
                yield b"".join(buffer)
                buffer, size = [], 0
            buffer.append(unit)
            size += len(unit)
    if buffer:
        yield b"".join(buffer)


BLANK = re.compile(rb"_:[^\s<>\"]+")
"""A blank node label in N-Triples (or text that looks like one in a literal, which only joins
more lines into one unit)."""


def _units(data: bytes) -> Iterator[bytes]:
    """N-Triples lines in the units a request may carry: a line alone, but the lines that share
    blank nodes together. A blank node is new in every request, so a cut between two lines
    naming `_:b` would leave two nodes where the graph has one."""
    lines = data.splitlines(keepends=True)
    if b"_:" not in data:
        yield from lines
        return
    parent: dict[bytes, bytes] = {}

    def root(label: bytes) -> bytes:
        while parent.setdefault(label, label) != label:
            parent[label] = parent[parent[label]]
            label = parent[label]
        return label

    labelled = [[m.rstrip(b".") for m in BLANK.findall(line)] for line in lines]
    for labels in labelled:
        for other in labels[1:]:
            parent[root(other)] = root(labels[0])
    joined: dict[bytes, list[bytes]] = {}
    for line, labels in zip(lines, labelled, strict=True):
        if labels:
            joined.setdefault(root(labels[0]), []).append(line)
        else:
            yield line
    for group in joined.values():
        yield b"".join(group)


def _write_state(
    remote: RemoteStore, base: str, digests: dict[str, str], old: State, chunk_bytes: int
) -> State:
    """The state into the slot not in use, then the pointer to it (one request), then the old
    slot dropped: a push stopped at any point leaves one whole state named."""
    term = _term(base, DIGEST_TERM)
    slot = f"{base}{STATE_GRAPH}/{SLOTS[1] if old.slot.endswith('/' + SLOTS[0]) else SLOTS[0]}"
    entries = sorted(digests.items())
    parts = [entries[i : i + STATE_PART] for i in range(0, len(entries), STATE_PART)]
    scratch = PushReport("")
    for index, part in enumerate(parts):
        lines = b"".join(f'<{name}> <{term}> "{digest}" .\n'.encode() for name, digest in part)
        _send_large(remote, f"{slot}/{index}", [lines], chunk_bytes, scratch)
    pointer = base + STATE_GRAPH
    integer = "http://www.w3.org/2001/XMLSchema#integer"
    said = (
        f"<{pointer}> <{_term(base, 'pushStateIn')}> <{slot}> .\n"
        f'<{pointer}> <{_term(base, "pushStateParts")}> "{len(parts)}"^^<{integer}> .\n'
        f'<{pointer}> <{_term(base, "pushStateEntries")}> "{len(entries)}"^^<{integer}> .\n'
    )
    remote.replace([(pointer, said.encode())])
    if old.slot and old.slot != slot:
        remote.drop([f"{old.slot}/{index}" for index in range(old.parts)])
    return State(digests, slot, len(parts))


def check_target(remote: RemoteStore) -> None:
    """Fail early, naming the option, when the target has nowhere to write."""
    if not (remote.endpoints.graph_store or remote.endpoints.update):
        raise StoreError("lod push needs --graph-store URL or --update URL to write to")


__all__ = [
    "CHUNK_BYTES",
    "DATASET_GRAPH",
    "STATE_GRAPH",
    "PushReport",
    "State",
    "push",
    "pushed_state",
]
