"""Source units: the pieces of a file a reader can hash before parsing (a CSV row), so that a
republish parses only the rows it does not know yet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Unchanged:
    """A unit the caller said it already has: `unit` is its hash; it was not parsed again.
    `line` is where it starts now, which the provenance of its record states."""

    file: str
    unit: str
    line: int | None = None


Known = Callable[[str], bool]
"""Tells a reader that declares UNITS which unit hashes need no parsing."""
