"""kill -9 of `lod build` at random points while `lod serve` serves the output (issue 7, Faults).

A first publication is built and served. Then, kill after kill, a few records get new titles
and `lod build --full` or `lod build` (incremental), in turn, is started over the same output
folder and killed with SIGKILL after a random delay: one in each of as many equal spans of the
build's duration as there are kills of its kind, so early, middle and late kills come in every
run. After each kill:

- every published file is served byte-identical to the snapshot taken before the build, and so
  are the SPARQL answers, unless the kill came after the point of no return (the swap of a full
  build, the commit journal of an incremental one): then the new publication is served whole;
- no temporary file or folder of the build is inside the site or reachable by a request;
- the killed build's helper processes (build workers, the store loader) are gone;
- the same command run again succeeds, unblocked by the leftovers, which it cleans, and the
  server follows it.

Figures per kill: the delay, where it landed, how soon the output's lock was free, and for the
same command run again: how soon it held the output (lock taken, leftovers cleaned, its own
staging folder made), how long it took, and how soon after its start the server answered from
its publication (the restart).

    .venv/bin/python stress/faults.py [--records 300] [--kills 20] [--seed N] [--sample 0]

`--sample 0` (the default here) GETs every published file after each kill; tests/test_faults.py
runs the same code small, GETting every file outside doc/ and, in every format, the documents
of the changed records and of a sample of others.
"""

from __future__ import annotations

import argparse
import csv
import fcntl
import http.client
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlencode, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.synth import generate  # noqa: E402
from lod.serve.linked import HIDDEN, WELL_KNOWN  # noqa: E402

BASE = "http://127.0.0.1:8000/"
LOD = [sys.executable, "-m", "lod.cli"]
LEFTOVER_MARKS = (".building-", ".old-", ".commit", ".replaced", ".tmp", ".lock")
"""Parts of the names of a build's temporary files and folders (lod.publish.site, .incremental)."""
FORMATS = (".html", ".ttl", ".jsonld", ".nt", ".rdf")
QUERIES = {
    "count": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "titles": (
        "SELECT ?r ?t WHERE { ?r <http://purl.org/dc/terms/title> ?t } ORDER BY ?r ?t LIMIT 400"
    ),
}
RESTART_LIMIT = 10.0
"""Seconds (issue 7) from a kill until the output is free; and from the start of the next build
until it holds the output and, for a small site, until its publication is served."""
SETTLE = 15.0
"""Seconds to wait for helpers to die, background deleters to finish, the server to switch."""


# --- sources and builds ----------------------------------------------------------------------


@dataclass
class Sources:
    """records/ and generated records, in a folder whose synthetic CSV each kill changes."""

    folder: Path
    records: int

    @property
    def csv(self) -> Path:
        return self.folder / "syn" / "synthetic-00000.csv"

    def write(self, seed: int) -> None:
        """The synthetic records, generated afresh."""
        generate(self.records, self.folder / "syn", seed=seed, per_file=10**9)

    def retitle(self, ids: list[str], title: str) -> None:
        """New titles for a few records: the change each killed build publishes."""
        with self.csv.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        for row in rows[1:]:
            if row[0] in ids:
                row[1] = f"{title} {row[0]}"
        with self.csv.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(rows)

    def titles(self, ids: list[str]) -> dict[str, str]:
        with self.csv.open(encoding="utf-8", newline="") as handle:
            return {row[0]: row[1] for row in csv.reader(handle) if row[0] in ids}


def make_sources(folder: Path, records: int, seed: int) -> Sources:
    shutil.copytree(ROOT / "records", folder / "records")
    sources = Sources(folder, records)
    sources.write(seed)
    return sources


def build_args(sources: Sources, out: Path, full: bool) -> list[str]:
    args = [*LOD, "build", str(sources.folder), "--out", str(out), "--base-uri", BASE]
    return [*args, "--no-progress", *(["--full"] if full else [])]


def start_build(sources: Sources, out: Path, full: bool) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        build_args(sources, out, full),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def finish(process: subprocess.Popen[bytes], what: str) -> None:
    _, err = process.communicate(timeout=600)
    text = err.decode("utf-8", "replace")
    assert process.returncode == 0, f"{what} failed ({process.returncode}): {text[-3000:]}"
    assert "Traceback" not in text, text[-3000:]


