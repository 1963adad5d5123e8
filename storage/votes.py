"""👍 / 👎 on story cards: one vote per subscription and story, read back as ranking weights.

A vote keeps the story's topics and provider (as they were when it was cast), so a
reader's weights come from this table alone; :mod:`digest.votes` turns them into factors.
Faded votes (older than ``digest.votes.VOTE_LIFE``) stay stored - a card still marks the
reader's vote - but are not read for weights.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlite_utils import Database

from digest.votes import VOTE_LIFE, Vote, VoteWeights, weights_from_votes
from storage.db import from_db_time, to_db_time, write_transaction

_CHUNK = 900  # chat ids per query (SQLite's parameter limit)


def cast_vote(
    db: Database,
    chat_id: int,
    article_id: int,
    value: int,
    *,
    user_id: int | None,
    provider_key: str,
    topic_ids: Iterable[int],
    now: datetime,
) -> int:
    """Record ``value`` (+1/-1) on the story; the same vote again takes it back.

    Returns the vote now stored: ``value``, or 0 when it was taken back.
    """
    if value not in (1, -1):
        raise ValueError(f"a vote is +1 or -1, not {value!r}")
    with write_transaction(db):
        old = vote_on(db, chat_id, article_id)
        if old == value:
            db.execute(
                "DELETE FROM story_votes WHERE chat_id = ? AND article_id = ?",
                (chat_id, article_id),
            )
            return 0
        db.execute(
            "INSERT INTO story_votes (chat_id, article_id, user_id, value, provider_key, "
            "topic_ids, voted_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (chat_id, article_id) DO UPDATE SET user_id = excluded.user_id, "
            "value = excluded.value, provider_key = excluded.provider_key, "
            "topic_ids = excluded.topic_ids, voted_at = excluded.voted_at",
            (
                chat_id,
                article_id,
                user_id,
                value,
                provider_key,
                ",".join(str(t) for t in sorted(set(topic_ids))),
                to_db_time(now),
            ),
        )
    return value


def vote_on(db: Database, chat_id: int, article_id: int) -> int:
    """The subscription's vote on a story: +1, -1, or 0 for none."""
    row = db.execute(
        "SELECT value FROM story_votes WHERE chat_id = ? AND article_id = ?",
        (chat_id, article_id),
    ).fetchone()
    return int(row[0]) if row is not None else 0


def _topics(text: str | None) -> frozenset[int]:
    return frozenset(int(t) for t in text.split(",") if t) if text else frozenset()


def votes_among(db: Database, chat_ids: Sequence[int], now: datetime) -> dict[int, list[Vote]]:
    """Per chat, its votes that still count at ``now`` (chats without any are absent)."""
    since = to_db_time(now - VOTE_LIFE)
    found: dict[int, list[Vote]] = {}
    for start in range(0, len(chat_ids), _CHUNK):
        chunk = chat_ids[start : start + _CHUNK]
        for chat_id, value, provider, topics, voted in db.execute(
            "SELECT chat_id, value, provider_key, topic_ids, voted_at FROM story_votes "
            f"WHERE chat_id IN ({','.join('?' * len(chunk))}) AND voted_at > ?",
            (*chunk, since),
        ):
            found.setdefault(chat_id, []).append(
                Vote(value, _topics(topics), provider or "", from_db_time(voted))
            )
    return found


def weights_among(db: Database, chat_ids: Sequence[int], now: datetime) -> dict[int, VoteWeights]:
    """Per chat with votes, its ranking weights at ``now``: one query per batch of readers."""
    return {
        chat_id: weights
        for chat_id, votes in votes_among(db, chat_ids, now).items()
        if (weights := weights_from_votes(votes, now))
    }


def weights_of(db: Database, chat_id: int, now: datetime) -> VoteWeights | None:
    """One subscription's weights (None: no vote counts)."""
    return weights_among(db, [chat_id], now).get(chat_id)
