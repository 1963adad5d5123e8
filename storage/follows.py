"""Followed stories: who follows what, each story's known coverage, what each follower heard.

A story is named by its lead article's id and shared by its followers, so the matching
job works per story, not per follower: ``follow_stories`` (when it last had news, the
``seq`` of its newest member), ``follow_members`` (the stored articles known to be on
it, numbered by ``seq`` in the order they became known), ``follow_words`` (the title
words of member articles: the index new titles are looked up in) and ``follows`` (per
chat: when it followed, its last update, and ``seen_seq``: the members it knows of).
A story nobody follows any more is deleted with its members and their words.

The rules (what matches, when a follower hears) are :mod:`digest.follow`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum

from sqlite_utils import Database

from digest.follow import MAX_FOLLOWS, FollowedStory, title_words
from digest.model import Candidate
from digest.titles import titles_match
from storage.articles import article_by_id, articles_by_ids
from storage.db import (
    from_db_time,
    in_chunks,
    marks,
    to_db_time,
    write_transaction,
)
from storage.search import linked_articles, title_matches

WATERMARK = "follow_seen_article_id"  # state: articles up to this id were matched


class FollowOutcome(StrEnum):
    FOLLOWED = "followed"
    ALREADY = "already"
    GONE = "gone"  # the article is not stored (any more)
    FULL = "full"  # the chat follows MAX_FOLLOWS stories already


# -- following and unfollowing ------------------------------------------------------------


def story_member_ids(db: Database, article: Candidate) -> list[int]:
    """The stored coverage of ``article``'s story as /related finds it: the article, those
    linked either way or sharing a link, and those with a near-identical title."""
    same = linked_articles(db, article) + [
        c
        for c in articles_by_ids(db, title_matches(db, article))
        if titles_match(c.title, article.title)
    ]
    return list(dict.fromkeys([article.id, *(c.id for c in same)]))


def follow_story(
    db: Database, chat_id: int, article_id: int, now: datetime, *, limit: int = MAX_FOLLOWS
) -> FollowOutcome:
    """``chat_id`` follows the story led by ``article_id``, from what is stored now."""
    with write_transaction(db):
        if is_following(db, chat_id, article_id):
            return FollowOutcome.ALREADY
        article = article_by_id(db, article_id)
        if article is None:
            return FollowOutcome.GONE
        (count,) = db.execute(
            "SELECT count(*) FROM follows WHERE chat_id = ?", (chat_id,)
        ).fetchone()
        if count >= limit:
            return FollowOutcome.FULL
        now_text = to_db_time(now)
        created = db.execute(
            "INSERT OR IGNORE INTO follow_stories (article_id, created_at, last_news_at) "
            "VALUES (?, ?, ?)",
            (article_id, now_text, now_text),
        ).rowcount
        if created:
            add_members(db, article_id, story_member_ids(db, article), now_text)
        (seen,) = db.execute(
            "SELECT max_seq FROM follow_stories WHERE article_id = ?", (article_id,)
        ).fetchone()
        db.execute(
            "INSERT INTO follows (chat_id, story_id, followed_at, seen_seq) VALUES (?, ?, ?, ?)",
            (chat_id, article_id, now_text, seen),
        )
    return FollowOutcome.FOLLOWED


def unfollow_story(db: Database, chat_id: int, article_id: int) -> bool:
    """False when the chat did not follow it."""
    with write_transaction(db):
        gone = db.execute(
            "DELETE FROM follows WHERE chat_id = ? AND story_id = ?", (chat_id, article_id)
        ).rowcount
        drop_unfollowed(db, [article_id])
    return bool(gone)


def is_following(db: Database, chat_id: int, article_id: int) -> bool:
    row = db.execute(
        "SELECT 1 FROM follows WHERE chat_id = ? AND story_id = ?", (chat_id, article_id)
    ).fetchone()
    return row is not None


def followed_stories(db: Database, chat_id: int) -> list[FollowedStory]:
    """The chat's followed stories, the most recently followed first."""
    rows = db.execute(
        "SELECT f.story_id, coalesce(a.title, ''), coalesce(a.web_url, ''), f.followed_at, "
        "s.last_news_at, (SELECT count(*) FROM follow_members m WHERE m.story_id = f.story_id) "
        "FROM follows f JOIN follow_stories s ON s.article_id = f.story_id "
        "LEFT JOIN articles a ON a.id = f.story_id "
        "WHERE f.chat_id = ? ORDER BY f.followed_at DESC, f.story_id DESC",
        (chat_id,),
    ).fetchall()
    return [
        FollowedStory(story, title, url, members, from_db_time(followed), from_db_time(news))
        for story, title, url, followed, news, members in rows
    ]


def anyone_follows(db: Database) -> bool:
    return bool(db.execute("SELECT EXISTS (SELECT 1 FROM follows)").fetchone()[0])


def move_follows(db: Database, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: its follows move (inside the caller's transaction)."""
    db.execute(
        "UPDATE OR IGNORE follows SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id)
    )
    db.execute("DELETE FROM follows WHERE chat_id = ?", (old_chat_id,))


def add_members(db: Database, story_id: int, article_ids: Sequence[int], now_text: str) -> int:
    """Record articles as known coverage of a story; how many were new to it."""
    conn = db.conn
    added = 0
    for article_id in article_ids:
        added += conn.execute(
            "INSERT OR IGNORE INTO follow_members (story_id, article_id, added_at) "
            "VALUES (?, ?, ?)",
            (story_id, article_id, now_text),
        ).rowcount
    for chunk in in_chunks(list(article_ids)):
        titles = conn.execute(
            f"SELECT id, title FROM articles WHERE id IN ({marks(chunk)})", chunk
        ).fetchall()
        conn.executemany(
            "INSERT OR IGNORE INTO follow_words (word, article_id) VALUES (?, ?)",
            [(word, article_id) for article_id, title in titles for word in title_words(title)],
        )
    conn.execute(
        "UPDATE follow_stories SET max_seq = coalesce("
        "(SELECT max(seq) FROM follow_members WHERE story_id = ?), 0) WHERE article_id = ?",
        (story_id, story_id),
    )
    return added


def drop_unfollowed(db: Database, story_ids: Iterable[int]) -> None:
    """Delete those of ``story_ids`` nobody follows, with their members and their words."""
    conn = db.conn
    for story_id in story_ids:
        if conn.execute("SELECT 1 FROM follows WHERE story_id = ?", (story_id,)).fetchone():
            continue
        members = [
            a
            for (a,) in conn.execute(
                "SELECT article_id FROM follow_members WHERE story_id = ?", (story_id,)
            )
        ]
        conn.execute("DELETE FROM follow_members WHERE story_id = ?", (story_id,))
        conn.execute("DELETE FROM follow_stories WHERE article_id = ?", (story_id,))
        for chunk in in_chunks(members):
            # A word row stays while its article is a member of another followed story.
            conn.execute(
                f"DELETE FROM follow_words WHERE article_id IN ({marks(chunk)}) AND NOT EXISTS "
                "(SELECT 1 FROM follow_members m WHERE m.article_id = follow_words.article_id)",
                chunk,
            )