def timed_build(sources: Sources, out: Path, full: bool) -> float:
    started = time.monotonic()
    finish(start_build(sources, out, full), "build")
    return time.monotonic() - started


# --- what clients see ------------------------------------------------------------------------


def read_tree(folder: Path) -> dict[str, bytes]:
    """Every file of the output folder, hidden ones and the store included."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def published(folder: Path) -> list[str]:
    """The URL path of every file the server publishes."""
    paths = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        url = "/" + quote(str(relative))
        if not path.is_file() or relative.parts[0] in HIDDEN:
            continue
        if any(part.startswith(".") for part in relative.parts) and url not in WELL_KNOWN:
            continue
        paths.append(url)
    return paths


def choose(paths: list[str], sample: int, keep: list[str], rng: random.Random) -> list[str]:
    """Every path outside /doc/, and every format of `sample` documents (0: all) and of the
    records `keep`."""
    docs: dict[str, list[str]] = {}
    rest = []
    for path in paths:
        if path.startswith("/doc/"):
            docs.setdefault(path.rsplit(".", 1)[0], []).append(path)
        else:
            rest.append(path)
    if sample <= 0:
        return paths
    stems = sorted(docs)
    chosen = set(rng.sample(stems, min(sample, len(stems))))
    chosen |= {f"/doc/record/{quote(i)}" for i in keep} & set(stems)
    return rest + [p for stem in sorted(chosen) for p in docs[stem]]


class Client:
    """Keep-alive GETs on a few threads, each with its own connection."""

    def __init__(self, url: str, threads: int = 4) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.threads = threads
        self.local = threading.local()
        self.connections: list[http.client.HTTPConnection] = []

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        for connection in self.connections:
            connection.close()

    def get(self, path: str, accept: str = "*/*") -> tuple[int, bytes]:
        for attempt in range(2):
            connection = getattr(self.local, "connection", None)
            if connection is None:
                connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
                self.local.connection = connection
                self.connections.append(connection)
            try:
                connection.request("GET", path, headers={"Accept": accept})
                response = connection.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionError):
                connection.close()
                self.local.connection = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def fetch(self, paths: list[str]) -> dict[str, tuple[int, bytes]]:
        with ThreadPoolExecutor(self.threads) as pool:
            return dict(zip(paths, pool.map(self.get, paths), strict=True))

    def answer(self, name: str) -> tuple[int, bytes]:
        """The endpoint's answer to QUERIES[name], as SPARQL JSON."""
        return self.get(
            "/sparql?" + urlencode({"query": QUERIES[name]}), "application/sparql-results+json"
        )

    def answers(self) -> dict[str, tuple[int, bytes]]:
        return {name: self.answer(name) for name in QUERIES}


@dataclass
class Snapshot:
    """A publication as the disk holds it and as clients get it."""

    identity: tuple[int, int]
    files: dict[str, bytes]
    served: dict[str, tuple[int, bytes]]
    answers: dict[str, tuple[int, bytes]]


def identity(out: Path) -> tuple[int, int]:
    stat = (out / "build.json").stat()
    return stat.st_ino, stat.st_mtime_ns


def take(out: Path, client: Client, paths: list[str]) -> Snapshot:
    """The publication now: its files as the disk holds them, which is what the server must
    serve for `paths`, and the server's SPARQL answers."""
    files = read_tree(out)
    served = {p: (200, files[unquote(p[1:])]) for p in paths}
    snapshot = Snapshot(identity(out), files, served, client.answers())
    assert all(s == 200 for s, _ in snapshot.answers.values()), snapshot.answers
    return snapshot


def differences(a: dict[str, object], b: dict[str, object]) -> list[str]:
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))


