"""Deleting a build's folder with memory that does not grow with the folder.

`shutil.rmtree` lists each folder whole before it deletes a file in it. A failed build of a
million records leaves `doc/record/` with five million files, and listing it took the build's
memory from 600 MB to over 1 GB on the way out. Here each folder is read one entry at a time
and every file is deleted as it is read; only subfolders (a few per folder) are remembered.
"""

from __future__ import annotations

import errno
import os
from contextlib import suppress
from pathlib import Path

MAX_PASSES = 3
"""A folder read while its files are deleted may skip an entry on some file systems: read it
again, a few times, while each pass still deletes something."""


def remove_tree(folder: Path) -> None:
    """Delete `folder` and all it holds, best effort: it cleans up after a failed or refused
    build, and an error here must not hide the error that led to it. Symbolic links are
    deleted, never followed."""
    for _ in range(MAX_PASSES):
        deleted, subfolders = _delete_files(folder)
        for sub in subfolders:
            remove_tree(sub)
        try:
            os.rmdir(folder)
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.ENOTEMPTY or not (deleted or subfolders):
                return


def _delete_files(folder: Path) -> tuple[int, list[Path]]:
    """Delete the files directly in `folder` as they are read; return how many, and the
    subfolders found."""
    deleted = 0
    subfolders: list[Path] = []
    try:
        # O_NOFOLLOW: a folder swapped for a link after it was listed is not followed.
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return deleted, subfolders
    try:
        with suppress(OSError), os.scandir(fd) as entries:
            for entry in entries:
                if _is_folder(entry):
                    subfolders.append(folder / entry.name)
                    continue
                with suppress(OSError):
                    os.unlink(entry.name, dir_fd=fd)
                    deleted += 1
    finally:
        os.close(fd)
    return deleted, subfolders


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


__all__ = ["remove_tree"]
