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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlite_utils import Database

from digest.follow import (
    EXPIRY,
    MAX_FOLLOWS,
    FollowedStory,
    StoryMember,
    is_expired,
    shared_words_needed,
    title_words,
)
from digest.model import Candidate
from digest.titles import titles_match
from storage.articles import article_by_id, articles_by_ids
from storage.db import from_db_time, get_state, set_state, to_db_time, write_transaction
from storage.readers import READER_COLUMNS, Reader, reader_from_row
from storage.search import linked_articles, title_matches

CHUNK = 900  # parameters per IN (...) list, under SQLite's limit
WATERMARK = "follow_seen_article_id"  # state: articles up to this id were matched


class FollowOutcome(StrEnum):
    FOLLOWED = "followed"
    ALREADY = "already"
    GONE = "gone"  # the article is not stored (any more)
    FULL = "full"  # the chat follows MAX_FOLLOWS stories already


def _chunks(items: Sequence[object], size: int = CHUNK) -> Iterable[Sequence[object]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _marks(items: Sequence[object]) -> str:
    return ",".join("?" * len(items))


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
            _add_members(db, article_id, story_member_ids(db, article), now_text)
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
        _drop_unfollowed(db, [article_id])
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


def _add_members(db: Database, story_id: int, article_ids: Sequence[int], now_text: str) -> int:
    """Record articles as known coverage of a story; how many were new to it."""
    conn = db.conn
    added = 0
    for article_id in article_ids:
        added += conn.execute(
            "INSERT OR IGNORE INTO follow_members (story_id, article_id, added_at) "
            "VALUES (?, ?, ?)",
            (story_id, article_id, now_text),
        ).rowcount
    for chunk in _chunks(list(article_ids)):
        titles = conn.execute(
            f"SELECT id, title FROM articles WHERE id IN ({_marks(chunk)})", chunk
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


def _drop_unfollowed(db: Database, story_ids: Iterable[int]) -> None:
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
        for chunk in _chunks(members):
            # A word row stays while its article is a member of another followed story.
            conn.execute(
                f"DELETE FROM follow_words WHERE article_id IN ({_marks(chunk)}) AND NOT EXISTS "
                "(SELECT 1 FROM follow_members m WHERE m.article_id = follow_words.article_id)",
                chunk,
            )


# -- the matching job ---------------------------------------------------------------------


def matched_up_to(db: Database) -> int | None:
    """The last article id the job matched (None: it never ran)."""
    value = get_state(db, WATERMARK)
    return int(value) if value is not None else None


def set_matched_up_to(db: Database, article_id: int) -> None:
    set_state(db, WATERMARK, str(article_id))


def newest_article_id(db: Database) -> int:
    return int(db.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0])


def articles_after(db: Database, article_id: int, limit: int) -> list[Candidate]:
    """The next ``limit`` articles stored after ``article_id``, by id."""
    ids = [
        i
        for (i,) in db.execute(
            "SELECT id FROM articles WHERE id > ? ORDER BY id LIMIT ?", (article_id, limit)
        )
    ]
    return articles_by_ids(db, ids)


def candidate_members(db: Database, new: Sequence[Candidate]) -> list[StoryMember]:
    """The stored members of followed stories that may be on a story with one of ``new``:
    linked from or to one, sharing a link with one, or having one of the words a
    near-identical title must share (:func:`digest.follow.lookup_tokens`). Index lookups
    driven by the new articles: the cost does not grow with the number of followed stories
    beyond the postings those lookups read."""
    conn = db.conn
    keys = sorted({key for c in new for key in (c.url, *c.related_urls)})
    article_ids: set[int] = set()
    for chunk in _chunks(keys):
        marks = _marks(chunk)
        article_ids.update(
            a
            for (a,) in conn.execute(
                f"SELECT m.article_id FROM articles a JOIN follow_members m "
                f"ON m.article_id = a.id WHERE a.url IN ({marks})",
                chunk,
            )
        )
        article_ids.update(
            a
            for (a,) in conn.execute(
                f"SELECT DISTINCT r.article_id FROM related_links r JOIN follow_members m "
                f"ON m.article_id = r.article_id WHERE r.url IN ({marks})",
                chunk,
            )
        )
    for c in new:
        words = sorted(title_words(c.title))
        if not words:
            continue
        article_ids.update(
            a
            for (a,) in conn.execute(
                f"SELECT article_id FROM follow_words WHERE word IN ({_marks(words)}) "
                "GROUP BY article_id HAVING count(*) >= ?",
                (*words, shared_words_needed(frozenset(words))),
            )
        )
    if not article_ids:
        return []
    ordered = sorted(article_ids)
    articles = {c.id: c for c in articles_by_ids(db, ordered)}
    members: list[StoryMember] = []
    for chunk in _chunks(ordered):
        for story_id, article_id in conn.execute(
            f"SELECT story_id, article_id FROM follow_members WHERE article_id IN "
            f"({_marks(chunk)}) ORDER BY story_id, article_id",
            chunk,
        ):
            found = articles.get(article_id)
            if found is not None:
                members.append(StoryMember(story_id, found))
    return members


def add_coverage(
    db: Database, found: Mapping[int, Sequence[int]], matched_up_to: int, now: datetime
) -> int:
    """Record new coverage (story id → article ids) and the last article id matched, in
    one transaction; returns how many (story, article) pairs were new."""
    now_text = to_db_time(now)
    added = 0
    with write_transaction(db):
        for story_id, article_ids in found.items():
            fresh = _add_members(db, story_id, article_ids, now_text)
            if fresh:
                db.execute(
                    "UPDATE follow_stories SET last_news_at = ? WHERE article_id = ?",
                    (now_text, story_id),
                )
            added += fresh
        set_matched_up_to(db, matched_up_to)
    return added


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
    for chunk in _chunks(sorted(set(chat_ids))):
        for row in db.execute(
            f"SELECT {READER_COLUMNS} FROM readers WHERE chat_id IN ({_marks(chunk)})", chunk
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
        _drop_unfollowed(db, sorted({story_id for _, story_id in ended}))
    return len(ended)
