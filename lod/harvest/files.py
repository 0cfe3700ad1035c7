"""The harvest folder: one file per record, named from its identifier, written atomically.

A record's file name depends only on its identifier, so harvesting a record again (a repeated,
incremental or resumed harvest) replaces its file instead of adding a second copy. Each file is
written beside its final name and renamed into place, so a killed harvest leaves whole files
only; the temporary names start with a dot, which `lod build` skips.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lod.errors import HarvestError
from lod.uris import slugify

TMP_SUFFIX = ".part"


def record_name(identifier: str, suffix: str) -> str:
    """'http://host/record/112095' -> 'record-112095-<hash>.xml': readable, and unique by the
    hash of the whole identifier (two identifiers may share a slug)."""
    parts = urlsplit(identifier)
    tail = parts.path if parts.scheme in ("http", "https") else identifier
    digest = hashlib.sha256(identifier.encode("utf-8")).hexdigest()[:12]
    return f"{slugify(tail)[:60].strip('-')}-{digest}{suffix}"


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}{TMP_SUFFIX}")
    try:
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise HarvestError(f"cannot write {path}: {exc.strerror}") from exc


def remove(path: Path) -> bool:
    """Remove a record's file; False when there was none."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise HarvestError(f"cannot remove {path}: {exc.strerror}") from exc
    return True


def clean_partial(folder: Path) -> None:
    """Drop the temporary files a killed harvest left behind."""
    for stale in folder.glob(f".*{TMP_SUFFIX}"):
        stale.unlink(missing_ok=True)


def prepare(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HarvestError(f"cannot create the harvest folder {folder}: {exc.strerror}") from exc
    if not folder.is_dir():
        raise HarvestError(f"{folder} is not a folder; choose another --out")
    clean_partial(folder)


def read_json(path: Path) -> dict[str, Any]:
    """A small JSON state file; {} when there is none yet."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise HarvestError(
            f"cannot read the harvest state {path}: {exc}; delete it to harvest everything again"
        ) from exc
    if not isinstance(data, dict):
        raise HarvestError(f"{path} is not a harvest state; delete it to harvest everything again")
    return data


def write_json(path: Path, data: dict[str, Any]) -> None:
    write_atomic(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"))


__all__ = ["clean_partial", "prepare", "read_json", "record_name", "remove", "write_atomic"]