def leftovers(out: Path) -> list[Path]:
    """The build's files beside the output folder (temporary folders, journal, lock)."""
    return sorted(p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def check_hidden(out: Path, client: Client) -> None:
    """No temporary file inside the site, none beside it reachable by a request."""
    inside = [
        str(p.relative_to(out))
        for p in out.rglob("*")
        if any(mark in p.name for mark in LEFTOVER_MARKS)
    ]
    assert inside == [], f"temporary files inside the published folder: {inside}"
    for leftover in leftovers(out):
        name = quote(leftover.name)
        for path in (
            f"/{name}",
            f"/{name}/index.html",
            f"/../{name}/index.html",
            f"/%2e%2e/{name}/index.html",
            f"/doc/..%2f..%2f{name}/index.html",
            f"/doc/%2e%2e/%2e%2e/{name}/build.json",
        ):
            status, body = client.get(path)
            assert status in (400, 404), f"{path} answered {status}: {body[:200]!r}"


# --- processes -------------------------------------------------------------------------------


def descendants(pid: int) -> dict[int, str]:
    """Every living process below `pid`, by command name (from /proc)."""
    children: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        names[int(entry)] = name
        children.setdefault(int(rest.split()[1]), []).append(int(entry))
    found: dict[int, str] = {}
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found[child] = names[child]
        todo.extend(children.get(child, []))
    return found


def lockable(out: Path) -> bool:
    """Whether a build could take the output's lock now (it is released at once)."""
    with (out.parent / f".{out.name}.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_until(test: Callable[[], bool], seconds: float, step: float = 0.01) -> float | None:
    """Seconds until `test()` held, or None if it did not within `seconds`."""
    started = time.monotonic()
    while True:
        if test():
            return time.monotonic() - started
        if time.monotonic() - started > seconds:
            return None
        time.sleep(step)


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Kill:
    """One build killed with -9, and what it took to get going again."""

    round: int
    kind: str
    delay: float
    landed: str
    """"before" the point of no return, or "after" it (the new publication is decided)."""
    helpers: int
    """Processes the killed build had started (build workers, the store loader)."""
    lock_free: float
    """Seconds from the kill until the output's lock could be taken."""
    held: float
    """Seconds from the start of the next build until it held the output (lock taken,
    leftovers cleaned, its own staging folder made)."""
    next_build: float
    """Seconds the next build took."""
    served: float
    """Seconds from the start of the next build until the server answered from its
    publication: the restart, once the build command is run again."""


@dataclass
class Run:
    seed: int
    durations: dict[str, float]
    kills: list[Kill] = field(default_factory=list)
    finished_first: list[tuple[str, float]] = field(default_factory=list)
    """(kind, delay) of builds that were done before the kill came."""
    checked: int = 0
    """Served files compared byte for byte, over all kills."""


def publish_first(sources: Sources, out: Path) -> dict[str, float]:
    """The first publication: a full build, then an incremental one of a small change (which
    also tells how long each kind takes)."""
    full = timed_build(sources, out, full=True)
    sources.retitle(["syn-0"], "First change")
    incremental = timed_build(sources, out, full=False)
    return {"full": full, "incremental": incremental}


def kill_builds(
    sources: Sources,
    out: Path,
    url: str,
    *,
    kills: int,
    seed: int,
    durations: dict[str, float],
    sample: int,
    say: Callable[[str], None] = print,
) -> Run:
    """Kill `kills` builds over the served `out`; raise AssertionError at the first failure."""
    with Client(url) as client:
        return _kill_builds(sources, out, client, kills, seed, durations, sample, say)


def _kill_builds(
    sources: Sources,
    out: Path,
    client: Client,
    kills: int,
    seed: int,
    durations: dict[str, float],
    sample: int,
    say: Callable[[str], None],
) -> Run:
    rng = random.Random(seed)
    run = Run(seed, durations)
    moments: dict[str, list[float]] = {kind: [] for kind in durations}
    attempt = 0
    while len(run.kills) < kills:
        attempt += 1
        assert attempt <= 2 * kills, f"seed {seed}: most builds finished before their kill"
        kind = "full" if attempt % 2 else "incremental"
        if not moments[kind]:
            moments[kind] = spread((kills + 1) // 2, rng)
        ids = [f"syn-{i}" for i in sorted(rng.sample(range(sources.records), 3))]
        paths = choose(published(out), sample, ids, rng)
        before = take(out, client, paths)
        sources.retitle(ids, f"Changed by attempt {attempt} of seed {seed}:")
        delay = moments[kind].pop() * durations[kind]
        where = f"seed {seed}, attempt {attempt} ({kind} build killed at {delay:.2f} s)"
        round_ = _Round(sources, out, client, kind, delay, before, paths, ids, where)
        kill = round_.run(len(run.kills) + 1)
        if kill is None:
            run.finished_first.append((kind, delay))
            say(f"attempt {attempt}: the {kind} build finished before {delay:.2f} s; no kill")
            continue
        run.kills.append(kill)
        run.checked += len(paths)
        say(
            f"kill {kill.round:2}: {kind:11} build at {delay:5.2f} s "
            f"({kill.landed} the point of no return, {kill.helpers} helpers); lock free "
            f"{kill.lock_free:.3f} s after the kill; the next build held the output "
            f"{kill.held:.2f} s after its start, took {kill.next_build:.2f} s, and was served "
            f"{kill.served:.2f} s after its start"
        )
    return run


def spread(count: int, rng: random.Random) -> list[float]:
    """`count` random moments in a build, as fractions of its duration, one in each of `count`
    equal spans (in random order): early, middle and late kills in every run."""
    moments = [(span + rng.random()) / count for span in range(count)]
    rng.shuffle(moments)
    return moments


@dataclass
class _Round:
    """One build started over the served output and killed after `delay` seconds."""

    sources: Sources
    out: Path
    client: Client
    kind: str
    delay: float
    before: Snapshot
    paths: list[str]
    ids: list[str]
    where: str

    def run(self, number: int) -> Kill | None:
        """The figures of the kill, or None when the build finished before it."""
        full, where = self.kind == "full", self.where
        titles = self.sources.titles(self.ids)
        process = start_build(self.sources, self.out, full)
        time.sleep(self.delay)
        helpers = descendants(process.pid)
        if process.poll() is not None:
            finish(process, f"{where}: the build")
            assert wait_until(lambda: serves(self.client, titles), SETTLE) is not None
            return None
        process.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        process.communicate()
        free = wait_until(lambda: lockable(self.out), SETTLE, 0.005)
        assert free is not None, f"{where}: the output stayed locked after the kill"
        lock_free = time.monotonic() - killed_at
        landed = check_after_kill(
            self.out, self.client, self.before, titles, self.paths, helpers, where
        )
        started = time.monotonic()
        held, next_build = rebuild(self.sources, self.out, full, where)
        served = wait_until(lambda: serves(self.client, titles), SETTLE)
        assert served is not None, f"{where}: the server never served the next build"
        served_after = time.monotonic() - started
        check_cleaned(self.out, where)
        return Kill(
            number,
            self.kind,
            self.delay,
            landed,
            len(helpers),
            lock_free,
            held,
            next_build,
            served_after,
        )


def check_after_kill(
    out: Path,
    client: Client,
    before: Snapshot,
    titles: dict[str, str],
    paths: list[str],
    helpers: dict[int, str],
    where: str,
) -> str:
    """What clients see right after the kill; returns where the kill landed."""
    # Build workers and the store loader die with the build (PR_SET_PDEATHSIG); background
    # deleters (sh, rm) are meant to outlive it.
    lasting = {p: n for p, n in helpers.items() if n not in ("sh", "rm")}
    gone = wait_until(lambda: not any(alive(p) for p in lasting), SETTLE)
    assert gone is not None, f"{where}: helpers outlived the killed build: {lasting}"
    journal = out.parent / f".{out.name}.commit"
    assert (out / "build.json").is_file(), f"{where}: nothing is published at {out}"
    decided = journal.exists() or identity(out) != before.identity
    check_hidden(out, client)
    if not decided:
        changed = differences(read_tree(out), before.files)  # type: ignore[arg-type]
        assert changed == [], f"{where}: the output folder changed: {changed[:10]}"
        served = client.fetch(paths)
        changed = differences(served, before.served)  # type: ignore[arg-type]
        assert changed == [], f"{where}: served files changed: {changed[:10]}"
        answers = client.answers()
        changed = [
            f"{name}: {before.answers[name][0]} {before.answers[name][1][:200]!r} -> "
            f"{status} {body[:200]!r}"
            for name, (status, body) in answers.items()
            if (status, body) != before.answers.get(name)
        ]
        assert changed == [], f"{where}: SPARQL answers changed: {changed}"
        return "before"
    # Past the point of no return the new publication is decided; whoever finds the journal
    # (the server within a second, or the next build) finishes it. Clients then get all of it.
    finished = wait_until(lambda: serves(client, titles) and not journal.exists(), SETTLE)
    assert finished is not None, f"{where}: the decided publication was never served whole"
    now = set(published(out))
    served = client.fetch(paths)
    expected = {
        p: (200, (out / unquote(p[1:])).read_bytes()) if p in now else unpublished(served[p])
        for p in paths
    }
    changed = differences(served, expected)  # type: ignore[arg-type]
    assert changed == [], f"{where}: served files differ from the new publication: {changed[:10]}"
    return "after"


def unpublished(answer: tuple[int, bytes]) -> tuple[int, bytes]:
    """What a file no longer published should be answered with: 404, or 410 for a resource the
    change log says was deleted."""
    return answer if answer[0] in (404, 410) else (404, b"")


def serves(client: Client, titles: dict[str, str]) -> bool:
    """Whether every format of each record, and the endpoint's answer, carry its title from
    the sources. Documents are the new build's from the swap on; the endpoint's answers from
    when the server notices it (within a second, longer on a busy machine), so a snapshot taken
    between the two held the old answers beside the new documents."""
    for record, title in titles.items():
        for suffix in FORMATS:
            status, body = client.get(f"/doc/record/{quote(record)}{suffix}")
            if status != 200 or title.encode() not in body:
                return False
    status, body = client.answer("titles")
    return status == 200 and all(title.encode() in body for title in titles.values())


def rebuild(sources: Sources, out: Path, full: bool, where: str) -> tuple[float, float]:
    """The same build again after a kill: (seconds until it held the output and staged its
    work, seconds it took)."""
    started = time.monotonic()
    process = start_build(sources, out, full)
    stage = out.parent / f".{out.name}.building-{process.pid}"
    held = wait_until(lambda: stage.exists() or process.poll() is not None, 600, 0.005)
    assert held is not None
    finish(process, f"{where}: the next build")
    return held, time.monotonic() - started


def check_cleaned(out: Path, where: str) -> None:
    """The next build cleaned what the killed one left; what it replaced goes in the background."""
    lock = out.parent / f".{out.name}.lock"
    gone = wait_until(lambda: leftovers(out) == [lock], SETTLE, 0.05)
    left = [p.name for p in leftovers(out)]
    assert gone is not None, f"{where}: leftovers of the killed build stayed: {left}"


# --- the scripted run ------------------------------------------------------------------------


@contextmanager
def serving(out: Path) -> Iterator[str]:
    from tests.conftest import running_server

    with running_server(out) as url:
        yield url


def report(run: Run) -> list[str]:
    lines = [
        f"seed {run.seed}; an uninterrupted build took {run.durations['full']:.2f} s (full), "
        f"{run.durations['incremental']:.2f} s (incremental); {run.checked} served files "
        "compared byte for byte",
        "",
        "| kill | build | killed at (s) | landed | helpers | lock free (s) "
        "| next build held the output (s) | next build (s) | its publication served (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for k in run.kills:
        lines.append(
            f"| {k.round} | {k.kind} | {k.delay:.2f} | {k.landed} | {k.helpers} "
            f"| {k.lock_free:.3f} | {k.held:.2f} | {k.next_build:.2f} | {k.served:.2f} |"
        )
    lines.append("")
    lines.append(
        f"worst: lock free {max(k.lock_free for k in run.kills):.3f} s after a kill; the next "
        f"build held the output {max(k.held for k in run.kills):.2f} s after its start and "
        f"was served {max(k.served for k in run.kills):.2f} s after it; "
        f"{sum(k.landed == 'after' for k in run.kills)} kills came after the point of no "
        f"return; {len(run.finished_first)} builds finished before their kill"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=300, help="synthetic records")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=random.SystemRandom().randrange(10**6))
    parser.add_argument(
        "--sample", type=int, default=0, help="documents GET after each kill (0: all)"
    )
    args = parser.parse_args()
    print(f"seed {args.seed}", flush=True)
    with tempfile.TemporaryDirectory(prefix="lod-faults-") as work:
        sources = make_sources(Path(work) / "src", args.records, args.seed)
        out = Path(work) / "site"
        durations = publish_first(sources, out)
        with serving(out) as url:
            run = kill_builds(
                sources,
                out,
                url,
                kills=args.kills,
                seed=args.seed,
                durations=durations,
                sample=args.sample,
                say=lambda line: print(line, flush=True),
            )
    print("\n".join(report(run)))


if __name__ == "__main__":
    main()
