"""Loads the curated example SPARQL queries in vocab/queries/: the questions librarians ask.

Each query is data, one file `NN-slug.rq` (NN orders them), a complete SPARQL 1.1 query with its
own PREFIX lines under a header of comment lines:

    # title: All telegrams sent by a person in a year
    # description: Telegrams whose sender is Mao Zedong, sent in 1951 (change the name and year).

A header line that names no field continues the field above it. The queries name people, places
and archives by their labels, never by a build's base URI, so one file serves every publication.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lod.errors import ConfigError
from lod.vocab import VOCAB_DIR

QUERIES_DIR = VOCAB_DIR / "queries"

_FILE_NAME = re.compile(r"^(?P<order>\d+)-(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)$")
_FIELD = re.compile(r"^#\s*(?P<key>[a-z]+)\s*:\s*(?P<value>.*)$")
_FIELDS = ("title", "description")


@dataclass(frozen=True, slots=True)
class CuratedQuery:
    """One curated query: `slug` is the file stem without its `NN-` prefix."""

    slug: str
    title: str
    description: str
    sparql: str


@lru_cache(maxsize=4)
def load_curated(folder: Path = QUERIES_DIR) -> tuple[CuratedQuery, ...]:
    """Every `*.rq` file in `folder`, sorted by file name; ConfigError names a bad file."""
    try:
        paths = sorted(folder.glob("*.rq"))
    except OSError as exc:
        raise ConfigError(f"cannot list the curated queries in {folder}: {exc.strerror}") from exc
    queries: list[CuratedQuery] = []
    seen: dict[str, Path] = {}
    for path in paths:
        query = read_curated(path)
        if query.slug in seen:
            raise ConfigError(
                f"{path}: slug {query.slug!r} is already used by {seen[query.slug].name}; "
                "give each curated query its own name"
            )
        seen[query.slug] = path
        queries.append(query)
    return tuple(queries)


def read_curated(path: Path) -> CuratedQuery:
    """One query file: its header fields and the SPARQL text below the header."""
    match = _FILE_NAME.match(path.stem)
    if not match:
        raise ConfigError(
            f"{path}: a curated query file is named NN-slug.rq (e.g. 01-telegrams-by-sender.rq)"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the curated query {path}: {exc}") from exc
    lines = text.splitlines()
    fields: dict[str, str] = {}
    key = ""
    body_start = len(lines)
    for number, line in enumerate(lines):
        if not line.startswith("#"):
            body_start = number
            break
        field = _FIELD.match(line)
        if field and field["key"] in _FIELDS:
            key = field["key"]
            fields[key] = field["value"].strip()
        elif key:
            # A comment line without a field continues the one above (a long description).
            fields[key] = f"{fields[key]} {line.lstrip('#').strip()}".strip()
    if not fields.get("title"):
        raise ConfigError(
            f"{path}: the curated query has no '# title:' line; start the file with "
            "'# title: ...' and '# description: ...' comment lines"
        )
    sparql = "\n".join(lines[body_start:]).strip()
    if not sparql:
        raise ConfigError(f"{path}: the curated query has a header but no SPARQL below it")
    return CuratedQuery(
        match["slug"], fields["title"], fields.get("description", ""), sparql + "\n"
    )


__all__ = ["QUERIES_DIR", "CuratedQuery", "load_curated", "read_curated"]
