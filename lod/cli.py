"""The command line: `lod build [SOURCES...] --out DIR` and `lod serve [DIR]`.

Exit status of `lod build`: 0 all records published; 3 some records were rejected or duplicated
(the valid ones were published, see report.json); 1 the build failed or `--strict` refused to
publish (the previous output is untouched); 2 wrong usage.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from lod.config import SETTINGS, load_config
from lod.errors import LodError
from lod.publish.site import EXIT_FAILED, EXIT_OK, build

DEFAULT_SOURCES = (Path("records"),)


@click.group()
@click.version_option(package_name="lod")
def main() -> None:
    """lod publishes archival records as linked open data."""


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
def build_command(
    sources: tuple[Path, ...],
    out: Path,
    base_uri: str | None,
    config_file: Path | None,
    strict: bool | None,
    no_progress: bool,
) -> None:
    """Build SOURCES (default: records/) into a static linked-data site in --out."""
    try:
        config = load_config(
            config_file,
            overrides={
                "base_uri": base_uri,
                "strict": strict,
                "progress": False if no_progress else None,
            },
        )
        report = build(
            list(sources or DEFAULT_SOURCES),
            out,
            config,
            on_problem=lambda message: click.echo(message, err=True),
        )
    except LodError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    summary = (
        f"Attempted {report.attempted}, published {report.published}, rejected {report.rejected}, "
        f"duplicates {report.duplicates}; {report.entities} entities, {report.triples} triples"
    )
    if config.strict and report.exit_code != EXIT_OK:
        click.echo(f"{summary}\nerror: --strict: nothing was written; {out} is unchanged", err=True)
        sys.exit(EXIT_FAILED)
    click.echo(f"{summary} -> {out}", err=True)
    sys.exit(report.exit_code)


@main.command("serve")
@click.argument(
    "directory",
    required=False,
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("site"),
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve_command(directory: Path, host: str, port: int) -> None:
    """Serve a built DIRECTORY over HTTP with content negotiation."""
    from lod.serve.app import make_server

    if not (directory / "index.html").exists():
        click.echo(
            f"error: {directory} is not a lod build; run `lod build --out {directory}` first",
            err=True,
        )
        sys.exit(EXIT_FAILED)
    server = make_server(directory, host, port)
    click.echo(
        f"Serving {directory} at http://{host}:{server.server_address[1]}/  (Ctrl-C to stop)",
        err=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
