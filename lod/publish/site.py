"""`lod build`: read -> map -> write every format per record and entity, dumps, store, keyword
index, VoID.

The build writes into a fresh folder beside the output and swaps it in only when everything
succeeded, so a failed or killed build leaves the last good publication as it was. Output bytes
depend only on the input (and SOURCE_DATE_EPOCH), never on the clock or the file system order.
"""

from __future__ import annotations

import ctypes
import dataclasses
import errno
import fcntl
import hashlib
import json
import os
import sqlite3
import sys
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pyoxigraph import Store
from tqdm import tqdm

from lod.authorities import Entity
from lod.changelog import LOG_FILE, State, publish_log
from lod.concepts import vocabulary_entities
from lod.config import Config
from lod.errors import (
    BuildRunning,
    DiskFullError,
    LodError,
    PublishError,
    SourceError,
    out_of_space,
)
from lod.namespaces import prefixes_for
from lod.provenance import Provenance, generation
from lod.publish.dumps import DumpWriter
from lod.publish.finish import (
    EXAMPLES,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_REJECTED,
    MARKER,
    BuildReport,
    describe,
    modified_date,
    store_quads,
    write_pages,
)
from lod.publish.incremental import delete_later, discard, interrupted, recover, update
from lod.publish.removal import remove_tree
from lod.publish.runners import runner
from lod.publish.spool import Spool
from lod.publish.state import ENTITIES, RECORDS, STATE_FILE, BuildState, FileRow, Part
from lod.publish.steps import (
    MAX_BACKLINKS,
    backlink,
    carry_log,
    deduplicated,
    entity_state,
    index_entity,
    index_record,
    kind_of,
    published_notices,
    record_row,
    record_state,
    report_error,
    report_skip,
    spans,
)
from lod.publish.writer import (
    SET_GROUPS,
    RecordDone,
    SiteWriter,
    do_entity,
    do_record,
)
from lod.sources import Skipped, read_files, source_files, stamp
from lod.statistics import write_statistics
from lod.store import STORE_DIR, StreamLoader
from lod.textindex import INDEX_FILE, TextIndexWriter
from lod.uris import Minter
from lod.vocab import UNREAD, VOCAB_DIR, Vocab, load_vocab

LOCK_WAIT = 5.0
"""Seconds a build waits for the output's lock before giving up."""
ENTITY_WINDOW = 128
"""Entity jobs a process pool holds at once: each carries up to MAX_BACKLINKS links."""
RUN_ONLY = ("progress", "workers", "cluster", "strict", "source_date_epoch", "admin_email")
"""Settings that change how a build runs, never what it writes (beside the serve-only ones)."""


