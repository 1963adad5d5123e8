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


def known_files(db: Database, under: str) -> dict[str, KnownFile]:
    """Files indexed below the folder ``under`` (an absolute path), by path."""
    prefix = under.rstrip("/") + "/"
    rows = db.execute(
        "SELECT path, size, mtime_ns, sha256, status, article_url FROM files "
        "WHERE substr(path, 1, ?) = ?",
        (len(prefix), prefix),
    )
    return {known.path: known for known in map(KnownFile._make, rows)}


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
