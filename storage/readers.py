"""Readers (subscribed private chats), their topics and their digest schedule."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from digest.schedule import next_occurrence
from storage.db import from_db_time, to_db_time, write_transaction

ACTIVE, STOPPED, BLOCKED = "active", "stopped", "blocked"
CATCH_UP_LIMIT = timedelta(days=7)  # after long downtime, one digest of at most a week
FIRST_DIGEST_WINDOW = timedelta(days=1)


class ReaderNotFound(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class Topic:
    id: int
    name: str
    articles: int = 0


@dataclass(frozen=True, slots=True)
class Reader:
    chat_id: int
    status: str
    digest_time: str
    timezone: str
    topic_ids: frozenset[int]
    next_digest_at: datetime | None
    last_digest_at: datetime | None
    digest_since: datetime | None
    user_id: int | None = None
    first_name: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def window_start(self, now: datetime) -> datetime:
        """Articles ingested after this are new to the reader."""
        if self.digest_since is None:
            return now - FIRST_DIGEST_WINDOW
        return max(self.digest_since, now - CATCH_UP_LIMIT)


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def compute_next_digest(digest_time: str, timezone: str, after: datetime) -> datetime:
    return next_occurrence(_hhmm(digest_time), ZoneInfo(timezone), after)


def _opt_time(text: str | None) -> datetime | None:
    return from_db_time(text) if text else None


_READER_COLUMNS = (
    "chat_id, status, digest_time, timezone, next_digest_at, last_digest_at, digest_since, "
    "user_id, first_name"
)


def _reader_from_row(db: Database, row: Sequence[object]) -> Reader:
    chat_id = int(row[0])  # type: ignore[call-overload]
    topics = frozenset(
        tid
        for (tid,) in db.execute("SELECT topic_id FROM reader_topics WHERE chat_id = ?", (chat_id,))
    )
    return Reader(
        chat_id=chat_id,
        status=str(row[1]),
        digest_time=str(row[2]),
        timezone=str(row[3]),
        topic_ids=topics,
        next_digest_at=_opt_time(row[4]),  # type: ignore[arg-type]
        last_digest_at=_opt_time(row[5]),  # type: ignore[arg-type]
        digest_since=_opt_time(row[6]),  # type: ignore[arg-type]
        user_id=row[7],  # type: ignore[arg-type]
        first_name=str(row[8] or ""),
    )


def get_reader(db: Database, chat_id: int) -> Reader | None:
    row = db.execute(
        f"SELECT {_READER_COLUMNS} FROM readers WHERE chat_id = ?", (chat_id,)
    ).fetchone()
    return None if row is None else _reader_from_row(db, row)


def subscribe(
    db: Database,
    chat_id: int,
    *,
    user_id: int | None,
    first_name: str,
    username: str | None,
    default_time: str,
    default_timezone: str,
    now: datetime,
) -> tuple[Reader, bool]:
    """Subscribe a chat, or re-activate it with its old settings. Returns (reader, is_new)."""
    now_text = to_db_time(now)
    with write_transaction(db):
        existing = get_reader(db, chat_id)
        if existing is None:
            db.table("readers").insert(
                {
                    "chat_id": chat_id,
                    "user_id": user_id,
                    "username": username,
                    "first_name": first_name,
                    "status": ACTIVE,
                    "digest_time": default_time,
                    "timezone": default_timezone,
                    "next_digest_at": to_db_time(
                        compute_next_digest(default_time, default_timezone, now)
                    ),
                    "created_at": now_text,
                    "updated_at": now_text,
                }
            )
        else:
            next_at = compute_next_digest(existing.digest_time, existing.timezone, now)
            db.execute(
                "UPDATE readers SET status = ?, user_id = ?, username = ?, first_name = ?, "
                "next_digest_at = ?, updated_at = ? WHERE chat_id = ?",
                (ACTIVE, user_id, username, first_name, to_db_time(next_at), now_text, chat_id),
            )
        reader = get_reader(db, chat_id)
    assert reader is not None
    return reader, existing is None


def set_status(db: Database, chat_id: int, status: str, now: datetime) -> bool:
    """Mark a reader active/stopped/blocked; False when the chat is unknown."""
    cursor = db.execute(
        "UPDATE readers SET status = ?, updated_at = ? WHERE chat_id = ?",
        (status, to_db_time(now), chat_id),
    )
    db.conn.commit()
    return bool(cursor.rowcount)


def set_schedule(
    db: Database,
    chat_id: int,
    now: datetime,
    *,
    digest_time: str | None = None,
    timezone: str | None = None,
) -> Reader:
    with write_transaction(db):
        reader = get_reader(db, chat_id)
        if reader is None:
            raise ReaderNotFound(chat_id)
        new_time = digest_time or reader.digest_time
        new_zone = timezone or reader.timezone
        next_at = compute_next_digest(new_time, new_zone, now)
        db.execute(
            "UPDATE readers SET digest_time = ?, timezone = ?, next_digest_at = ?, updated_at = ? "
            "WHERE chat_id = ?",
            (new_time, new_zone, to_db_time(next_at), to_db_time(now), chat_id),
        )
        updated = get_reader(db, chat_id)
    assert updated is not None
    return updated


def toggle_topic(db: Database, chat_id: int, topic_id: int) -> bool | None:
    """Flip one topic for a reader: True now selected, False now not, None unknown topic."""
    with write_transaction(db):
        if db.execute("SELECT 1 FROM topics WHERE id = ?", (topic_id,)).fetchone() is None:
            return None
        deleted = db.execute(
            "DELETE FROM reader_topics WHERE chat_id = ? AND topic_id = ?", (chat_id, topic_id)
        ).rowcount
        if deleted:
            return False
        db.execute(
            "INSERT INTO reader_topics (chat_id, topic_id) VALUES (?, ?)", (chat_id, topic_id)
        )
        return True


def clear_topics(db: Database, chat_id: int) -> None:
    with write_transaction(db):
        db.execute("DELETE FROM reader_topics WHERE chat_id = ?", (chat_id,))


def all_topics(db: Database) -> list[Topic]:
    """Every known topic, by name, with how many articles carry it."""
    return [
        Topic(tid, name, count)
        for tid, name, count in db.execute(
            "SELECT t.id, t.name, count(at.article_id) FROM topics t "
            "LEFT JOIN article_topics at ON at.topic_id = t.id "
            "GROUP BY t.id ORDER BY t.name COLLATE NOCASE"
        )
    ]


def topics_by_ids(db: Database, ids: Iterable[int]) -> list[Topic]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    marks = ",".join("?" * len(wanted))
    return [
        Topic(tid, name)
        for tid, name in db.execute(
            f"SELECT id, name FROM topics WHERE id IN ({marks}) ORDER BY name COLLATE NOCASE",
            wanted,
        )
    ]


def topic_ids_by_names(db: Database, names: Iterable[str]) -> tuple[list[int], list[str]]:
    """Resolve topic names case-insensitively: (ids found, names unknown)."""
    found: list[int] = []
    unknown: list[str] = []
    for name in names:
        row = db.execute("SELECT id FROM topics WHERE name = ? COLLATE NOCASE", (name,)).fetchone()
        if row is None:
            unknown.append(name)
        else:
            found.append(int(row[0]))
    return found, unknown


def due_readers(db: Database, now: datetime, limit: int = 100_000) -> list[Reader]:
    """Active readers whose next digest time has passed, with their topics (two queries)."""
    rows = db.execute(
        f"SELECT {_READER_COLUMNS} FROM readers WHERE status = ? AND next_digest_at <= ? "
        "ORDER BY next_digest_at LIMIT ?",
        (ACTIVE, to_db_time(now), limit),
    ).fetchall()
    if not rows:
        return []
    topics: dict[int, set[int]] = {}
    for chat_id, topic_id in db.execute(
        "SELECT rt.chat_id, rt.topic_id FROM reader_topics rt JOIN readers r "
        "ON r.chat_id = rt.chat_id WHERE r.status = ? AND r.next_digest_at <= ?",
        (ACTIVE, to_db_time(now)),
    ):
        topics.setdefault(chat_id, set()).add(topic_id)
    return [
        Reader(
            chat_id=row[0],
            status=row[1],
            digest_time=row[2],
            timezone=row[3],
            topic_ids=frozenset(topics.get(row[0], ())),
            next_digest_at=_opt_time(row[4]),
            last_digest_at=_opt_time(row[5]),
            digest_since=_opt_time(row[6]),
            user_id=row[7],
            first_name=row[8] or "",
        )
        for row in rows
    ]


def earliest_window(db: Database, now: datetime) -> datetime | None:
    """The earliest window start among readers due now (None: nobody is due)."""
    count, first_time, earliest = db.execute(
        "SELECT count(*), count(*) - count(digest_since), min(digest_since) FROM readers "
        "WHERE status = ? AND next_digest_at <= ?",
        (ACTIVE, to_db_time(now)),
    ).fetchone()
    if not count:
        return None
    # Mirrors Reader.window_start, taken over every due reader at once.
    starts = [now - FIRST_DIGEST_WINDOW] if first_time else []
    if earliest is not None:
        starts.append(max(from_db_time(earliest), now - CATCH_UP_LIMIT))
    return min(starts)


@dataclass(frozen=True, slots=True)
class DigestDone:
    """What assembling one reader's digest changes in their schedule."""

    chat_id: int
    next_digest_at: datetime
    sent: bool  # a digest was enqueued (an empty one is not sent)
    exhausted: bool  # nothing left over: the window moves to now
    window_start: datetime | None = None  # the window used; kept while stories are left over


