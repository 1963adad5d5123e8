"""Subscription state: subscribing (or coming back), stopping, being blocked or paused,
moving to a supergroup's id, and what only groups and channels have (titles, forum
topics, channel managers).

A group or channel is a row of ``readers`` like a private chat (one :class:`Reader` type
for digests, pushes and stats). A subscription is ``active``, ``stopped`` (/stop; the
settings are kept for a later /start) or ``blocked``: the reader blocked the bot, or a
group or channel the bot can no longer post to, "paused" with a ``paused_reason``; that
one resumes with its settings when the bot may post again. A stopped subscription stays
stopped through all of this: only /start (or a channel's Resume) brings it back. A
reader's own /pause is a setting, not a state (``storage.reader_settings.set_pause``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from digest.schedule import next_occurrence
from storage.controls import move_controls
from storage.db import to_db_time, write_transaction
from storage.follows import move_follows
from storage.readers import (
    READER_COLUMNS,
    ChatKind,
    Reader,
    ReaderStatus,
    get_reader,
    hhmm,
    reader_from_row,
)


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
    language: str | None = None,
) -> tuple[Reader, bool]:
    """Subscribe a chat, or re-activate it with its old settings. Returns (reader, is_new).

    ``kind``, ``title``: what Telegram says the chat is now; ``thread_id``: the forum topic
    the digest goes to from now on (a /start in another topic moves it there);
    ``language``: the bot's language for a chat that has none stored yet (one chosen with
    /language is kept).
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
                    "digest_time": hhmm(default_time),
                    "timezone": default_zone.key,
                    "next_digest_at": to_db_time(next_occurrence(default_time, default_zone, now)),
                    "created_at": now_text,
                    "updated_at": now_text,
                    "chat_kind": kind,
                    "title": title or None,
                    "thread_id": thread_id,
                    "language": language,
                }
            )
        else:
            next_at = existing.next_digest_after(now)
            db.execute(
                "UPDATE readers SET status = ?, user_id = ?, username = ?, first_name = ?, "
                "next_digest_at = ?, updated_at = ?, chat_kind = ?, title = ?, thread_id = ?, "
                "paused_reason = NULL, language = COALESCE(language, ?) WHERE chat_id = ?",
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
                    language,
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


def drop_chat(db: Database, chat_id: int, reason: str, now: datetime) -> None:
    """The bot may not post here any more: block the subscription (unless it is stopped
    already) and drop what was queued for it. A group or channel is paused so:
    ``paused_reason`` keeps why, for /stats and its settings screen."""
    with write_transaction(db):
        drop_chat_now(db, chat_id, reason, to_db_time(now))


def drop_chat_now(db: Database, chat_id: int, reason: str, now_text: str) -> None:
    """:func:`drop_chat` inside the caller's transaction."""
    conn = db.conn
    conn.execute(
        "UPDATE readers SET status = ?, paused_reason = ?, updated_at = ? "
        "WHERE chat_id = ? AND status != ?",
        (ReaderStatus.BLOCKED, reason, now_text, chat_id, ReaderStatus.STOPPED),
    )
    conn.execute(
        "DELETE FROM deliveries WHERE outbox_id IN "
        "(SELECT id FROM outbox WHERE chat_id = ? AND status = 'pending')",
        (chat_id,),
    )
    conn.execute(
        "UPDATE outbox SET status = 'dropped', last_error = ? "
        "WHERE chat_id = ? AND status = 'pending'",
        (reason, chat_id),
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
            move_controls(db, old_chat_id, new_chat_id, keep_new=False)
        else:
            # The new chat is subscribed already: the old reader retires, or it would get
            # a second digest a day, redirected to the same chat.
            db.execute("DELETE FROM reader_topics WHERE chat_id = ?", (old_chat_id,))
            move_controls(db, old_chat_id, new_chat_id, keep_new=True)
            db.execute("DELETE FROM readers WHERE chat_id = ?", (old_chat_id,))
        db.execute(
            "UPDATE readers SET chat_kind = ? WHERE chat_id = ? AND chat_kind = ?",
            (ChatKind.SUPERGROUP, new_chat_id, ChatKind.GROUP),
        )
        db.execute("UPDATE outbox SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id))
        db.execute("UPDATE prompts SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id))
        move_follows(db, old_chat_id, new_chat_id)
        db.execute(
            "UPDATE OR IGNORE deliveries SET chat_id = ? WHERE chat_id = ?",
            (new_chat_id, old_chat_id),
        )


@dataclass(frozen=True, slots=True)
class PausedSubscription:
    """A group or channel the bot cannot post to, and why (for /stats)."""

    chat_id: int
    kind: ChatKind
    title: str
    reason: str


def pause(db: Database, chat_id: int, reason: str, now: datetime) -> bool:
    """The bot may not post here any more: pause, and drop what was queued. False: unknown."""
    if get_reader(db, chat_id) is None:
        return False
    drop_chat(db, chat_id, reason, now)
    return True


def resume(db: Database, chat_id: int, now: datetime, *, title: str = "") -> Reader | None:
    """The bot may post again: a paused subscription is active with its old settings.

    The next digest is the next one from now, not a catch-up of the days it was away.
    ``title``: the chat's title as Telegram gives it now (kept when empty). None: unknown.
    """
    with write_transaction(db):
        reader = get_reader(db, chat_id)
        if reader is None:
            return None
        if reader.status == ReaderStatus.BLOCKED:
            db.execute(
                "UPDATE readers SET status = ?, paused_reason = NULL, next_digest_at = ?, "
                "updated_at = ? WHERE chat_id = ?",
                (
                    ReaderStatus.ACTIVE,
                    to_db_time(reader.next_digest_after(now)),
                    to_db_time(now),
                    chat_id,
                ),
            )
        if title:
            db.execute("UPDATE readers SET title = ? WHERE chat_id = ?", (title, chat_id))
        return get_reader(db, chat_id)


def add_manager(db: Database, chat_id: int, user_id: int, now: datetime) -> None:
    """``user_id`` added channel ``chat_id`` through the bot: it is in their /channels."""
    db.execute(
        "INSERT OR IGNORE INTO channel_managers (chat_id, user_id, added_at) VALUES (?, ?, ?)",
        (chat_id, user_id, to_db_time(now)),
    )


def managed_channels(db: Database, user_id: int) -> list[Reader]:
    """The channels ``user_id`` added through the bot, by title."""
    rows = db.execute(
        f"SELECT {READER_COLUMNS} FROM readers WHERE chat_kind = ? AND chat_id IN "
        "(SELECT chat_id FROM channel_managers WHERE user_id = ?) ORDER BY lower(title), chat_id",
        (ChatKind.CHANNEL, user_id),
    ).fetchall()
    topics: dict[int, set[int]] = {}
    for chat_id, topic_id in db.execute(
        "SELECT rt.chat_id, rt.topic_id FROM reader_topics rt "
        "JOIN channel_managers m ON m.chat_id = rt.chat_id WHERE m.user_id = ?",
        (user_id,),
    ):
        topics.setdefault(chat_id, set()).add(topic_id)
    return [reader_from_row(row, frozenset(topics.get(row[0], ()))) for row in rows]


def paused_subscriptions(db: Database, limit: int = 5) -> list[PausedSubscription]:
    """Groups and channels paused because the bot may not post there, latest first."""
    return [
        PausedSubscription(int(chat_id), ChatKind(kind), title or "", reason or "")
        for chat_id, kind, title, reason in db.execute(
            "SELECT chat_id, chat_kind, title, paused_reason FROM readers "
            "WHERE status = ? AND chat_kind != ? ORDER BY updated_at DESC, chat_id LIMIT ?",
            (ReaderStatus.BLOCKED, ChatKind.PRIVATE, limit),
        )
    ]


def thread_ids(db: Database, chat_ids: Sequence[int]) -> dict[int, int]:
    """The forum topic of each of ``chat_ids`` that has one (most have none)."""
    wanted = set(chat_ids)
    return {
        chat_id: thread_id
        for chat_id, thread_id in db.execute(
            "SELECT chat_id, thread_id FROM readers WHERE thread_id IS NOT NULL"
        )
        if chat_id in wanted
    }
