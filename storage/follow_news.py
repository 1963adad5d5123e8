"""Telling followers: who has news not yet told, the members they have not heard of,
marking them told, and unfollowing stories without news for too long."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from digest.follow import EXPIRY, is_expired
from storage.db import (
    from_db_time,
    in_chunks,
    marks,
    to_db_time,
    write_transaction,
)
from storage.follows import drop_unfollowed
from storage.readers import READER_COLUMNS, Reader, reader_from_row


@dataclass(frozen=True, slots=True)
class DueFollow:
    """A follower with news not yet told, whose last update is 3 hours old or more."""

    chat_id: int
    story_id: int
    seen_seq: int


def due_follows(db: Database, told_before: datetime) -> list[DueFollow]:
    """Follows with members after their ``seen_seq`` and no update since ``told_before``."""
    return [
        DueFollow(chat_id, story_id, seen)
        for chat_id, story_id, seen in db.execute(
            "SELECT f.chat_id, f.story_id, f.seen_seq FROM follows f "
            "JOIN follow_stories s ON s.article_id = f.story_id "
            "WHERE s.max_seq > f.seen_seq AND (f.last_update_at IS NULL OR f.last_update_at <= ?) "
            "ORDER BY f.chat_id, f.story_id",
            (to_db_time(told_before),),
        )
    ]


def members_after(db: Database, after: Mapping[int, int]) -> dict[int, list[tuple[int, int]]]:
    """Per story, its members ``(seq, article id)`` with a seq above ``after[story]``."""
    found: dict[int, list[tuple[int, int]]] = {}
    for story_id, seq in after.items():
        found[story_id] = [
            (s, a)
            for s, a in db.execute(
                "SELECT seq, article_id FROM follow_members WHERE story_id = ? AND seq > ? "
                "ORDER BY seq",
                (story_id, seq),
            )
        ]
    return found


def followers(db: Database, chat_ids: Sequence[int]) -> dict[int, Reader]:
    """The subscriptions of ``chat_ids`` (topics, keywords and mutes left out)."""
    found: dict[int, Reader] = {}
    for chunk in in_chunks(sorted(set(chat_ids))):
        for row in db.execute(
            f"SELECT {READER_COLUMNS} FROM readers WHERE chat_id IN ({marks(chunk)})", chunk
        ):
            reader = reader_from_row(row, frozenset())
            found[reader.chat_id] = reader
    return found


def mark_told(db: Database, told: Sequence[tuple[int, int, int]], now: datetime) -> None:
    """Followers ``(chat id, story id, seq)`` were told of their story up to ``seq`` now
    (inside the caller's transaction, with the queued messages)."""
    db.conn.executemany(
        "UPDATE follows SET seen_seq = ?, last_update_at = ? WHERE chat_id = ? AND story_id = ?",
        [(seq, to_db_time(now), chat_id, story_id) for chat_id, story_id, seq in told],
    )


def expire_follows(db: Database, now: datetime) -> int:
    """Unfollow stories 14 days without news (digest.follow.is_expired); how many follows."""
    rows = db.execute(
        "SELECT f.chat_id, f.story_id, s.last_news_at, f.followed_at FROM follow_stories s "
        "JOIN follows f ON f.story_id = s.article_id WHERE s.last_news_at <= ?",
        (to_db_time(now - EXPIRY),),
    ).fetchall()
    ended = [
        (chat_id, story_id)
        for chat_id, story_id, news, followed in rows
        if is_expired(from_db_time(news), from_db_time(followed), now)
    ]
    if not ended:
        return 0
    with write_transaction(db):
        db.conn.executemany("DELETE FROM follows WHERE chat_id = ? AND story_id = ?", ended)
        drop_unfollowed(db, sorted({story_id for _, story_id in ended}))
    return len(ended)