def advance_schedules(db: Database, done: Sequence[DigestDone], now: datetime) -> None:
    now_text = to_db_time(now)
    with write_transaction(db):
        write_schedule_advances(db, done, now_text)


def write_schedule_advances(db: Database, done: Sequence[DigestDone], now_text: str) -> None:
    db.conn.executemany(
        "UPDATE readers SET next_digest_at = ?, "
        "last_digest_at = CASE WHEN ? THEN ? ELSE last_digest_at END, "
        # Leftovers ("+N more") stay new: the window only moves past what was all shown.
        "digest_since = CASE WHEN ? THEN ? WHEN ? THEN ? ELSE digest_since END, updated_at = ? "
        "WHERE chat_id = ?",
        [
            (
                to_db_time(d.next_digest_at),
                d.sent,
                now_text,
                d.sent and d.exhausted,
                now_text,
                d.sent and d.window_start is not None,
                to_db_time(d.window_start) if d.window_start is not None else None,
                now_text,
                d.chat_id,
            )
            for d in done
        ],
    )


def mark_digest_sent(
    db: Database, chat_id: int, now: datetime, *, exhausted: bool, window_start: datetime
) -> None:
    """An on-demand digest: it moves the window like a scheduled one, not the schedule."""
    now_text = to_db_time(now)
    db.execute(
        "UPDATE readers SET last_digest_at = ?, digest_since = ?, updated_at = ? WHERE chat_id = ?",
        (now_text, now_text if exhausted else to_db_time(window_start), now_text, chat_id),
    )


