"""Opening the SQLite file, and the one time format stored in it."""

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
    db.table("state").upsert({"key": key, "value": value}, pk="key")


def get_state(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])
