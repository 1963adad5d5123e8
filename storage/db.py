"""Opening the SQLite file; the one write-transaction helper, time format and key-value state.

Every multi-step write in ``storage`` runs inside :func:`write_transaction`; a single
statement through ``db.execute`` is committed by sqlite-utils on its own. The time
conversions (:func:`to_db_time`, :func:`from_db_time`) are for ``storage`` only: its
functions take and return aware ``datetime`` values.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database

from storage.schema import MIGRATIONS

SQL_VARIABLES = 900  # values per IN (...) list, under SQLite's bound-parameter limit
ItemT = TypeVar("ItemT")

_DB_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


class DatabaseUnusable(Exception):
    """The database path cannot hold the database; the message says why and what to do."""


def check_db_path(path: Path) -> None:
    """Refuse, with a reason, a path SQLite could not use (or would use surprisingly).

    A missing folder is never created: a typo in the path should be an error, not a
    fresh empty database somewhere unexpected.
    """
    parent = path.parent
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise DatabaseUnusable(f"{path}: cannot be read ({exc.strerror})") from None
    if info is None:
        if not parent.is_dir():
            missing = parent
            while not missing.parent.exists() and missing.parent != missing:
                missing = missing.parent
            raise DatabaseUnusable(
                f"{path}: the folder {missing} does not exist; create it "
                f"(mkdir -p {parent}) or correct the path (folders are never created)"
            )
        if not os.access(parent, os.W_OK | os.X_OK):
            raise DatabaseUnusable(
                f"{path}: the folder {parent} is not writable by this user, so the database "
                "cannot be created there; fix its permissions or choose another folder"
            )
        return
    if stat.S_ISDIR(info.st_mode):
        raise DatabaseUnusable(
            f"{path} is a folder, not a database file; use a file path such as "
            f"{path / 'newsdigest.db'}"
        )
    if not stat.S_ISREG(info.st_mode):
        raise DatabaseUnusable(
            f"{path} is not a regular file (a device, pipe or socket); use a file path "
            "such as ./newsdigest.db"
        )
    if not os.access(path, os.R_OK | os.W_OK):
        raise DatabaseUnusable(
            f"{path} is read-only for this user; make it writable (chmod u+rw, or chown it "
            "to the user running newsdigest) or use a copy"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        # WAL mode keeps two files beside the database: the folder must take them.
        raise DatabaseUnusable(
            f"{path}: the folder {parent} is not writable by this user (SQLite keeps its "
            "-wal and -shm files beside the database); fix its permissions"
        )


def open_db(path: Path | str, *, migrate: bool = True) -> Database:
    """Open (creating the file if needed) the database in WAL mode, apply pending migrations.

    WAL lets the bot read while the folder scan writes; ``busy_timeout`` makes a
    writer wait for the other instead of failing with "database is locked". A path that
    cannot hold the database raises :class:`DatabaseUnusable`.
    """
    if str(path) == ":memory:":
        return _prepare(Database(memory=True), migrate=migrate, wal=False)
    check_db_path(Path(path))
    try:
        return _prepare(Database(str(path)), migrate=migrate, wal=True)
    except sqlite3.DatabaseError as exc:
        raise DatabaseUnusable(_explain(Path(path), exc)) from None


def _prepare(db: Database, *, migrate: bool, wal: bool) -> Database:
    try:
        db.execute("PRAGMA busy_timeout = 10000")
        if wal:
            db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")  # durable across app crashes in WAL mode
        db.execute("PRAGMA foreign_keys = ON")
        if migrate:
            MIGRATIONS.apply(db)
    except BaseException:
        db.close()
        raise
    return db


def _explain(path: Path, exc: sqlite3.DatabaseError) -> str:
    text = str(exc)
    if "not a database" in text or "malformed" in text:
        return (
            f"{path} is not a SQLite database ({text}); point NEWSDIGEST_DB at the newsdigest "
            "database, or at a new file name to start a fresh one"
        )
    if "readonly" in text or "read-only" in text:
        return f"{path} is read-only ({text}); make it and its folder writable"
    return f"{path}: SQLite cannot use it ({text})"


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """A transaction that takes SQLite's write lock up front (``BEGIN IMMEDIATE``).

    ``db.atomic()`` begins a deferred transaction: one that reads and then writes while
    another connection writes fails at once with "database is locked", busy_timeout
    notwithstanding. Taking the lock first makes it wait its turn instead. Nested, it is
    a savepoint of the enclosing transaction.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.rollback()
        raise
    db.conn.execute("COMMIT")


def to_db_time(moment: datetime) -> str:
    """Aware datetime → fixed-width UTC text, so string order is time order."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the database")
    return moment.astimezone(UTC).strftime(_DB_TIME)


def from_db_time(text: str) -> datetime:
    # fromisoformat reads the stored format ~30x faster than strptime, which was most of
    # the cost of reading a tick's candidates; anything else still goes through strptime.
    if len(text) == 27 and text[-1] == "Z" and text[4] == "-" and text[10] == "T":
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    return datetime.strptime(text, _DB_TIME).replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def set_state(db: Database, key: str, value: str) -> None:
    with write_transaction(db):
        db.table("state").upsert({"key": key, "value": value}, pk="key")


def get_state(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def in_chunks(items: Sequence[ItemT], size: int = SQL_VARIABLES) -> Iterable[Sequence[ItemT]]:
    """``items`` in slices small enough for one ``IN (...)`` list each."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def marks(items: Sequence[object]) -> str:
    """``?,?,?``: one placeholder per item, for an ``IN (...)`` list."""
    return ",".join("?" * len(items))
