"""The follow job's side of the store: which articles it has matched (a watermark),
the stored articles that could be on a followed story (by links and title words), and
the coverage it found. The rules are :mod:`digest.follow`'s."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlite_utils import Database

from digest.follow import StoryMember, shared_words_needed, title_words
from digest.model import Candidate
from storage.articles import articles_by_ids
from storage.db import (
    get_state,
    in_chunks,
    marks,
    set_state,
    to_db_time,
    write_transaction,
)
from storage.follows import WATERMARK, add_members


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
    for chunk in in_chunks(keys):
        places = marks(chunk)
        article_ids.update(
            a
            for (a,) in conn.execute(
                f"SELECT m.article_id FROM articles a JOIN follow_members m "
                f"ON m.article_id = a.id WHERE a.url IN ({places})",
                chunk,
            )
        )
        article_ids.update(
            a
            for (a,) in conn.execute(
                f"SELECT DISTINCT r.article_id FROM related_links r JOIN follow_members m "
                f"ON m.article_id = r.article_id WHERE r.url IN ({places})",
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
                f"SELECT article_id FROM follow_words WHERE word IN ({marks(words)}) "
                "GROUP BY article_id HAVING count(*) >= ?",
                (*words, shared_words_needed(frozenset(words))),
            )
        )
    if not article_ids:
        return []
    ordered = sorted(article_ids)
    articles = {c.id: c for c in articles_by_ids(db, ordered)}
    members: list[StoryMember] = []
    for ids in in_chunks(ordered):
        for story_id, article_id in conn.execute(
            f"SELECT story_id, article_id FROM follow_members WHERE article_id IN "
            f"({marks(ids)}) ORDER BY story_id, article_id",
            ids,
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
            fresh = add_members(db, story_id, article_ids, now_text)
            if fresh:
                db.execute(
                    "UPDATE follow_stories SET last_news_at = ? WHERE article_id = ?",
                    (now_text, story_id),
                )
            added += fresh
        set_matched_up_to(db, matched_up_to)
    return added
