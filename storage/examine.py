"""Reading and parsing article files into rows: the work done in the parser processes.

Plain values in and out (paths and sizes in; named tuples of rows or a reason out), so a
worker process can run it and send back what it found by pickle.
"""

from __future__ import annotations

import errno
import hashlib
import marshal
import os
import stat
from collections.abc import Sequence
from typing import NamedTuple

from digest.errors import ArticleError
from digest.parse import MAX_FILE_BYTES, parse_article_bytes
from storage.articles import ArticleRows, article_rows

# Refuse to follow a link swapped in after listing, and never block opening a FIFO.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_LINK_ERRNOS = frozenset({errno.ELOOP, errno.EMLINK})  # O_NOFOLLOW met a link (Linux, BSD)

Job = tuple[str, int, int, str | None]  # path, size, mtime_ns, sha256 stored before


class Outcome(NamedTuple):
    """What a worker found in one file: a named tuple, as it is sent back by pickle."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    rows: ArticleRows | None = None
    error: str | None = None
    same_content: bool = False  # touched, but the bytes are what we stored
    moved: bool = False  # changed while we read it: try again next scan


def examine_files(jobs: Sequence[Job]) -> list[Outcome]:
    """Read, hash and parse files. Runs in worker processes: plain values in and out."""
    return [_examine(path, size, mtime_ns, old_sha) for path, size, mtime_ns, old_sha in jobs]


def examine_packed(jobs: Sequence[Job]) -> bytes:
    """:func:`examine_files` for a worker process: the outcomes packed by :mod:`marshal`.

    The scanning process unpacks every outcome while it writes the database, and
    unpickling named tuples (a class lookup and a Python call each) cost it a tenth of
    its time per file; marshal reads plain tuples in C. It is only ever given what a
    worker of this scan packed, never a file's bytes.
    """
    return marshal.dumps(
        [
            (o.path, o.size, o.mtime_ns, o.sha256, None if o.rows is None else tuple(o.rows),
             o.error, o.same_content, o.moved)
            for o in examine_files(jobs)
        ]
    )  # fmt: skip


def unpack(packed: bytes) -> list[Outcome]:
    """The outcomes :func:`examine_packed` packed."""
    return [
        Outcome(path, size, mtime_ns, sha, None if rows is None else ArticleRows._make(rows),
                error, same, moved)
        for path, size, mtime_ns, sha, rows, error, same, moved in marshal.loads(packed)
    ]  # fmt: skip


def _examine(path: str, size: int, mtime_ns: int, old_sha: str | None) -> Outcome:
    if size > MAX_FILE_BYTES:
        return Outcome(
            path, size, mtime_ns, "", error=f"file too large ({size} bytes, limit {MAX_FILE_BYTES})"
        )
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno in _LINK_ERRNOS:
            # Replaced by a link since it was listed: the next scan lists it again and
            # refuses it then.
            return Outcome(path, size, mtime_ns, "", moved=True)
        return Outcome(path, size, mtime_ns, "", error=f"cannot read file: {exc.strerror}")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return Outcome(path, size, mtime_ns, "", moved=True)  # now a FIFO or device
        data = _read_upto(fd, size)
    except OSError as exc:
        return Outcome(path, size, mtime_ns, "", error=f"cannot read file: {exc.strerror}")
    finally:
        os.close(fd)
    if info.st_size != size or info.st_mtime_ns != mtime_ns or len(data) != size:
        return Outcome(path, size, mtime_ns, "", moved=True)
    sha = hashlib.sha256(data).hexdigest()
    if sha == old_sha:
        return Outcome(path, size, mtime_ns, sha, same_content=True)
    try:
        rows = article_rows(parse_article_bytes(data), path)
    except ArticleError as exc:
        return Outcome(path, size, mtime_ns, sha, error=str(exc))
    except Exception as exc:
        # A parser bug must not stop the scan; the type names it for the bug report.
        return Outcome(
            path, size, mtime_ns, sha, error=f"unreadable article ({type(exc).__name__})"
        )
    return Outcome(path, size, mtime_ns, sha, rows=rows)


def _read_upto(fd: int, size: int) -> bytes:
    """The file's ``size`` bytes, or one more if it has grown since it was listed.

    Sized from the listing: a buffered ``read(MAX_FILE_BYTES)`` allocated a megabyte per
    file, which took longer than reading it.
    """
    data = os.read(fd, size + 1)
    while len(data) < size:  # a short read is legal, if rare on local disks
        more = os.read(fd, size + 1 - len(data))
        if not more:
            break
        data += more
    return data
