"""Incremental republishing: rebuild only the records whose source changed, the entities they
touch, and the whole-site files; splice the dumps; patch copies of the store and the index.

A build over an existing output with the same fingerprint (settings, vocabularies, code)
reads only source files whose size or modification time changed, maps only records whose
source hash changed, and leaves every other file as it is: same bytes, same inode, same
modification time, so ETags, Last-Modified and datestamps hold.

Nothing is written into the output until everything is ready in a staging folder beside it.
Then a journal names the staging folder and the files to delete, the staged files are renamed
into place and the journal is removed. A build killed while renaming leaves the journal, and
the next build, or `lod serve` (on start, and within a second while it runs), finishes the
renaming (`recover`), so the output is either the last publication or the new one. Big changes
(many records, a duplicate ID across files) are left to a full build, which is faster for them
and keeps the rules simple.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import DefaultGraph, NamedNode, RdfFormat, Store, parse

from lod.authorities import Entity
from lod.changelog import LOG_FILE, publish_log
from lod.concepts import vocabulary_entities
from lod.config import Config
from lod.errors import PublishError, SourceError, out_of_space
from lod.model import Origin, Record
from lod.namespaces import prefixes_for
from lod.provenance import Provenance, generation
from lod.publish.dataset import Dump
from lod.publish.dumps import DumpWriter, OldDumps, same_bytes
from lod.publish.finish import (
    BuildReport,
    describe,
    modified_date,
    store_quads,
    write_pages,
)
from lod.publish.removal import remove_tree
from lod.publish.state import (
    ENTITIES,
    RECORDS,
    STATE_FILE,
    BuildState,
    FileRow,
    Part,
    entity_from_json,
    entity_json,
)
from lod.publish.steps import (
    MAX_BACKLINKS,
    backlink,
    carry_log,
    deduplicated,
    entity_state,
    index_entity,
    index_record,
    kind_of,
    record_row,
    record_state,
    replay,
    report_error,
    report_skip,
    spans,
    supersedes,
)
from lod.publish.validation import REPORT_FILE, assemble
from lod.publish.writer import SET_GROUPS, RecordDone, Worker, Written, source_hash
from lod.sources import Skipped, read_files, stamp
from lod.sources.units import Unchanged
from lod.statistics import STATS_FILE, write_statistics
from lod.store import BUILD_INFO, STORE_DIR
from lod.textindex import INDEX_FILE, TextIndexWriter
from lod.vocab import VOCAB_DIR

MAX_CHANGED = 2_000
"""More changed records than this, or than a tenth of all, go to a (parallel) full build."""
FORMATS = (".ttl", ".nt", ".jsonld", ".rdf", ".html")


@dataclass
class _Plan:
    """What the staging folder holds beyond its files: paths to delete from the output."""

    deletions: list[str] = field(default_factory=list)


def update(
    files: list[tuple[Path, str]],
    out: Path,
    config: Config,
    print_: str,
    on_problem: Callable[[str], None],
) -> BuildReport | None:
    """Republish what changed in place; None when a full build is needed instead."""
    if _old_fingerprint(out) != print_:
        return None
    stage = out.parent / f".{out.name}.building-{os.getpid()}"
    stage.mkdir()
    try:
        try:
            result = _stage(files, out, stage, config, on_problem)
        except (OSError, sqlite3.DatabaseError, KeyError) as exc:
            if out_of_space(exc):
                raise  # a full build would need more room still
            # The last build's files do not match its state (damaged, edited by hand):
            # they cannot be spliced, but they need not stop the build either.
            on_problem(f"notice: {out}: cannot build incrementally ({exc!r}); building it all")
            result = None
        if result is None:
            remove_tree(stage)
            return None
        report, plan = result
        if config.strict and report.refused_by_strict:
            remove_tree(stage)
            return report
        commit(stage, out, plan.deletions)
        return report
    except BaseException:
        # Once the journal names the stage (a Ctrl-C while committing), the stage is the new
        # publication's only copy: kept for `recover` to finish moving, not deleted.
        if not interrupted(out):
            remove_tree(stage)
        raise


def _old_fingerprint(out: Path) -> str:
    try:
        with sqlite3.connect(f"file:{out / STATE_FILE}?mode=ro", uri=True) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
    except sqlite3.Error:
        return ""
    return str(row[0]) if row else ""


def _stage(
    files: list[tuple[Path, str]],
    out: Path,
    stage: Path,
    config: Config,
    on_problem: Callable[[str], None],
) -> tuple[BuildReport, _Plan] | None:
    shutil.copyfile(out / STATE_FILE, stage / STATE_FILE)
    state = BuildState(stage / STATE_FILE)
    try:
        result = _Incremental(files, out, stage, config, state, on_problem).run()
    except BaseException:
        state.abort()
        raise
    if result is None:
        state.abort()
    else:
        state.commit()
    return result


class _Incremental:
    def __init__(
        self,
        files: list[tuple[Path, str]],
        out: Path,
        stage: Path,
        config: Config,
        state: BuildState,
        on_problem: Callable[[str], None],
    ) -> None:
        self.files = files
        self.out = out
        self.stage = stage
        self.config = config
        self.state = state
        self.on_problem = on_problem
        self.made = generation(config.source_date_epoch, VOCAB_DIR)
        self.worker = Worker(stage, config.base_uri, self.made)
        self.minter = self.worker.minter
        self.report = BuildReport(incremental=True)
        self.seeds = {
            e.uri: entity_json(e)
            for e in vocabulary_entities(self.worker.mapper.vocab, self.minter)
        }
        """The vocabularies' entities, published whether or not a record refers to them."""

    def run(self) -> tuple[BuildReport, _Plan] | None:
        state = self.state
        old_files = state.files()
        ranks = {label: rank for rank, (_, label) in enumerate(self.files)}
        changed: list[tuple[Path, str]] = []
        for path, label in self.files:
            known = old_files.get(label)
            if known is None or (known.size, known.mtime) != stamp(path):
                changed.append((path, label))
        gone = [label for label in old_files if label not in ranks]
        before_order = [f.label for f in sorted(old_files.values(), key=lambda f: f.rank)]
        moved = [x for x in before_order if x in ranks] != [
            x for _, x in self.files if x in old_files
        ]
        if not changed and not gone and not moved:
            return self._unchanged(old_files), _Plan()
        if moved:
            return None  # files in a new order: every entity's merge order may change
        changed_labels = {label for _, label in changed}
        unread = set(ranks) - changed_labels
        by_hash: dict[str, str] = {}
        unit_keys: dict[str, tuple[str, str]] = {}
        before: dict[str, set[str]] = {}
        old_order: list[str] = []
        read_at: dict[str, tuple[str, int | None]] = {}
        for label in sorted(
            [*changed_labels, *gone], key=lambda x: old_files[x].rank if x in old_files else -1
        ):
            for old in state.records_of(label):
                by_hash[old.source_hash] = old.uri
                unit_keys[old.source_hash] = (old.kind, old.id)
                before[old.uri] = state.entity_uris_of(old.uri)
                old_order.append(old.uri)
                read_at[old.uri] = (old.file, old.line)
        kept_keys = {
            (kind, rid)
            for label in unread
            for kind, rid in state.db.execute(
                "SELECT kind, id FROM records WHERE file = ?", (label,)
            )
        }
        notes: dict[str, list[dict[str, object]]] = {label: [] for label in changed_labels}
        rows: dict[str, int] = {}
        done: list[RecordDone] = []
        kept: set[str] = set()
        kept_order: list[str] = []
        moved_rows: dict[str, Origin] = {}
        """Kept records whose row now starts at another line: their provenance says so."""

        def keep(uri: str, file: str, row: int, line: int | None) -> None:
            state.move_record(uri, file, row, line)
            kept.add(uri)
            kept_order.append(uri)
            if read_at[uri] != (file, line):
                moved_rows[uri] = Origin(file, line)

        items = read_files(changed, known=by_hash.__contains__)
        for item in deduplicated(items, unit_keys):
            if isinstance(item, Unchanged):
                row = rows.get(item.file, 0)
                rows[item.file] = row + 1
                same = by_hash[item.unit]
                if same in kept:
                    return None  # the same row twice: let the full build report it
                keep(same, item.file, row, item.line)
                continue
            if isinstance(item, Skipped):
                entry = {"file": item.file, "reason": item.reason}
                notes.setdefault(item.file, []).append({"skipped": entry})
                continue
            if isinstance(item, Record):
                if (item.kind, item.id) in kept_keys:
                    return None  # the same ID in an unchanged file: first-read order decides
                row = rows.get(item.origin.file, 0)
                rows[item.origin.file] = row + 1
                uri = by_hash.get(item.unit or source_hash(item))
                if uri is not None and uri not in kept:
                    keep(uri, item.origin.file, row, item.origin.line)
                    continue
                if len(done) >= MAX_CHANGED:
                    return None
                result = self.worker.record(item)
                if isinstance(result, RecordDone):
                    result_row = row
                    done.append(result)
                    state.put_record(record_row(result, result_row), result.entities)
                    continue
                item = result
            if isinstance(item, SourceError):
                file_notes = notes.setdefault(item.file or "", [])
                if file_notes and supersedes(item, file_notes[-1].get("error")):
                    file_notes.pop()
                file_notes.append({"error": item})
        total = state.db.execute("SELECT count(*) FROM records").fetchone()[0]
        if len(done) > max(10, total // 10):
            return None
        if [u for u in old_order if u in kept] != kept_order:
            return None  # records swapped places: entity merges and backlinks follow that order
        new_uris = {d.uri for d in done}
        unread_uris = {
            uri
            for label in unread
            for (uri,) in state.db.execute("SELECT uri FROM records WHERE file = ?", (label,))
        }
        if new_uris & (unread_uris - kept):
            return None  # a changed record took the URI of one in an unread file
        removed = [uri for uri in before if uri not in kept and uri not in new_uris]
        for uri in removed:
            state.drop_record(uri)
        for label in gone:
            state.drop_file(label)
        return self._publish(old_files, ranks, changed, notes, done, removed, before, moved_rows)

    def _unchanged(self, old_files: dict[str, FileRow]) -> BuildReport:
        """Nothing to do: report again what the last build reported, write nothing."""
        report = self.report
        for row in sorted(old_files.values(), key=lambda f: f.rank):
            replay(report, row.notes, self.on_problem)
        report.published = len(self.state.ordered_uris())
        report.attempted += report.published
        info = json.loads((self.out / BUILD_INFO).read_text(encoding="utf-8"))
        report.triples = int(info["triples"])
        report.entities = len(self.state.entity_uris() | set(self.seeds))
        report.validation = assemble(self.state)
        return report

    def _publish(
        self,
        old_files: dict[str, FileRow],
        ranks: dict[str, int],
        changed: list[tuple[Path, str]],
        notes: dict[str, list[dict[str, object]]],
        done: list[RecordDone],
        removed: list[str],
        before: dict[str, set[str]],
        moved_rows: dict[str, Origin],
    ) -> tuple[BuildReport, _Plan]:
        state, report, minter = self.state, self.report, self.minter
        changed_labels = {label for _, label in changed}
        stamps = {label: stamp(path) for path, label in changed}
        # Files in reading order, their report entries replayed or made anew.
        for _path, label in self.files:
            if label in changed_labels:
                entries: list[dict[str, object]] = []
                for note in notes.get(label, []):
                    if "error" in note:
                        error = note["error"]
                        assert isinstance(error, SourceError)
                        entries.append({"error": report_error(report, error, self.on_problem)})
                    else:
                        entry = note["skipped"]
                        assert isinstance(entry, dict)
                        report_skip(report, entry, self.on_problem)
                        entries.append(note)
                state.put_file(
                    FileRow(label, ranks[label], *stamps[label], entries)  # type: ignore[arg-type]
                )
            else:
                row = old_files[label]
                replay(report, row.notes, self.on_problem)
                if row.rank != ranks[label]:
                    row.rank = ranks[label]
                    state.put_file(row)
        records = state.ordered_uris()
        report.published = len(records)
        report.attempted += report.published
        record_uris = set(records)
        # Entities touched by a changed or removed record: merged again from every record's
        # contribution, in reading order, as the full build merges them.
        all_entities = state.entity_uris() | set(self.seeds)
        # A collection read as a record and now gone falls back to its entity page.
        touched: set[str] = {uri for uri in removed if uri in all_entities}
        for uri in removed:
            touched |= before.get(uri, set())
        for d in done:
            touched |= before.get(d.uri, set())
            touched |= {e.uri for e in d.entities}
        written: dict[str, Written] = {d.uri: d.written for d in done}
        removed_entities: list[str] = []
        entity_rows: dict[str, Entity] = {}
        for uri in sorted(touched):
            if uri in record_uris:
                continue
            merged, links = self._merge(uri)
            if merged is None:
                removed_entities.append(uri)
                continue
            entity_rows[uri] = merged
            written[uri] = self.worker.entity((merged, links))
        entity_uris = sorted(all_entities - record_uris)
        report.entities = len(all_entities)
        old_parts = state.parts()
        gone = [u for u in removed if u not in written] + removed_entities
        relocated = self._relocated(moved_rows, old_parts)
        parts, dump_list = self._dumps(
            records, entity_uris, written, gone, old_parts, entity_rows, done, relocated
        )
        state.replace_parts(parts)
        store, report.triples = self._store({**written, **relocated}, gone)
        log = carry_log(self.out, self.stage)
        states = [record_state(d) for d in done] + [
            entity_state(minter, e, written[u]) for u, e in sorted(entity_rows.items())
        ]
        sets = dict(SET_GROUPS)
        for d in done:
            sets.update(d.sets)
        counts = log.record(states, gone, now=self.config.source_date_epoch, sets=sets)
        report.changes = counts.as_dict()
        lastmods = [lastmod for (lastmod,) in state.db.execute("SELECT lastmod FROM records")]
        for uri, resource in written.items():
            state.put_violations(uri, resource.violations)
        for uri in gone:
            state.drop_violations(uri)
        described = describe(
            self.stage,
            self.config,
            self.worker.site,
            state,
            report,
            triples=report.triples,
            records=len(records),
            examples=records,
            entities=len(entity_uris),
            dumps=dump_list,
            modified=modified_date(self.config, lastmods),
            agent=Provenance(self.config.base_uri, minter.vocab, self.made).agent_triples(),
        )
        statistics = write_statistics(
            self.stage, self.config.base_uri, minter.vocab, minter.dataset, store
        )
        store.extend(store_quads(described, statistics, self.config.base_uri))
        store.flush()
        del store
        write_pages(self.stage, self.config, minter, state, log, report, dump_list)
        log.close()
        deletions = [
            minter.doc_file(uri) + suffix for uri in gone for suffix in FORMATS
        ] + self._stale("sitemaps/*.xml", "index-*.html")
        return report, _Plan(deletions)

    def _merge(self, uri: str) -> tuple[Entity | None, list[dict[str, str]]]:
        """The entity as the full build merges it: every record's contribution in reading
        order, over the vocabulary's own description if it has one. Most contributions repeat
        one another (an archive named by 20,000 records), and merging one twice changes nothing,
        so each distinct one is parsed once."""
        seed = self.seeds.get(uri)
        merged: Entity | None = entity_from_json(seed) if seed else None
        links: list[dict[str, str]] = []
        seen_records: set[str] = set()
        seen_data: set[str] = set()
        for record_uri, text, data in self.state.contributions(uri):
            if data not in seen_data:
                seen_data.add(data)
                entity = entity_from_json(data)
                if merged is None:
                    merged = entity
                else:
                    merged.merge(entity)
            if record_uri not in seen_records and len(links) < MAX_BACKLINKS:
                seen_records.add(record_uri)
                links.append(backlink(self.minter, uri, record_uri, text))
        return merged, links

    def _relocated(
        self, moved_rows: dict[str, Origin], old_parts: dict[str, Part]
    ) -> dict[str, Written]:
        """The dump shares of kept records whose row moved, with their provenance renewed."""
        if not moved_rows:
            return {}
        old = OldDumps(self.out / "dumps")
        try:
            out = {}
            for uri, origin in moved_rows.items():
                part = old_parts[uri]
                share = Written(
                    old.read("gz", part.gz),
                    old.read("ttl", part.ttl),
                    old.read("js", part.js).decode("utf-8").removesuffix("\n"),
                    "",
                    0,
                    b"",
                )
                out[uri] = self.worker.relocated(share, uri, origin)
            return out
        finally:
            old.close()

    def _dumps(
        self,
        records: list[str],
        entity_uris: list[str],
        written: dict[str, Written],
        gone: list[str],
        old_parts: dict[str, Part],
        entities: dict[str, Entity],
        done: list[RecordDone],
        relocated: dict[str, Written],
    ) -> tuple[list[Part], list[Dump]]:
        """The dumps in a full build's order, old bytes copied, new ones written; the keyword
        index updated for the rewritten resources on the way."""
        folder = self.stage / "dumps"
        folder.mkdir()
        dumps = DumpWriter(folder, prefixes_for(self.minter.vocab))
        old = OldDumps(self.out / "dumps")
        shutil.copyfile(self.out / INDEX_FILE, self.stage / INDEX_FILE)
        index = TextIndexWriter(self.stage / INDEX_FILE, update=True)
        index.remove(old_parts[u].docid for u in [*written, *gone] if u in old_parts)
        by_uri = {d.uri: d for d in done}
        parts: list[Part] = []
        try:
            for section, uris in (
                (RECORDS, records),
                (ENTITIES, entity_uris),
            ):
                for uri in uris:
                    kind = "record" if section == RECORDS else kind_of(self.minter, uri)
                    if uri in written:
                        ranges = dumps.add(written[uri])
                        if uri in by_uri:
                            docid = index_record(index, self.minter, by_uri[uri])
                        else:
                            docid = index_entity(index, self.minter, entities[uri])
                    elif uri in relocated:
                        ranges = dumps.add(relocated[uri])
                        docid = old_parts[uri].docid
                    else:
                        ranges = dumps.copy(old, old_parts[uri])
                        docid = old_parts[uri].docid
                    parts.append(Part(uri, section, kind, docid, *spans(ranges)))
            dump_list = dumps.close()
            index.close()
        except BaseException:
            dumps.abort()
            index.abort()
            raise
        finally:
            old.close()
        return parts, dump_list

    def _store(self, written: dict[str, Written], gone: list[str]) -> tuple[Store, int]:
        """A copy of the store (hard-linked files) with the changed resources' graphs replaced,
        the removed ones dropped and the old dataset description taken out. Returns it and the
        number of quads besides the description, counted as they go in and out (counting the
        store itself reads all its millions of quads)."""
        source = Store.read_only(str(self.out / STORE_DIR))
        source.backup(str(self.stage / STORE_DIR))
        del source
        store = Store(str(self.stage / STORE_DIR))
        info = json.loads((self.out / BUILD_INFO).read_text(encoding="utf-8"))
        count = int(info["triples"])
        for uri in [*written, *gone]:
            graph = NamedNode(self.minter.doc(uri))
            count -= sum(1 for _ in store.quads_for_pattern(None, None, None, graph))
            if store.contains_named_graph(graph):
                store.remove_graph(graph)
        for resource in written.values():
            for quad in parse(resource.plain_nquads, RdfFormat.N_QUADS):
                store.add(quad)
                count += 1
        store.clear_graph(DefaultGraph())
        for name in (REPORT_FILE, STATS_FILE):
            graph = NamedNode(self.config.base_uri + name)
            if store.contains_named_graph(graph):
                store.remove_graph(graph)
        return store, count

    def _stale(self, *patterns: str) -> list[str]:
        """Numbered files of the last build (sitemap parts, index pages) this one has fewer of."""
        return [
            path.relative_to(self.out).as_posix()
            for pattern in patterns
            for path in sorted(self.out.glob(pattern))
            if not (self.stage / path.relative_to(self.out)).exists()
        ]


# --- committing --------------------------------------------------------------------------------


def _journal(out: Path) -> Path:
    return out.parent / f".{out.name}.commit"


def commit(stage: Path, out: Path, deletions: list[str]) -> None:
    """Move the staged files into the output, unchanged ones excepted, under a journal."""
    write_journal(stage, out, deletions)
    recover(out)


def write_journal(stage: Path, out: Path, deletions: list[str]) -> None:
    """Drop staged files equal to the output's, then name what is left to do. From here on
    the new publication is decided: whoever finds the journal finishes it."""
    for path in sorted(stage.rglob("*")):
        relative = path.relative_to(stage)
        # build.json always moves: its new inode is what tells `lod serve` to switch.
        if path.is_file() and relative.parts[0] != STORE_DIR and str(relative) != BUILD_INFO:
            if same_bytes(path, out / relative):
                path.unlink()
    journal = _journal(out)
    temporary = journal.with_suffix(".tmp")
    try:
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump({"stage": str(stage), "delete": deletions}, handle)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError:
        temporary.unlink(missing_ok=True)  # a full disk must not leave half a journal behind
        raise
    os.replace(temporary, journal)


def interrupted(out: Path) -> bool:
    """Whether a build was killed after deciding its publication, before it finished moving it
    into `out` (its journal is still there)."""
    return _journal(out).exists()


def recover(out: Path) -> None:
    """Finish a commit a killed build left half done (see the module docstring)."""
    journal = _journal(out)
    if not journal.exists():
        return
    try:
        plan = json.loads(journal.read_text(encoding="utf-8"))
        stage, deletions = Path(plan["stage"]), list(plan["delete"])
    except (OSError, ValueError, KeyError) as exc:
        raise PublishError(f"cannot read the commit journal {journal}: {exc}") from exc
    _apply(stage, out, deletions)
    journal.unlink()
    discard(stage, out)


ASIDE = ".replaced"
"""Where, in the stage, the files a commit replaces keep a link until they are deleted."""


def _apply(stage: Path, out: Path, deletions: list[str]) -> None:
    """Idempotent: a file already moved is no longer in the stage. The change log and then
    build.json go last, as the server reloads a build when build.json changes; the log's new
    changes are stamped just before, with the time they become visible (ChangeLog.publish).
    Replaced files keep a hard link in the stage, so renaming over a 2 GB dump does not wait
    for the file system to free it."""
    info = stage / BUILD_INFO
    log = stage / LOG_FILE
    aside = stage / ASIDE
    aside.mkdir(exist_ok=True)
    for path in sorted(stage.rglob("*")):
        relative = path.relative_to(stage)
        top = relative.parts[0]
        if top in (STORE_DIR, ASIDE) or path in (info, log) or not path.is_file():
            continue
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        _set_aside(target, aside)
        os.replace(path, target)
    staged_store = stage / STORE_DIR
    if staged_store.is_dir():
        if (out / STORE_DIR).exists():
            os.replace(out / STORE_DIR, aside / STORE_DIR)
        os.replace(staged_store, out / STORE_DIR)
    for relative_path in deletions:
        _set_aside(out / relative_path, aside)
        (out / relative_path).unlink(missing_ok=True)
    if log.exists():
        publish_log(log)
        _set_aside(out / LOG_FILE, aside)
        os.replace(log, out / LOG_FILE)
    if info.exists():
        os.replace(info, out / BUILD_INFO)


def _set_aside(target: Path, aside: Path) -> None:
    try:
        os.link(target, aside / f"{len(os.listdir(aside))}-{target.name}")
    except FileExistsError:
        pass
    except FileNotFoundError:
        return


def discard(folder: Path, out: Path) -> None:
    """Delete `folder` (a used stage, a killed build's leftovers) in the background: renamed
    out of the way at once, then removed by a process that outlives us. A later build deletes
    anything a killed deleter left (the `.old-*` folders)."""
    old = out.parent / f".{out.name}.old-{os.getpid()}-{time.monotonic_ns()}"
    try:
        os.rename(folder, old)
    except OSError:
        remove_tree(folder)
        return
    delete_later(old)


def delete_later(folder: Path) -> None:
    # sh starts rm in the background and returns at once; rm lives on without us.
    subprocess.run(
        ["sh", "-c", 'rm -rf -- "$1" </dev/null >/dev/null 2>&1 &', "sh", str(folder)],
        check=False,
        start_new_session=True,
    )


__all__ = [
    "commit",
    "delete_later",
    "discard",
    "interrupted",
    "recover",
    "update",
    "write_journal",
]
