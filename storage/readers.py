"""Readers (subscribed chats: private, groups, channels), their topics and digest schedule."""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from digest.schedule import next_occurrence
from storage.db import from_db_time, to_db_time, write_transaction


class ReaderStatus(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"  # /stop: settings kept for a later /start
    # The reader blocked the bot (or the chat is gone); a group or channel: the bot was
    # removed or may not post there, "paused" with the reason in paused_reason.
    BLOCKED = "blocked"


class ChatKind(StrEnum):
    """Which kind of chat a subscription is: Telegram's chat type."""

    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"


GROUP_KINDS = frozenset({ChatKind.GROUP, ChatKind.SUPERGROUP})


CATCH_UP_LIMIT = timedelta(days=7)  # after long downtime, one digest of at most a week
FIRST_DIGEST_WINDOW = timedelta(days=1)


class ReaderNotFound(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class Reader:
    chat_id: int
    status: ReaderStatus
    digest_time: time  # local wall-clock time of the daily digest
    zone: ZoneInfo  # the zone digest_time is in
    topic_ids: frozenset[int]
    next_digest_at: datetime | None
    last_digest_at: datetime | None
    digest_since: datetime | None
    user_id: int | None = None
    first_name: str = ""
    kind: ChatKind = ChatKind.PRIVATE
    title: str = ""  # a group's or channel's title ("" for a private chat)
    thread_id: int | None = None  # the forum topic digests go to (None: the chat itself)
    paused_reason: str | None = None  # why a blocked group or channel was paused

    @property
    def is_channel(self) -> bool:
        return self.kind == ChatKind.CHANNEL

    @property
    def is_group(self) -> bool:
        return self.kind in GROUP_KINDS

    def window_start(self, now: datetime) -> datetime:
        """Articles ingested after this are new to the reader."""
        if self.digest_since is None:
            return now - FIRST_DIGEST_WINDOW
        return max(self.digest_since, now - CATCH_UP_LIMIT)

    def next_digest_after(self, moment: datetime) -> datetime:
        return next_occurrence(self.digest_time, self.zone, moment)


# The digest time is stored as "HH:MM" and the zone by its IANA key: both converted here only.
@functools.cache
def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _hhmm(at: time) -> str:
    return f"{at:%H:%M}"


def _opt_time(text: str | None) -> datetime | None:
    return from_db_time(text) if text else None


READER_COLUMNS = (
    "chat_id, status, digest_time, timezone, next_digest_at, last_digest_at, digest_since, "
    "user_id, first_name, chat_kind, title, thread_id, paused_reason"
)


def reader_from_row(row: Sequence[Any], topic_ids: frozenset[int]) -> Reader:
    """A row of ``SELECT {READER_COLUMNS}`` and the reader's topics as a :class:`Reader`."""
    return Reader(
        chat_id=int(row[0]),
        status=ReaderStatus(row[1]),
        digest_time=_clock(row[2]),
        zone=ZoneInfo(row[3]),
        topic_ids=topic_ids,
        next_digest_at=_opt_time(row[4]),
        last_digest_at=_opt_time(row[5]),
        digest_since=_opt_time(row[6]),
        user_id=row[7],
        first_name=row[8] or "",
        kind=ChatKind(row[9]),
        title=row[10] or "",
        thread_id=row[11],
        paused_reason=row[12],
    )


def get_reader(db: Database, chat_id: int) -> Reader | None:
    row = db.execute(
        f"SELECT {READER_COLUMNS} FROM readers WHERE chat_id = ?", (chat_id,)
    ).fetchone()
    if row is None:
        return None
    topics = frozenset(
        tid
        for (tid,) in db.execute("SELECT topic_id FROM reader_topics WHERE chat_id = ?", (chat_id,))
    )
    return reader_from_row(row, topics)


def subscribe(
    db: Database,
    chat_id: int,
    *,
    user_id: int | None,
    first_name: str,
    username: str | None,
    default_time: time,
    default_zone: ZoneInfo,
    now: datetime,
    kind: ChatKind = ChatKind.PRIVATE,
    title: str = "",
    thread_id: int | None = None,
) -> tuple[Reader, bool]:
    """Subscribe a chat, or re-activate it with its old settings. Returns (reader, is_new).

    ``kind``, ``title``: what Telegram says the chat is now; ``thread_id``: the forum topic
    the digest goes to from now on (a /start in another topic moves it there).
    """
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
                    "status": ReaderStatus.ACTIVE,
                    "digest_time": _hhmm(default_time),
                    "timezone": default_zone.key,
                    "next_digest_at": to_db_time(next_occurrence(default_time, default_zone, now)),
                    "created_at": now_text,
                    "updated_at": now_text,
                    "chat_kind": kind,
                    "title": title or None,
                    "thread_id": thread_id,
                }
            )
        else:
            next_at = existing.next_digest_after(now)
            db.execute(
                "UPDATE readers SET status = ?, user_id = ?, username = ?, first_name = ?, "
                "next_digest_at = ?, updated_at = ?, chat_kind = ?, title = ?, thread_id = ?, "
                "paused_reason = NULL WHERE chat_id = ?",
                (
                    ReaderStatus.ACTIVE,
                    user_id,
                    username,
                    first_name,
                    to_db_time(next_at),
                    now_text,
                    kind,
                    title or None,
                    thread_id,
                    chat_id,
                ),
            )
        reader = get_reader(db, chat_id)
    assert reader is not None
    return reader, existing is None


