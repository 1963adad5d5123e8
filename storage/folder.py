"""The articles folder: which files are there, and which are settled enough to read.

Only the file system: no parsing, no database (the scan in :mod:`storage.ingest` compares
this listing with the index of files already stored).
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import NamedTuple

from storage.files import Rejection

ARTICLE_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
MIN_FILE_AGE = 2.0  # seconds: younger files may still be being written


class ScanError(Exception):
    """The folder itself cannot be scanned (missing, not a directory, unreadable)."""


class Seen(NamedTuple):
    """A listed entry. A named tuple: one per file at every scan, and the listing is
    sorted by path (the first field) with no key function."""

    path: str
    size: int
    mtime_ns: int
    refused: str | None = None  # why a listed entry cannot be an article (not a regular file)


def resolve_folder(folder: Path) -> Path:
    try:
        root = folder.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise ScanError(f"articles folder {str(folder)!r} does not exist") from exc
    if not root.is_dir():
        raise ScanError(f"articles folder {str(folder)!r} is not a directory")
    return root


def list_files(root: Path) -> tuple[list[Seen], list[Rejection]]:
    """Article files below ``root`` (in no particular order), and the subfolders that
    could not be read.

    Hidden names are skipped (pipelines write temporary files so). Entries with an
    article suffix that are not regular files - symbolic links, FIFOs, devices - are
    listed with the reason they are refused; they are never opened.
    """
    found: list[Seen] = []
    unreadable: list[Rejection] = []
    stack = [str(root)]
    # Looked up once: this loop runs once per file at every scan.
    append, new_tuple = found.append, tuple.__new__
    is_regular, suffixes = stat.S_ISREG, ARTICLE_SUFFIXES
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as listing:
                entries = list(listing)
        except OSError as exc:
            if directory == str(root):
                raise ScanError(f"cannot read articles folder {directory!r}: {exc}") from exc
            unreadable.append(Rejection(directory, f"cannot read directory: {exc.strerror}"))
            continue
        for entry in entries:
            name = entry.name
            if name[0] == "." or name[-1] == "~":
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                    continue
                # The suffix as splitext finds it (hidden names, the only ones it reads
                # differently, are skipped above; with no dot this is one character,
                # never a suffix), without its Python-level call per file.
                if name[name.rfind(".") :].lower() not in suffixes:
                    continue
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # vanished since listing
            if is_regular(info.st_mode):
                append(new_tuple(Seen, (entry.path, info.st_size, info.st_mtime_ns, None)))
            else:
                kind = "symbolic link" if stat.S_ISLNK(info.st_mode) else "special file"
                append(
                    Seen(entry.path, info.st_size, info.st_mtime_ns, f"not a regular file ({kind})")
                )
    return found, unreadable


def settle(todo: list[Seen], min_age: float, wait: bool) -> tuple[list[Seen], list[str]]:
    """Hold back files modified in the last ``min_age`` seconds: they may be half-written."""
    if min_age <= 0:
        return todo, []
    cutoff = time.time_ns() - int(min_age * 1e9)
    recent = [s for s in todo if s.mtime_ns > cutoff]
    if not recent:
        return todo, []
    ready = [s for s in todo if s.mtime_ns <= cutoff]
    if not wait:
        return ready, [s.path for s in recent]
    youngest = max(s.mtime_ns for s in recent)
    time.sleep(max(0.0, min(min_age, (youngest - cutoff) / 1e9)))
    deferred = []
    for item in recent:
        try:
            info = os.stat(item.path, follow_symlinks=False)
        except OSError:
            continue
        if info.st_size == item.size and info.st_mtime_ns == item.mtime_ns:
            ready.append(item)
        else:
            deferred.append(item.path)
    ready.sort(key=lambda s: s.path)
    return ready, deferred
