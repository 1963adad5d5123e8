"""Opening the SQLite file; the one write-transaction helper, time format and key-value state.

Every multi-step write in ``storage`` runs inside :func:`write_transaction`; a single
statement through ``db.execute`` is committed by sqlite-utils on its own. The time
conversions (:func:`to_db_time`, :func:`from_db_time`) are for ``storage`` only: its
functions take and return aware ``datetime`` values.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from storage.schema import MIGRATIONS

_DB_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def open_db(path: Path | str, *, migrate: bool = True) -> Database:
    """Open (creating if needed) the database in WAL mode and apply pending migrations.

    WAL lets the bot read while the folder scan writes; ``busy_timeout`` makes a
    writer wait for the other instead of failing with "database is locked".
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = Database(str(path)) if str(path) != ":memory:" else Database(memory=True)
    db.execute("PRAGMA busy_timeout = 10000")
    if str(path) != ":memory:":
        db.enable_wal()
    db.execute("PRAGMA synchronous = NORMAL")  # durable across app crashes in WAL mode
    db.execute("PRAGMA foreign_keys = ON")
    if migrate:
        MIGRATIONS.apply(db)
    return db


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
    return datetime.strptime(text, _DB_TIME).replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def set_state(db: Database, key: str, value: str) -> None:
    with write_transaction(db):
        db.table("state").upsert({"key": key, "value": value}, pk="key")


def get_state(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])
