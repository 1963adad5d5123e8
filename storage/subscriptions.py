"""Groups and channels as subscriptions: pausing and resuming, titles, channel managers.

A group or channel is a row of ``readers`` like a private chat (one :class:`Reader` type
for digests, pushes and stats); what only they have lives here. A subscription the bot
can no longer post to is ``blocked`` with a ``paused_reason`` ("paused" to admins), and
resumes with its settings when the bot may post again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from storage.db import to_db_time, write_transaction
from storage.outbox import drop_chat
from storage.readers import (
    READER_COLUMNS,
    ChatKind,
    Reader,
    ReaderStatus,
    get_reader,
    reader_from_row,
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
