"""The command line: `lod build [SOURCES...] --out DIR` and `lod serve [DIR]`.

Exit status of `lod build`: 0 all records published; 3 some records were rejected or duplicated
(the valid ones were published, see report.json); 1 the build failed or `--strict` refused to
publish (the previous output is untouched); 2 wrong usage; 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from lod.config import SETTINGS, load_config
from lod.errors import LodError
from lod.harvest import Politeness, PoliteSession, jsonapi, oai, reconcile
from lod.publish.incremental import interrupted as commit_pending
from lod.publish.site import EXIT_FAILED, EXIT_OK, EXIT_REJECTED, build
from lod.publish.validation import summary as validation_summary
from lod.push import CHUNK_BYTES
from lod.remote import AUTH_SCHEMES
from lod.vocab import VOCAB_DIR, load_vocab

Command = TypeVar("Command", bound=Callable[..., Any])

DEFAULT_SOURCES = (Path("records"),)
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
QUERY_FORMATS = ("json", "xml", "csv", "tsv", "turtle", "jsonld", "ntriples", "rdfxml")


@click.group()
@click.version_option(package_name="lod")
def main() -> None:
    """lod publishes archival records as linked open data."""


@contextmanager
def interruptible(advice: str | Callable[[], str]) -> Iterator[None]:
    """Ctrl-C ends a command with what became of its work and how to go on (`advice`, or what
    it returns by then), and status 130 (128 + SIGINT) as shells report it: not click's bare
    "Aborted!" and status 1, which a script cannot tell from a failure."""
    try:
        yield
    except KeyboardInterrupt:
        click.echo(f"interrupted; {advice() if callable(advice) else advice}", err=True)
        sys.exit(EXIT_INTERRUPTED)


def politeness_options(timeout: float, rate: bool = True) -> Callable[[Command], Command]:
    """--rate, --timeout and --retries, alike on every command that talks to another server
    (lod.harvest.http's polite session); `lod push` to one's own store is not rate-limited."""
    options = [
        click.option(
            "--timeout",
            type=click.FloatRange(min=0.1),
            default=timeout,
            show_default=True,
            help="Seconds to wait for the server on each request.",
        ),
        click.option(
            "--retries",
            type=click.IntRange(min=0),
            default=4,
            show_default=True,
            help="Retries of a request after server errors, 429, timeouts or dropped "
            "connections (waiting 2 s, 4 s, ... or as Retry-After says).",
        ),
    ]
    if rate:
        options.insert(
            0,
            click.option(
                "--rate",
                type=click.FloatRange(min=0),
                default=1.0,
                show_default=True,
                help="Minimum seconds between two requests.",
            ),
        )

    def apply(command: Command) -> Command:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


@main.command("build")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    default=Path("site"),
    show_default=True,
    help="Output folder (replaced atomically on success).",
)
@click.option("--base-uri", help=next(s.help for s in SETTINGS if s.name == "base_uri"))
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="A lod.toml file.")
@click.option(
    "--strict",
    is_flag=True,
    default=None,
    help=next(s.help for s in SETTINGS if s.name == "strict"),
)
@click.option("--no-progress", is_flag=True, help="Never show a progress bar.")
@click.option(
    "--full",
    is_flag=True,
    help="Rebuild everything, even over an earlier build that allows an incremental one.",
)
@click.option(
    "--cluster",
    metavar="ADDRESS",
    help=next(s.help for s in SETTINGS if s.name == "cluster"),
)
def build_command(
    sources: tuple[Path, ...],
    out: Path,
    base_uri: str | None,
    config_file: Path | None,
    strict: bool | None,
    no_progress: bool,
    full: bool,
    cluster: str | None,
) -> None:
    """Build SOURCES (default: records/) into a static linked-data site in --out."""
    with interruptible(lambda: _after_interrupted_build(out)):
        try:
            config = load_config(
                config_file,
                overrides={
                    "base_uri": base_uri,
                    "strict": strict,
                    "progress": False if no_progress else None,
                    "cluster": cluster,
                },
            )
            report = build(
                list(sources or DEFAULT_SOURCES),
                out,
                config,
                on_problem=lambda message: click.echo(message, err=True),
                full=full,
            )
        except LodError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_FAILED)
    checked = report.validation
    for line in validation_summary(checked):
        click.echo(line, err=True)
    summary = (
        f"Attempted {report.attempted}, published {report.published} ({report.cleaned} cleaned), "
        f"rejected {report.rejected}, duplicates {report.duplicates}; {report.entities} entities, "
        f"{report.triples} triples; "
        f"SHACL: {checked.invalid} violations, {len(checked.entries) - checked.invalid} warnings"
    )
    if config.strict and report.refused_by_strict:
        click.echo(f"{summary}\nerror: --strict: nothing was written; {out} is unchanged", err=True)
        sys.exit(EXIT_FAILED)
    changes = report.changes
    how = "incremental" if report.incremental else "full build"
    counts = ", ".join(f"{changes.get(k, 0)} {k}" for k in ("created", "updated", "deleted"))
    click.echo(f"{summary} -> {out} ({how}: {counts})", err=True)
    sys.exit(report.exit_code)


def _after_interrupted_build(out: Path) -> str:
    """What an interrupted build left: nothing, as it writes beside the publication and swaps
    it in at the end; or, stopped while moving an incremental build's files into place, a
    journal that the next build (or `lod serve`) follows to finish the move."""
    if commit_pending(out.resolve()):
        return (
            f"the new publication was being moved into {out}; run the same command again "
            f"(or lod serve {out}) to finish moving it"
        )
    return (
        f"the publication in {out} is unchanged (a build writes beside it and swaps it in "
        "only when done); run the same command again to build it"
    )


@main.command("serve")
@click.argument(
    "directory",
    required=False,
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("site"),
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="A lod.toml file.")
@click.option(
    "--query-timeout",
    type=float,
    help=next(s.help for s in SETTINGS if s.name == "query_timeout"),
)
@click.option(
    "--workers",
    type=int,
    help=next(s.help for s in SETTINGS if s.name == "serve_workers"),
)
@click.option(
    "--store",
    metavar="URL",
    help=next(s.help for s in SETTINGS if s.name == "store"),
)
def serve_command(
    directory: Path,
    host: str,
    port: int,
    config_file: Path | None,
    query_timeout: float | None,
    workers: int | None,
    store: str | None,
) -> None:
    """Serve a built DIRECTORY: linked data, SPARQL at /sparql, query page, search."""
    from lod.serve.app import run

    if not (directory / "index.html").exists():
        click.echo(
            f"error: {directory} is not a lod build; run `lod build --out {directory}` first",
            err=True,
        )
        sys.exit(EXIT_FAILED)
    try:
        config = load_config(
            config_file,
            overrides={"query_timeout": query_timeout, "serve_workers": workers, "store": store},
        )
        run(
            directory,
            config,
            host,
            port,
            lambda url: click.echo(
                f"Serving {directory} at {url}  (query page: {url}query, SPARQL endpoint: "
                f"{url}sparql, search: {url}search; Ctrl-C to stop)",
                err=True,
            ),
        )
    except LodError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)


@main.command("push")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--store", metavar="URL", help="SPARQL query endpoint of the target store (reads its state)."
)
@click.option(
    "--graph-store",
    metavar="URL",
    help="Graph Store HTTP Protocol endpoint: graphs are written by PUT, removed by DELETE.",
)
@click.option(
    "--update",
    metavar="URL",
    help="SPARQL Update endpoint, used when no --graph-store is given (default: --store).",
)
@click.option(
    "--single-graph",
    metavar="IRI",
    default="",
    help="Put every triple into this one graph instead of one named graph per resource.",
)
@click.option("--user", help=next(s.help for s in SETTINGS if s.name == "store_user"))
@click.option(
    "--password",
    help="Password for the store (better: the LOD_STORE_PASSWORD environment variable).",
)
@click.option("--auth", type=click.Choice(sorted(AUTH_SCHEMES)), help="HTTP authentication.")
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1024),
    default=CHUNK_BYTES,
    show_default=True,
    help="Most bytes of N-Triples in one request.",
)
@politeness_options(timeout=120.0, rate=False)
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="A lod.toml file.")
@click.option("--no-progress", is_flag=True, help="Never show a progress bar.")
def push_command(
    directory: Path,
    store: str | None,
    graph_store: str | None,
    update: str | None,
    single_graph: str,
    user: str | None,
    password: str | None,
    auth: str | None,
    chunk_size: int,
    timeout: float,
    retries: int,
    config_file: Path | None,
    no_progress: bool,
) -> None:
    """Load the build in DIRECTORY into an external SPARQL 1.1 store: one named graph per
    resource (or --single-graph), only what changed since the last push to that store."""
    from lod.push import push
    from lod.remote import Endpoints, RemoteStore, store_session

    with interruptible("run the same command again: it sends what is missing"):
        try:
            config = load_config(
                config_file,
                overrides={
                    "store": store,
                    "store_user": user,
                    "store_password": password,
                    "store_auth": auth,
                    "progress": False if no_progress else None,
                },
            )
            if not config.store:
                click.echo("error: give --store URL (the store's SPARQL query endpoint)", err=True)
                sys.exit(EXIT_USAGE)
            endpoints = Endpoints(config.store, update or config.store, graph_store or "")
            session = store_session(
                config.store_user,
                config.store_password,
                config.store_auth,
                timeout=timeout,
                attempts=retries + 1,
            )
            with session:
                report = push(
                    directory,
                    RemoteStore(endpoints, session),
                    single_graph=single_graph,
                    chunk_bytes=chunk_size,
                    progress=config.progress and sys.stderr.isatty(),
                )
        except LodError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_FAILED)
    click.echo(report.summary(), err=True)
    sys.exit(EXIT_OK)


@main.command("query")
@click.argument("query")
@click.option(
    "--site",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("site"),
    show_default=True,
    help="A folder written by `lod build`.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(QUERY_FORMATS),
    help="Result format; default tsv for SELECT/ASK, turtle for CONSTRUCT/DESCRIBE.",
)
@click.option("--limit", type=int, default=None, help="Most rows or triples to print.")
def query_command(query: str, directory: Path, fmt: str | None, limit: int | None) -> None:
    """Run a SPARQL QUERY (text, or @file.rq) on a built output and print the results."""
    from lod.sparql import run_local

    text = query
    if query.startswith("@"):
        try:
            text = Path(query[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            click.echo(f"error: cannot read {query[1:]}: {exc.strerror}", err=True)
            sys.exit(EXIT_USAGE)
    try:
        body = run_local(directory, text, fmt, limit)
    except LodError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    sys.stdout.buffer.write(body)


@main.command("harvest")
@click.argument("url")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("harvest"),
    show_default=True,
    help="Folder for the records, one file each (then: lod build DIR).",
)
@click.option(
    "--metadata-prefix",
    default="oai_dc",
    show_default=True,
    help="OAI-PMH metadata format: oai_dc, or rdf for a lod provider's full graphs.",
)
@click.option("--set", "set_spec", default="", help="Harvest only this OAI-PMH set.")
@click.option(
    "--from",
    "from_date",
    default="",
    help="Records changed on or after this date (default: since the last complete harvest).",
)
@click.option("--until", default="", help="Records changed on or before this date.")
@click.option(
    "--ids",
    default="",
    help="Harvest a JSON record API instead, these IDs (e.g. 112095,300237-300242); "
    "URL may contain {id}, else URL/srv/record/{id}.json is asked.",
)
@politeness_options(timeout=30.0)
def harvest_command(
    url: str,
    out: Path,
    metadata_prefix: str,
    set_spec: str,
    from_date: str,
    until: str,
    ids: str,
    rate: float,
    timeout: float,
    retries: int,
) -> None:
    """Harvest records from an OAI-PMH provider at URL (or a JSON record API, with --ids) into
    --out. OAI-PMH harvests are incremental: run again, get what changed since; an interrupted
    harvest resumes where it stopped."""
    if ids and (set_spec or from_date or until or metadata_prefix != "oai_dc"):
        click.echo(
            "error: --ids harvests a JSON API; --set, --from, --until and "
            "--metadata-prefix are for OAI-PMH",
            err=True,
        )
        sys.exit(EXIT_USAGE)
    politeness = Politeness(interval=rate, timeout=timeout, attempts=retries + 1)
    with (
        interruptible("run the same command again to resume"),
        PoliteSession(politeness) as session,
    ):
        if ids:
            code = _harvest_json(url, ids, out, session)
        else:
            code = _harvest_oai(url, out, session, metadata_prefix, set_spec, from_date, until)
    sys.exit(code)


def _harvest_json(url: str, ids: str, out: Path, session: PoliteSession) -> int:
    try:
        report = jsonapi.harvest(url, jsonapi.parse_ids(ids), out, session, _say)
    except LodError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_FAILED
    failed = f", {len(report.failed)} failed (see the notices)" if report.failed else ""
    click.echo(
        f"Harvested {report.written} records, {len(report.missing)} not found{failed}, "
        f"in {session.requests} requests -> {out}",
        err=True,
    )
    if report.failed:
        return EXIT_FAILED
    return EXIT_REJECTED if report.missing else EXIT_OK


def _harvest_oai(
    url: str,
    out: Path,
    session: PoliteSession,
    metadata_prefix: str,
    set_spec: str,
    from_date: str,
    until: str,
) -> int:
    request = oai.Request(url, metadata_prefix, set_spec, from_date, until)
    try:
        report = oai.harvest(request, out, session, _say)
    except LodError as exc:
        click.echo(f"error: {exc}", err=True)
        if oai.interrupted(out):
            click.echo(
                "The records harvested so far are kept; run the same command again to resume.",
                err=True,
            )
        return EXIT_FAILED
    since = f" changed since {report.from_date}" if report.from_date else ""
    skipped = f", skipped {report.skipped} without identifier" if report.skipped else ""
    click.echo(
        f"Harvested {report.written} records{since}, removed {report.deleted} deleted{skipped}, "
        f"in {report.pages} pages ({session.requests} requests) -> {out}; "
        f"the next harvest asks for changes from {report.next_from}",
        err=True,
    )
    return EXIT_OK


@main.command("reconcile")
@click.option(
    "--endpoint",
    default=reconcile.DEFAULT_ENDPOINT,
    show_default=True,
    help="A W3C Reconciliation Service API endpoint.",
)
@click.option(
    "--hub",
    default="wikidata",
    show_default=True,
    help="The hub the endpoint's ids belong to (the links.csv hub column).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=VOCAB_DIR / "proposed-links.csv",
    show_default=True,
    help="The review file (never published).",
)
@click.option(
    "--cache",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".lod-cache/reconcile"),
    show_default=True,
    help="Folder of cached answers.",
)
@click.option(
    "--candidates",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Candidates proposed per entity.",
)
@click.option(
    "--person-type",
    default=reconcile.PERSON_TYPE,
    show_default=True,
    help="Type id that people's queries are limited to ('' for none).",
)
@politeness_options(timeout=30.0)
def reconcile_command(
    endpoint: str,
    hub: str,
    out: Path,
    cache: Path,
    candidates: int,
    person_type: str,
    rate: float,
    timeout: float,
    retries: int,
) -> None:
    """Ask a reconciliation service (Wikidata's by default) for links of the people and places
    in vocab/authorities.csv that have none to --hub, and write them to --out for review. Nothing
    there is published until a row is moved into vocab/links.csv."""
    politeness = Politeness(interval=rate, timeout=timeout, attempts=retries + 1)
    with interruptible("answers so far are cached, run the same command again"):
        try:
            with PoliteSession(politeness) as session:
                client = reconcile.Client(endpoint, session, reconcile.Cache(cache))
                report = reconcile.reconcile(
                    load_vocab(), client, hub, out, person_type, candidates, _say
                )
                sent = session.requests
        except LodError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_FAILED)
    click.echo(
        f"Proposed {report.proposed} links for {report.asked} entities without a {hub} link "
        f"({sent} requests, {report.cached} answers from the cache) -> {out}; check them and "
        "move the rows you accept into vocab/links.csv",
        err=True,
    )
    sys.exit(EXIT_OK)


def _say(message: str) -> None:
    click.echo(message, err=True)


if __name__ == "__main__":
    main()
