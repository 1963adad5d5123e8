"""Stories for inline mode: a full-text search, or the top stories, one result per story.

The search is :func:`storage.search.search` (the words quoted, all words first then any;
best placed, then newest, among the newest matches), the same as /related's; the top
stories are the newest articles ranked as a digest ranks them. Either way the articles
found are folded into stories as a digest folds them (:func:`digest.cluster.cluster_stories`:
related links either way, shared links, near-identical titles), each story led by its
best-ranked article.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlite_utils import Database

from digest.cluster import cluster_stories
from digest.inline import MAX_STORIES, InlineStory
from digest.model import Candidate
from digest.rank import rank
from storage.candidates import articles_by_ids
from storage.db import to_db_time
from storage.search import fts_query, search

MAX_QUERY_CHARS = 256  # Telegram's own limit for an inline query
# Articles a query ranks: stories have about 1.3 articles each, so 100 stories need ~130.
MATCHED_ARTICLES = 150
TOP_WINDOW = 300  # the newest articles the top stories are ranked among
LINKERS_PER_STORY = 50  # stored articles linking a story's lead, counted up to this


def inline_key(text: str) -> str:
    """What a query is cached under: its search words, normalised ("" for none).

    "AI chips", "ai  CHIPS!" and "chips ai chips" differ only in what the search ignores.
    """
    return fts_query(text[:MAX_QUERY_CHARS]) or ""


def inline_stories(db: Database, text: str, now: datetime) -> tuple[InlineStory, ...]:
    """The stories an inline query offers, best first, at most MAX_STORIES.

    A query without searchable words (empty, or only punctuation) gets the top stories.
    """
    text = text[:MAX_QUERY_CHARS]
    if fts_query(text) is None:
        return _stories(db, rank(_newest(db, now), now))
    return _stories(db, search(db, text, limit=MATCHED_ARTICLES))


def _newest(db: Database, now: datetime) -> list[Candidate]:
    # A date in the future (a sloppy feed) would otherwise hold the top for days.
    ids = [
        row[0]
        for row in db.execute(
            "SELECT id FROM articles WHERE published_at <= ? ORDER BY published_at DESC LIMIT ?",
            (to_db_time(now), TOP_WINDOW),
        )
    ]
    return articles_by_ids(db, ids)


def _stories(db: Database, ranked: Sequence[Candidate]) -> tuple[InlineStory, ...]:
    clusters = cluster_stories(ranked)
    members: dict[int, list[Candidate]] = {}
    for cand, cluster in zip(ranked, clusters, strict=True):
        members.setdefault(cluster, []).append(cand)
    stories: list[InlineStory] = []
    for group in members.values():  # in order of each story's best-ranked article
        stories.append(InlineStory(group[0], _other_coverage(db, group)))
        if len(stories) == MAX_STORIES:
            break
    return tuple(stories)


def _other_coverage(db: Database, group: Sequence[Candidate]) -> int:
    """Distinct other URLs on the story: its articles, their related links, and stored
    articles linking its lead (those found here or not)."""
    lead = group[0]
    urls = {url for cand in group for url in (cand.url, *cand.related_urls)}
    urls.update(
        row[0]
        for row in db.execute(
            "SELECT a.url FROM related_links r JOIN articles a ON a.id = r.article_id "
            "WHERE r.url = ? LIMIT ?",
            (lead.url, LINKERS_PER_STORY),
        )
    )
    urls.discard(lead.url)
    return len(urls)
