"""The index of scanned files (to skip unchanged ones) and the record of rejected files."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from sqlite_utils import Database

from storage.db import from_db_time, to_db_time, write_transaction


class FileStatus(StrEnum):
    OK = "ok"  # stored as an article
    REJECTED = "rejected"  # see rejected_files for why


@dataclass(frozen=True, slots=True)
class FileRecord:
    """One file of the scan index. ``status`` is a :class:`FileStatus` value."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    status: str  # the scan builds these from plain "ok"/"rejected"; checked when written
    article_url: str | None = None


class KnownFile(NamedTuple):
    """A file as the index remembers it from the last scan.

    A named tuple made straight from the query's rows: a rescan of an unchanged folder
    reads one per file (50,000 and more), and compares only size and mtime.
    """

    path: str
    size: int
    mtime_ns: int
    sha256: str
    status: str  # a FileStatus value
    article_url: str | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    path: str
    reason: str
    rejected_at: datetime | None = None  # None until recorded


def _rejection(path: str, reason: str, at: str | None) -> Rejection:
    return Rejection(path, reason, from_db_time(at) if at else None)


@dataclass(frozen=True, slots=True)
class FolderIndex:
    """What the index holds of a folder, as a rescan compares it: one set lookup a file.

    ``stamps`` are the (path, size, mtime_ns) of every indexed file, built by SQLite
    and the set in C; only the files that do not match are read in full
    (:func:`known_files_at`).
    """

    stamps: set[tuple[str, int, int]]
    rejected: set[str]  # indexed paths whose file was rejected

    @property
    def paths(self) -> set[str]:
        return {path for path, _, _ in self.stamps}


def folder_index(db: Database, under: str) -> FolderIndex:
    """The index of the files below the folder ``under`` (an absolute path)."""
    prefix = under.rstrip("/") + "/"
    where = "WHERE substr(path, 1, ?) = ?"
    params = (len(prefix), prefix)
    stamps = set(db.execute(f"SELECT path, size, mtime_ns FROM files {where}", params))
    rejected = {
        path
        for (path,) in db.execute(f"SELECT path FROM files {where} AND status = 'rejected'", params)
    }
    return FolderIndex(stamps, rejected)


def known_files_at(db: Database, paths: Iterable[str]) -> dict[str, KnownFile]:
    """The index entries of ``paths`` (those it has), by path."""
    wanted = list(paths)
    found: dict[str, KnownFile] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = db.execute(
            "SELECT path, size, mtime_ns, sha256, status, article_url FROM files "
            f"WHERE path IN ({','.join('?' * len(chunk))})",
            chunk,
        )
        found.update((known.path, known) for known in map(KnownFile._make, rows))
    return found


def record_files(
    db: Database, records: Sequence[FileRecord], rejections: Sequence[Rejection], now: datetime
) -> None:
    """Remember files as scanned; keep the rejection record in step with each file's status."""
    now_text = to_db_time(now)
    with write_transaction(db):
        db.conn.executemany(
            "INSERT OR REPLACE INTO files (path, size, mtime_ns, sha256, article_url, status, "
            "scanned_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.path,
                    r.size,
                    r.mtime_ns,
                    r.sha256,
                    r.article_url,
                    FileStatus(r.status),
                    now_text,
                )
                for r in records
            ],
        )
        db.conn.executemany(
            "DELETE FROM rejected_files WHERE path = ?",
            [(r.path,) for r in records if r.status == FileStatus.OK],
        )
        db.conn.executemany(
            "INSERT OR REPLACE INTO rejected_files (path, reason, rejected_at) VALUES (?, ?, ?)",
            [(r.path, r.reason, now_text) for r in rejections],
        )


def forget_files(db: Database, paths: Iterable[str]) -> None:
    """Files gone from the folder: drop them from the index (their articles stay)."""
    with write_transaction(db):
        db.conn.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in paths])
        db.conn.executemany("DELETE FROM rejected_files WHERE path = ?", [(p,) for p in paths])


def rejections_for(db: Database, paths: Iterable[str]) -> list[Rejection]:
    wanted = list(paths)
    found: list[Rejection] = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found.extend(
            _rejection(path, reason, at)
            for path, reason, at in db.execute(
                f"SELECT path, reason, rejected_at FROM rejected_files WHERE path IN ({marks})",
                chunk,
            )
        )
    return sorted(found, key=lambda r: r.path)


def recent_rejections(db: Database, limit: int = 5) -> list[Rejection]:
    return [
        _rejection(path, reason, at)
        for path, reason, at in db.execute(
            "SELECT path, reason, rejected_at FROM rejected_files "
            "ORDER BY rejected_at DESC, path LIMIT ?",
            (limit,),
        )
    ]


def count_rejections(db: Database) -> int:
    return int(db.execute("SELECT count(*) FROM rejected_files").fetchone()[0])