def migrate_chat(db: Database, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: the reader, its topics and its queue move to the new id."""
    with write_transaction(db):
        # reader_topics points at readers.chat_id: check the keys once all rows have moved.
        db.execute("PRAGMA defer_foreign_keys = ON")
        if get_reader(db, new_chat_id) is None:
            db.execute(
                "UPDATE readers SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id)
            )
            db.execute(
                "UPDATE reader_topics SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id)
            )
        else:
            # The new chat is subscribed already: the old reader retires, or it would get
            # a second digest a day, redirected to the same chat.
            db.execute("DELETE FROM reader_topics WHERE chat_id = ?", (old_chat_id,))
            db.execute("DELETE FROM readers WHERE chat_id = ?", (old_chat_id,))
        db.execute("UPDATE outbox SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id))
        db.execute(
            "UPDATE OR IGNORE deliveries SET chat_id = ? WHERE chat_id = ?",
            (new_chat_id, old_chat_id),
        )


@dataclass(frozen=True, slots=True)
class ReaderCounts:
    active: int
    stopped: int
    blocked: int


def reader_counts(db: Database) -> ReaderCounts:
    counts = dict(db.execute("SELECT status, count(*) FROM readers GROUP BY status").fetchall())
    return ReaderCounts(counts.get(ACTIVE, 0), counts.get(STOPPED, 0), counts.get(BLOCKED, 0))


def next_digests(db: Database, limit: int = 5) -> list[tuple[int, datetime]]:
    return [
        (chat_id, from_db_time(at))
        for chat_id, at in db.execute(
            "SELECT chat_id, next_digest_at FROM readers WHERE status = ? "
            "ORDER BY next_digest_at LIMIT ?",
            (ACTIVE, limit),
        )
    ]


def audience(db: Database, topic_ids: Iterable[int] | None) -> list[int]:
    """Active readers who would get an item on these topics (no topics chosen = everything).

    ``None`` means "everyone" (a free-text push).
    """
    if topic_ids is None:
        return [c for (c,) in db.execute("SELECT chat_id FROM readers WHERE status = ?", (ACTIVE,))]
    ids = sorted(set(topic_ids))
    marks = ",".join("?" * len(ids)) or "NULL"
    return [
        chat_id
        for (chat_id,) in db.execute(
            "SELECT r.chat_id FROM readers r WHERE r.status = ? AND ("
            " NOT EXISTS (SELECT 1 FROM reader_topics rt WHERE rt.chat_id = r.chat_id)"
            f" OR EXISTS (SELECT 1 FROM reader_topics rt WHERE rt.chat_id = r.chat_id"
            f" AND rt.topic_id IN ({marks})))",
            (ACTIVE, *ids),
        )
    ]
