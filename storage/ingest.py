"""Scan the articles folder: parse new or changed files, store them, report the rest.

The same :func:`scan_folder` serves ``newsdigest ingest`` and the running bot's
periodic scan. Unchanged files cost one ``stat`` (size and mtime match the index).
Changed files are read, hashed and parsed - in worker processes when there are
many, since YAML parsing is the cost - and written in batches, each batch one
transaction. The workers build the rows, so this process only runs SQL; being the
only writer, it runs ahead of the workers (they have a lower priority) and parses
files itself rather than wait for them.

Nothing in a file stops a scan: every refusal - bad content, a value the database
will not take, a symbolic link, a FIFO or device - becomes a rejection with a
reason, recorded until the file changes.

One job per module: :mod:`storage.folder` lists the folder, :mod:`storage.examine`
reads and parses files (in the workers), :mod:`storage.parse_pool` runs the workers,
and this module compares, writes and reports."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from storage.articles import ArticleRows, save_article_rows
from storage.db import set_state, to_db_time, utcnow, write_transaction
from storage.examine import Job
from storage.files import (
    FileRecord,
    KnownFile,
    Rejection,
    folder_index,
    forget_files,
    known_files_at,
    record_files,
    rejections_for,
)
from storage.folder import MIN_FILE_AGE, ScanError, Seen, list_files, resolve_folder, settle
from storage.parse_pool import examine_all

__all__ = ["MIN_FILE_AGE", "ScanError", "ScanReport", "scan_folder"]

if TYPE_CHECKING:
    from sqlite_utils import Database

CHUNK_FILES = 100  # files per task sent to a worker
BATCH_ROWS = 1_000  # files per database transaction
EARLY_FLUSH_ROWS = 200  # parsed files worth a transaction while waiting for workers

ProgressFn = Callable[[int, int], None]


@dataclass
class ScanReport:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)  # newly rejected in this scan
    still_rejected: list[Rejection] = field(default_factory=list)  # unchanged, rejected before
    deferred: list[str] = field(default_factory=list)  # still being written: next scan
    removed: int = 0
    seconds: float = 0.0

    @property
    def all_rejected(self) -> list[Rejection]:
        return sorted(self.rejected + self.still_rejected, key=lambda r: r.path)


def scan_folder(
    db: Database,
    folder: Path,
    *,
    workers: int | None = None,
    min_age: float = MIN_FILE_AGE,
    wait_for_recent: bool = False,
    progress: ProgressFn | None = None,
    now: Callable[[], datetime] = utcnow,
) -> ScanReport:
    """Bring the store in line with ``folder``; see the module docstring.

    ``workers``: parser processes besides this one, which writes to the database and
    parses too while it would otherwise wait (``None`` = one per core, ``0`` = parse
    in this process only; scans of fewer than ``PARALLEL_THRESHOLD`` files always do).
    ``wait_for_recent``: wait (up to ``min_age``) for files younger than ``min_age`` to
    settle instead of deferring them to the next scan - for the one-shot CLI.
    """
    started = time.monotonic()
    root = resolve_folder(folder)
    report = ScanReport()
    index = folder_index(db, str(root))
    seen, unreadable = list_files(root)
    report.rejected.extend(unreadable)

    todo: list[Seen] = []
    refused: list[Seen] = []
    unchanged_rejected: list[str] = []
    stamps, rejected = index.stamps, index.rejected
    for item in seen:
        if item[:3] in stamps:  # path, size and mtime as indexed: unchanged
            report.unchanged += 1
            if rejected and item.path in rejected:
                unchanged_rejected.append(item.path)
        elif item.refused is not None:
            refused.append(item)
        else:
            todo.append(item)
    # By path (the first field; paths are unique): when two files hold the same story,
    # the later path wins, whatever order the folder listed them in.
    todo.sort()
    refused.sort()
    todo, report.deferred = settle(todo, min_age, wait_for_recent)
    known = known_files_at(db, [s.path for s in todo])

    # Each unchanged file is an indexed one: when they are all of them, none is gone.
    gone = []
    if report.unchanged < len(stamps):
        gone = sorted(index.paths.difference(s.path for s in seen))
    if gone:
        forget_files(db, gone)
        report.removed = len(gone)

    if refused:
        # Recorded like a rejected file, so the next scan reports it as still rejected.
        rejections = [Rejection(s.path, s.refused or "") for s in refused]
        records = [FileRecord(s.path, s.size, s.mtime_ns, "", "rejected") for s in refused]
        record_files(db, records, rejections, now())
        report.rejected.extend(rejections)
    unchanged_rejected += _process(db, todo, known, report, workers, progress, now)
    report.rejected.sort(key=lambda r: r.path)
    report.still_rejected = rejections_for(db, unchanged_rejected)
    set_state(db, "last_scan_at", to_db_time(now()))
    report.seconds = time.monotonic() - started
    return report


# A file's index entry, its article rows when it parsed, its rejection when it did not.
_Pending = tuple[FileRecord, ArticleRows | None, Rejection | None]
# What the database raises for a value it refuses - the file's fault, unlike a locked
# database or a full disk, which stop the scan.
_REFUSED = (
    OverflowError, ValueError, TypeError,
    sqlite3.IntegrityError, sqlite3.DataError, sqlite3.InterfaceError, sqlite3.ProgrammingError,
)  # fmt: skip


def _process(
    db: Database,
    todo: Sequence[Seen],
    known: dict[str, KnownFile],
    report: ScanReport,
    workers: int | None,
    progress: ProgressFn | None,
    now: Callable[[], datetime],
) -> list[str]:
    """Parse and store ``todo``; return the paths found rejected before and unchanged since."""
    jobs: list[Job] = []
    for s in todo:
        old = known.get(s.path)
        jobs.append((s.path, s.size, s.mtime_ns, old.sha256 if old is not None else None))
    chunks = [jobs[i : i + CHUNK_FILES] for i in range(0, len(jobs), CHUNK_FILES)]
    pending: list[_Pending] = []
    same_rejected: list[str] = []
    done = 0

    def flush() -> None:
        if pending:
            _store_safely(db, pending, report, now)
            pending.clear()

    def flush_early() -> bool:
        # Waiting for parsed files is the time to write those already parsed: this
        # process is the only writer, and then it has less left to write at the end.
        if len(pending) < EARLY_FLUSH_ROWS:
            return False
        flush()
        return True

    # Enough work queued that the workers keep parsing while this process writes a batch.
    ahead = 2 * BATCH_ROWS // CHUNK_FILES
    for outcomes in examine_all(chunks, workers, flush_early, ahead):
        for out in outcomes:
            if out.moved:
                report.deferred.append(out.path)
            elif out.same_content:
                report.unchanged += 1
                old = known[out.path]
                record = FileRecord(
                    out.path, out.size, out.mtime_ns, out.sha256, old.status, old.article_url
                )
                pending.append((record, None, None))
                if old.status == "rejected":
                    same_rejected.append(out.path)
            elif out.rows is not None:
                record = FileRecord(
                    out.path, out.size, out.mtime_ns, out.sha256, "ok", out.rows.url
                )
                pending.append((record, out.rows, None))
            else:
                rejection = Rejection(out.path, out.error or "unreadable")
                record = FileRecord(out.path, out.size, out.mtime_ns, out.sha256, "rejected")
                pending.append((record, None, rejection))
        done += len(outcomes)
        if len(pending) >= BATCH_ROWS:
            flush()
        if progress is not None:
            progress(done, len(jobs))
    flush()
    return same_rejected


def _store_safely(
    db: Database, batch: list[_Pending], report: ScanReport, now: Callable[[], datetime]
) -> None:
    """Store a batch in one transaction; should the database refuse some file's values,
    store the files one at a time and reject those refused, so the others still count."""
    try:
        _store(db, batch, report, now)
        return
    except _REFUSED:
        pass  # the transaction was rolled back: nothing of the batch is stored
    for item in batch:
        try:
            _store(db, [item], report, now)
        except _REFUSED as exc:
            record = item[0]
            rejection = Rejection(record.path, f"cannot be stored: {type(exc).__name__}: {exc}")
            refused = replace(record, status="rejected", article_url=None)
            _store(db, [(refused, None, rejection)], report, now)


def _store(
    db: Database, batch: list[_Pending], report: ScanReport, now: Callable[[], datetime]
) -> None:
    rows = [rows for _, rows, _ in batch if rows is not None]
    rejections = [rejection for _, _, rejection in batch if rejection is not None]
    # One transaction for the articles and the index entries that point at them.
    with write_transaction(db):
        saved = save_article_rows(db, rows, now()) if rows else None
        record_files(db, [record for record, _, _ in batch], rejections, now())
    if saved is not None:
        report.new += saved.inserted
        report.updated += saved.updated
    report.rejected += rejections
