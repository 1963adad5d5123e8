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
reason, recorded until the file changes."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import multiprocessing
import os
import sqlite3
import stat
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from digest.errors import ArticleError
from digest.parse import MAX_FILE_BYTES, parse_article_bytes
from storage.articles import ArticleRows, article_rows, save_article_rows
from storage.db import set_state, to_db_time, utcnow, write_transaction
from storage.files import (
    FileRecord,
    KnownFile,
    Rejection,
    forget_files,
    known_files,
    record_files,
    rejections_for,
)

if TYPE_CHECKING:
    from sqlite_utils import Database

ARTICLE_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
MIN_FILE_AGE = 2.0  # seconds: younger files may still be being written
PARALLEL_THRESHOLD = 400  # below this many files, worker start-up costs more than it saves
CHUNK_FILES = 100  # files per task sent to a worker
BATCH_ROWS = 1_000  # files per database transaction
EARLY_FLUSH_ROWS = 200  # parsed files worth a transaction while waiting for workers
WORKER_NICENESS = 10  # parser processes yield the CPU to this one, the only writer

# Refuse to follow a link swapped in after listing, and never block opening a FIFO.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_LINK_ERRNOS = frozenset({errno.ELOOP, errno.EMLINK})  # O_NOFOLLOW met a link (Linux, BSD)

ProgressFn = Callable[[int, int], None]
_Job = tuple[str, int, int, str | None]  # path, size, mtime_ns, sha256 stored before


class ScanError(Exception):
    """The folder itself cannot be scanned (missing, not a directory, unreadable)."""


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


@dataclass(frozen=True, slots=True)
class _Seen:
    path: str
    size: int
    mtime_ns: int
    refused: str | None = None  # why a listed entry cannot be an article (not a regular file)