def set_status(db: Database, chat_id: int, status: ReaderStatus, now: datetime) -> bool:
    """Mark a reader active/stopped/blocked; False when the chat is unknown."""
    cursor = db.execute(  # one statement: sqlite-utils commits it
        "UPDATE readers SET status = ?, updated_at = ? WHERE chat_id = ?",
        (status, to_db_time(now), chat_id),
    )
    return bool(cursor.rowcount)


def set_schedule(
    db: Database,
    chat_id: int,
    now: datetime,
    *,
    digest_time: time | None = None,
    zone: ZoneInfo | None = None,
) -> Reader:
    """A new digest time and/or zone; the next digest moves to match."""
    with write_transaction(db):
        reader = get_reader(db, chat_id)
        if reader is None:
            raise ReaderNotFound(chat_id)
        new_time = reader.digest_time if digest_time is None else digest_time
        new_zone = reader.zone if zone is None else zone
        next_at = next_occurrence(new_time, new_zone, now)
        db.execute(
            "UPDATE readers SET digest_time = ?, timezone = ?, next_digest_at = ?, updated_at = ? "
            "WHERE chat_id = ?",
            (_hhmm(new_time), new_zone.key, to_db_time(next_at), to_db_time(now), chat_id),
        )
        updated = get_reader(db, chat_id)
    assert updated is not None
    return updated


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
        db.execute(
            "UPDATE readers SET chat_kind = ? WHERE chat_id = ? AND chat_kind = ?",
            (ChatKind.SUPERGROUP, new_chat_id, ChatKind.GROUP),
        )
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


def reader_counts(db: Database, kinds: Collection[ChatKind] | None = None) -> ReaderCounts:
    """Subscriptions by status: of every kind, or of ``kinds`` only."""
    wanted = tuple(ChatKind if kinds is None else kinds)
    marks = ",".join("?" * len(wanted)) or "NULL"
    counts = dict(
        db.execute(
            f"SELECT status, count(*) FROM readers WHERE chat_kind IN ({marks}) GROUP BY status",
            wanted,
        ).fetchall()
    )
    return ReaderCounts(
        counts.get(ReaderStatus.ACTIVE, 0),
        counts.get(ReaderStatus.STOPPED, 0),
        counts.get(ReaderStatus.BLOCKED, 0),
    )


def next_digests(db: Database, limit: int = 5) -> list[tuple[int, datetime]]:
    return [
        (chat_id, from_db_time(at))
        for chat_id, at in db.execute(
            "SELECT chat_id, next_digest_at FROM readers WHERE status = ? "
            "ORDER BY next_digest_at LIMIT ?",
            (ReaderStatus.ACTIVE, limit),
        )
    ]


def audience(db: Database, topic_ids: Iterable[int] | None) -> list[int]:
    """Active readers who would get an item on these topics (no topics chosen = everything).

    ``None`` means "everyone" (a free-text push).
    """
    if topic_ids is None:
        return [
            c
            for (c,) in db.execute(
                "SELECT chat_id FROM readers WHERE status = ?", (ReaderStatus.ACTIVE,)
            )
        ]
    ids = sorted(set(topic_ids))
    marks = ",".join("?" * len(ids)) or "NULL"
    return [
        chat_id
        for (chat_id,) in db.execute(
            "SELECT r.chat_id FROM readers r WHERE r.status = ? AND ("
            " NOT EXISTS (SELECT 1 FROM reader_topics rt WHERE rt.chat_id = r.chat_id)"
            f" OR EXISTS (SELECT 1 FROM reader_topics rt WHERE rt.chat_id = r.chat_id"
            f" AND rt.topic_id IN ({marks})))",
            (ReaderStatus.ACTIVE, *ids),
        )
    ]


@dataclass(frozen=True, slots=True)
class ReaderRow:
    """One line of ``newsdigest readers``."""

    chat_id: int
    status: str
    first_name: str
    username: str | None
    digest_time: str
    timezone: str
    topics: tuple[str, ...]
    next_digest_at: datetime | None


def list_readers(db: Database, status: str | None = None) -> list[ReaderRow]:
    """Readers by chat id (with their topic names), optionally of one status only."""
    where, params = ("WHERE r.status = ?", (status,)) if status else ("", ())
    rows = db.execute(
        "SELECT r.chat_id, r.status, r.first_name, r.username, r.digest_time, r.timezone, "
        "r.next_digest_at, (SELECT group_concat(t.name, '\x1f') FROM reader_topics rt "
        "JOIN topics t ON t.id = rt.topic_id WHERE rt.chat_id = r.chat_id) "
        f"FROM readers r {where} ORDER BY r.chat_id",
        params,
    ).fetchall()
    return [
        ReaderRow(
            chat_id=int(chat_id),
            status=str(state),
            first_name=str(first or ""),
            username=username,
            digest_time=str(at),
            timezone=str(zone),
            topics=tuple(sorted(str(names).split("\x1f"), key=str.casefold)) if names else (),
            next_digest_at=_opt_time(next_at),
        )
        for chat_id, state, first, username, at, zone, next_at, names in rows
    ]