def build(
    sources: Iterable[Path],
    out: Path,
    config: Config,
    *,
    base_dir: Path | None = None,
    on_problem: Callable[[str], None] | None = None,
    full: bool = False,
) -> BuildReport:
    """Build the site for `sources` into `out`; see the module docstring for the guarantees.

    Over an earlier build of the same settings, vocabularies and code, only what changed is
    rebuilt (lod.publish.incremental); otherwise, or with `full`, everything is."""
    out = out.resolve()
    _check_output(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unwritable("create the folder", out.parent, exc) from exc
    problem = on_problem or (lambda _m: None)
    with _exclusive(out), _no_space(out):
        recover(out)
        _clean_stale(out)
        files = source_files(sources, base_dir, out)
        print_ = fingerprint(config)
        if not full and (out / STATE_FILE).exists():
            report = update(files, out, config, print_, problem)
            if report is not None:
                return report
        tmp = out.parent / f".{out.name}.building-{os.getpid()}"
        tmp.mkdir()
        try:
            with Spool[State](tmp) as states:
                report = _build_into(files, tmp, config, out, print_, problem, states)
            if config.strict and report.refused_by_strict:
                remove_tree(tmp)
                return report
            publish_log(tmp / LOG_FILE)
            _swap(tmp, out)
            return report
        except BaseException:
            remove_tree(tmp)
            raise


def fingerprint(config: Config) -> str:
    """Everything besides the sources that shapes the output: the settings that reach it, the
    vocabularies and lod's own code. A different fingerprint means a full build."""
    digest = hashlib.sha256()
    settings = {
        k: v
        for k, v in sorted(dataclasses.asdict(config).items())
        if k not in RUN_ONLY and not k.startswith(("query_", "serve_", "oai_", "thing_", "store"))
    }
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    package = Path(__file__).resolve().parent.parent
    for folder in (package, VOCAB_DIR):
        for path in sorted(folder.rglob("*")):
            if (
                path.is_file()
                and path.suffix in (".py", ".html", ".csv", ".ttl", ".jsonld")
                and path.name not in UNREAD
            ):
                digest.update(str(path.relative_to(folder)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def finish_commit(out: Path) -> bool:
    """Finish the commit of an incremental build killed while it moved its files into `out`
    (lod.publish.incremental.recover), unless a build holds the output and will do it itself.
    For `lod serve`, which must not serve half of a publication until someone builds again.
    True when there was one to finish."""
    if not interrupted(out):
        return False
    try:
        with _exclusive(out, wait=0.0):
            recover(out)
    except BuildRunning:
        return False
    return True


@contextmanager
def _exclusive(out: Path, wait: float | None = None) -> Iterator[None]:
    """One build per output folder at a time: a second one fails instead of deleting the first
    one's work in progress. The lock dies with its holders, even under kill -9; forked workers
    hold it too and die a moment after a killed build, hence the short wait (`wait` seconds,
    LOCK_WAIT unless given)."""
    lock = out.parent / f".{out.name}.lock"
    try:
        handle = lock.open("a")
    except OSError as exc:
        raise _unwritable("create the lock file", lock, exc) from exc
    with handle:
        deadline = time.monotonic() + (LOCK_WAIT if wait is None else wait)
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() > deadline:
                    raise BuildRunning(
                        f"another lod build is writing {out}; wait for it to finish"
                    ) from exc
                time.sleep(0.05)
        yield


@contextmanager
def _no_space(out: Path) -> Iterator[None]:
    """A full disk, wherever it shows (a worker's write, SQLite, the store loader), is one
    clear error. By then the build has deleted its temporary folder; the output is untouched."""
    try:
        yield
    except (OSError, sqlite3.Error, LodError) as exc:
        if isinstance(exc, DiskFullError) or not out_of_space(exc):
            raise
        raise DiskFullError(
            f"no space left on the disk holding {out.parent}; the build was abandoned and the "
            f"last publication in {out} is unchanged. A full build writes a whole new copy of "
            "the site beside the old one before it swaps it in: free at least that much space "
            "there (or give --out a folder on a bigger disk) and run lod build again"
        ) from exc


def _build_into(
    files: list[tuple[Path, str]],
    root: Path,
    config: Config,
    previous: Path,
    print_: str,
    on_problem: Callable[[str], None],
    states: Spool[State],
) -> BuildReport:
    vocab = load_vocab()
    minter = Minter(config.base_uri)
    site = SiteWriter(root, minter, vocab)
    made = generation(config.source_date_epoch, VOCAB_DIR)
    report = BuildReport()
    # The controlled vocabularies are published whole; records' contributions merge into them.
    entities: dict[str, Entity] = {e.uri: e for e in vocabulary_entities(vocab, minter)}
    # Per record only what stays small is kept in memory (see `bench/suite.py`'s memory bound):
    # backlinks as record numbers in the state file, each resource's part there too, its state
    # for the change log in a spool, the newest lastmod.
    linked: dict[str, array[int]] = {}
    state = BuildState(root / STATE_FILE, fresh=True)
    notes: dict[str, list[dict[str, Any]]] = {label: [] for _, label in files}
    rows: dict[str, int] = {}
    sets: dict[str, str] = dict(SET_GROUPS)
    newest = ""
    examples: list[str] = []
    (root / "dumps").mkdir()
    show = config.progress and sys.stderr.isatty()
    with (
        runner(config.workers, config.cluster, root, config.base_uri, made) as run,
        _Loaded(root / STORE_DIR) as loader,
        TextIndexWriter(root / INDEX_FILE) as index,
        tqdm(unit=" records", disable=not show, desc="lod build") as bar,
    ):
        dumps = DumpWriter(root / "dumps", prefixes_for(minter.vocab), loader)
        for result in published_notices(run(do_record, deduplicated(read_files(files)))):
            if isinstance(result, Skipped):
                entry = {"file": result.file, "reason": result.reason}
                report_skip(report, entry, on_problem)
                notes.setdefault(result.file, []).append({"skipped": entry})
                continue
            bar.update(1)
            if isinstance(result, SourceError):
                entry = report_error(report, result, on_problem)
                notes.setdefault(result.file or "", []).append({"error": entry})
            elif isinstance(result, RecordDone):
                report.attempted += 1
                report.published += 1
                ranges = dumps.add(result.written)
                docid = index_record(index, minter, result)
                state.put_parts([Part(result.uri, RECORDS, "record", docid, *spans(ranges))])
                row = rows.get(result.file, 0)
                rows[result.file] = row + 1
                number = state.put_record(record_row(result, row), result.entities)
                _collect(result, number, entities, linked)
                if result.written.violations:
                    state.put_violations(result.uri, result.written.violations)
                states.add(record_state(result))
                sets.update(result.sets)
                newest = max(newest, result.lastmod)
                if len(examples) < EXAMPLES:
                    examples.append(result.uri)
        # A collection read as a record already has its own, fuller page.
        uris = [u for u in sorted(entities) if not state.is_record(u)]
        docids = [index_entity(index, minter, entities[u]) for u in uris]
        jobs = (
            (entities[u], [backlink(minter, u, *link) for link in state.links(linked.get(u, ()))])
            for u in uris
        )
        for uri, docid, written in zip(
            uris, docids, run(do_entity, jobs, ENTITY_WINDOW), strict=True
        ):
            kind = kind_of(minter, uri)
            state.put_parts([Part(uri, ENTITIES, kind, docid, *spans(dumps.add(written)))])
            states.add(entity_state(minter, entities[uri], written))
            if written.violations:
                state.put_violations(uri, written.violations)
        dump_list = dumps.close()
        report.entities = len(entities)
    _write_static(root, site, vocab)
    for rank, (path, label) in enumerate(files):
        state.put_file(FileRow(label, rank, *stamp(path), notes.get(label, [])))
    state.put("fingerprint", print_)
    log = carry_log(previous, root)
    counts = log.record(
        states,
        [uri for uri in log.current_uris() if not state.has_part(uri)],
        now=config.source_date_epoch,
        sets=sets,
    )
    report.changes = counts.as_dict()
    store = Store(str(root / STORE_DIR))
    report.triples = len(store)
    described = describe(
        root,
        config,
        site,
        state,
        report,
        triples=report.triples,
        records=report.published,
        examples=examples,
        entities=len(uris),
        dumps=dump_list,
        modified=modified_date(config, [newest]),
        agent=Provenance(config.base_uri, minter.vocab, made).agent_triples(),
    )
    statistics = write_statistics(root, config.base_uri, minter.vocab, minter.dataset, store)
    store.bulk_extend(store_quads(described, statistics, config.base_uri))
    store.flush()
    write_pages(root, config, minter, state, log, report, dump_list)
    log.close()
    state.commit()
    return report


class _Loaded:
    """The store loader as a context: finished on success, killed on failure."""

    def __init__(self, path: Path) -> None:
        self.loader = StreamLoader(path)

    def __enter__(self) -> StreamLoader:
        return self.loader

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is None:
            self.loader.close()
        else:
            self.loader.abort()


def _collect(
    mapped: RecordDone, number: int, entities: dict[str, Entity], linked: dict[str, array[int]]
) -> None:
    """Merge a record's entities into the build's, and note the record (by its number in the
    state file) for each entity's backlinks."""
    for entity in mapped.entities:
        known = entities.get(entity.uri)
        if known is None:
            entities[entity.uri] = Entity(
                entity.uri,
                entity.kind,
                entity.types,
                entity.label,
                set(entity.variants),
                entity.same_as,
                list(entity.links),
                list(entity.literals),
            )
        else:
            known.merge(entity)
        numbers = linked.setdefault(entity.uri, array("q"))
        if len(numbers) < MAX_BACKLINKS:
            numbers.append(number)


def _write_static(root: Path, site: SiteWriter, vocab: Vocab) -> None:
    (root / "context.jsonld").write_text(
        json.dumps(site.context, indent=2) + "\n", encoding="utf-8"
    )
    (root / "vocab").mkdir(exist_ok=True)
    ttl = vocab.lod_ttl.replace("<BASE/vocab/", f"<{site.minter.base}vocab/")
    (root / "vocab" / "lod.ttl").write_text(ttl, encoding="utf-8")


def _check_output(out: Path) -> None:
    """Refuse to replace a folder lod did not write: `--out ~` must not delete a home folder."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise PublishError(
            f"{out} exists and is not a lod output folder; choose an empty or new folder for --out"
        )


def _unwritable(what: str, path: Path, exc: OSError) -> PublishError:
    """One line for an --out lod cannot prepare, raised before anything is written."""
    reason = (
        "a file of that name is in the way" if isinstance(exc, FileExistsError) else exc.strerror
    )
    return PublishError(
        f"cannot {what} {path}: {reason}; nothing was written. Choose an --out "
        "in a folder you may write to, or make that one writable"
    )


def _clean_stale(out: Path) -> None:
    """Leftovers of killed builds, and replaced files a background deleter has not finished
    with, are deleted in the background too: a build need not wait for gigabytes to go."""
    for stale in out.parent.glob(f".{out.name}.building-*"):
        discard(stale, out)
    for stale in out.parent.glob(f".{out.name}.old-*"):
        delete_later(stale)


def _swap(tmp: Path, out: Path) -> None:
    """Put the new build in place of the old in one step: a reader (or a kill) between two
    renames would find no publication at all, and the next build would delete both."""
    try:
        if not out.exists():
            os.rename(tmp, out)
        elif _exchange(tmp, out):
            discard(tmp, out)  # it now holds the previous publication
        else:
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.rename(out, old)
            os.rename(tmp, out)
            delete_later(old)
    except OSError as exc:
        raise PublishError(f"cannot move the new build into {out}: {exc.strerror}") from exc


RENAME_EXCHANGE = 2
AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders atomically (Linux renameat2 with RENAME_EXCHANGE); False where the C
    library or the file system cannot, and the caller renames twice."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_REJECTED", "BuildReport", "build", "finish_commit"]