class _Outcome(NamedTuple):
    """What a worker found in one file: a named tuple, as it is sent back by pickle."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    rows: ArticleRows | None = None
    error: str | None = None
    same_content: bool = False  # touched, but the bytes are what we stored
    moved: bool = False  # changed while we read it: try again next scan


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
    root = _resolve_folder(folder)
    report = ScanReport()
    known = known_files(db, str(root))
    seen, unreadable = _list_files(root)
    seen_paths = {s.path for s in seen}
    report.rejected.extend(unreadable)

    todo: list[_Seen] = []
    refused: list[_Seen] = []
    unchanged_rejected: list[str] = []
    for item in seen:
        old = known.get(item.path)
        if old is not None and old.size == item.size and old.mtime_ns == item.mtime_ns:
            report.unchanged += 1
            if old.status == "rejected":
                unchanged_rejected.append(item.path)
        elif item.refused is not None:
            refused.append(item)
        else:
            todo.append(item)
    todo, report.deferred = _settle(todo, min_age, wait_for_recent)

    gone = [path for path in known if path not in seen_paths]
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


def _resolve_folder(folder: Path) -> Path:
    try:
        root = folder.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise ScanError(f"articles folder {str(folder)!r} does not exist") from exc
    if not root.is_dir():
        raise ScanError(f"articles folder {str(folder)!r} is not a directory")
    return root


def _list_files(root: Path) -> tuple[list[_Seen], list[Rejection]]:
    """Article files below ``root``, and the subfolders that could not be read.

    Hidden names are skipped (pipelines write temporary files so). Entries with an
    article suffix that are not regular files - symbolic links, FIFOs, devices - are
    listed with the reason they are refused; they are never opened.
    """
    found: list[_Seen] = []
    unreadable: list[Rejection] = []
    stack = [str(root)]
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
            if name.startswith(".") or name.endswith("~"):
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue  # vanished since listing
            if is_dir:
                stack.append(entry.path)
                continue
            if os.path.splitext(name)[1].lower() not in ARTICLE_SUFFIXES:
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # vanished between listing and stat
            refused = None
            if not stat.S_ISREG(info.st_mode):
                kind = "symbolic link" if stat.S_ISLNK(info.st_mode) else "special file"
                refused = f"not a regular file ({kind})"
            found.append(_Seen(entry.path, info.st_size, info.st_mtime_ns, refused))
    found.sort(key=lambda s: s.path)
    return found, unreadable


def _settle(todo: list[_Seen], min_age: float, wait: bool) -> tuple[list[_Seen], list[str]]:
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
    todo: Sequence[_Seen],
    known: dict[str, KnownFile],
    report: ScanReport,
    workers: int | None,
    progress: ProgressFn | None,
    now: Callable[[], datetime],
) -> list[str]:
    """Parse and store ``todo``; return the paths found rejected before and unchanged since."""
    jobs: list[_Job] = []
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

    for outcomes in _examine_all(chunks, workers, flush_early):
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


def _examine_all(
    chunks: list[list[_Job]], workers: int | None, while_waiting: Callable[[], bool]
) -> Iterator[list[_Outcome]]:
    """Outcomes chunk by chunk, in the order of ``chunks`` whoever parsed them.

    The order matters: when two files hold the same story, the later path wins, with
    any number of workers. When the workers' next results are not ready, this process
    first calls ``while_waiting`` (which says whether it did anything), then parses
    files itself.
    """
    total = sum(len(c) for c in chunks)
    if workers is None:
        cores = os.cpu_count() or 1
        # One core: a worker would only take turns with this process.
        count = cores if cores > 1 else 0
    else:
        count = workers
    if count < 1 or total < PARALLEL_THRESHOLD:
        for chunk in chunks:
            yield examine_files(chunk)
        return
    # Enough work queued that the workers keep parsing while this process writes a batch
    # to the database; more would only be left to them alone at the end.
    ahead = max(2 * count, 2 * BATCH_ROWS // CHUNK_FILES)
    with _executor(count) as pool:
        # Chunks in order, each with its worker's future or, once parsed here, its result.
        queue: deque[tuple[list[_Job], Future[list[_Outcome]] | list[_Outcome]]] = deque()
        submitted = in_flight = 0
        while submitted < len(chunks) or queue:
            while submitted < len(chunks) and in_flight < ahead:
                chunk = chunks[submitted]
                queue.append((chunk, pool.submit(examine_files, chunk)))
                submitted += 1
                in_flight += 1
            head = queue[0][1]
            if isinstance(head, list) or head.done():
                queue.popleft()
                if isinstance(head, list):
                    yield head
                else:
                    in_flight -= 1
                    yield head.result()
            elif while_waiting():
                continue
            elif submitted < len(chunks):
                # The next results are not ready (workers starting, or busy): parse the
                # next chunk here rather than wait. It takes its place in the order.
                chunk = chunks[submitted]
                queue.append((chunk, examine_files(chunk)))
                submitted += 1
            elif _take_back(queue):
                in_flight -= 1
            else:
                queue.popleft()
                in_flight -= 1
                yield head.result()


def _take_back(
    queue: deque[tuple[list[_Job], Future[list[_Outcome]] | list[_Outcome]]],
) -> bool:
    """Parse here the last chunk no worker has started yet; ``False`` if there is none.

    At the end of a scan this keeps this process busy instead of waiting for the
    workers to finish their queue.
    """
    for index in range(len(queue) - 1, 0, -1):
        chunk, slot = queue[index]
        if isinstance(slot, Future) and slot.cancel():
            queue[index] = (chunk, examine_files(chunk))
            return True
    return False


def _executor(count: int) -> Executor:
    # forkserver: workers start from a clean process, not a fork of a threaded bot.
    if not sys.platform.startswith("linux"):
        return ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"))
    context = multiprocessing.get_context("forkserver")
    # The fork server imports the parser once; each scan's workers are forks of it
    # instead of fresh interpreters importing it again (a tenth of a second each). Takes
    # effect when the server starts, at the first scan of this process.
    context.set_forkserver_preload(["__main__", __name__])
    return ProcessPoolExecutor(count, mp_context=context, initializer=_worker_start)


def _worker_start() -> None:
    # This process writes every parsed file to the database, one after another: when
    # the cores are all busy it must not wait behind the parsers feeding it. (In the
    # running bot it also keeps the scan behind the bot's own work.)
    with contextlib.suppress(OSError):  # may not be allowed: then merely slower
        os.nice(WORKER_NICENESS)


def examine_files(jobs: Sequence[_Job]) -> list[_Outcome]:
    """Read, hash and parse files. Runs in worker processes: plain values in and out."""
    return [_examine(path, size, mtime_ns, old_sha) for path, size, mtime_ns, old_sha in jobs]


def _examine(path: str, size: int, mtime_ns: int, old_sha: str | None) -> _Outcome:
    if size > MAX_FILE_BYTES:
        return _Outcome(
            path, size, mtime_ns, "", error=f"file too large ({size} bytes, limit {MAX_FILE_BYTES})"
        )
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno in _LINK_ERRNOS:
            # Replaced by a link since it was listed: the next scan lists it again and
            # refuses it then.
            return _Outcome(path, size, mtime_ns, "", moved=True)
        return _Outcome(path, size, mtime_ns, "", error=f"cannot read file: {exc.strerror}")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return _Outcome(path, size, mtime_ns, "", moved=True)  # now a FIFO or device
        data = _read_upto(fd, size)
    except OSError as exc:
        return _Outcome(path, size, mtime_ns, "", error=f"cannot read file: {exc.strerror}")
    finally:
        os.close(fd)
    if info.st_size != size or info.st_mtime_ns != mtime_ns or len(data) != size:
        return _Outcome(path, size, mtime_ns, "", moved=True)
    sha = hashlib.sha256(data).hexdigest()
    if sha == old_sha:
        return _Outcome(path, size, mtime_ns, sha, same_content=True)
    try:
        rows = article_rows(parse_article_bytes(data), path)
    except ArticleError as exc:
        return _Outcome(path, size, mtime_ns, sha, error=str(exc))
    except Exception as exc:
        # A parser bug must not stop the scan; the type names it for the bug report.
        return _Outcome(
            path, size, mtime_ns, sha, error=f"unreadable article ({type(exc).__name__})"
        )
    return _Outcome(path, size, mtime_ns, sha, rows=rows)


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
