"""Articles, their topics and related links: writes from ingestion.

The reads (articles as digest candidates) live in :mod:`storage.candidates`; their names
are importable from here too, as they were before that module existed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from sqlite_utils import Database

from digest.model import Article
from storage.candidates import (
    article_by_id,
    article_by_url,
    article_revision,
    articles_by_ids,
    candidates_since,
)
from storage.db import to_db_time, write_transaction

__all__ = [
    "ArticleRows",
    "SaveResult",
    "article_by_id",
    "article_by_url",
    "article_revision",
    "article_row_values",
    "article_rows",
    "articles_by_ids",
    "candidates_since",
    "count_articles",
    "related_row_values",
    "save_article_rows",
    "save_articles",
]

_ARTICLE_COLUMNS = (
    "url, web_url, original_url, title, excerpt, body, published_at, ingested_at, updated_at, "
    "quality, heat, published, provider_name, provider_domain, category, kind, secured, "
    "images, extra, source_path, body_words"
)
_ARTICLE_WIDTH = 21  # columns (and parameters) per article row
_ARTICLE_PARAMS = "(" + ", ".join("?" * _ARTICLE_WIDTH) + ")"
_ON_URL_CONFLICT = """
ON CONFLICT(url) DO UPDATE SET
    web_url = excluded.web_url, original_url = excluded.original_url, title = excluded.title,
    excerpt = excluded.excerpt, body = excluded.body, published_at = excluded.published_at,
    updated_at = excluded.updated_at, quality = excluded.quality, heat = excluded.heat,
    published = excluded.published, provider_name = excluded.provider_name,
    provider_domain = excluded.provider_domain, category = excluded.category,
    kind = excluded.kind, secured = excluded.secured, images = excluded.images,
    extra = excluded.extra, source_path = excluded.source_path,
    body_words = excluded.body_words
RETURNING id, url
"""
# Articles per upsert statement. Each statement inside a transaction makes SQLite open a
# savepoint on the full-text index, and FTS5 writes its pending terms out at every
# savepoint: one article per statement left a tiny index segment per article to merge,
# which doubled the cost of a save. Many rows per statement write one segment for all.
_ROWS_PER_UPSERT = 250


@dataclass(frozen=True, slots=True)
class SaveResult:
    inserted: int
    updated: int


def article_row_values(article: Article, source_path: str, now_text: str) -> tuple[object, ...]:
    """The parameters of the upsert, in column order (cheap to build in a worker process)."""
    provider = article.provider
    return (
        article.url,
        article.web_url,
        article.original_url,
        article.title,
        article.excerpt,
        article.body,
        _db_time(article.published_at),
        now_text,
        now_text,
        article.quality,
        article.heat,
        None if article.published is None else int(article.published),
        provider.name if provider else None,
        provider.domain if provider else None,
        article.category,
        article.kind,
        article.secured,
        json.dumps([{"url": i.url, "width": i.width, "height": i.height} for i in article.images])
        if article.images
        else None,
        json.dumps(article.extra, ensure_ascii=False) if article.extra else None,
        source_path,
        article.body_words,
    )


def related_row_values(article: Article) -> list[tuple[object, ...]]:
    return [
        (
            position,
            link.url,
            link.web_url,
            link.title,
            link.excerpt,
            _db_time(link.published_at) if link.published_at else None,
            link.provider.name if link.provider else None,
            link.provider.domain if link.provider else None,
            link.quality,
        )
        for position, link in enumerate(article.related)
    ]


def _db_time(moment: datetime) -> str:
    """:func:`storage.db.to_db_time` for the four-digit years the parser allows.

    ``strftime`` was a fifth of the cost of building an article's rows; ``isoformat``
    gives the same fixed-width text ("...T11:29:00.000000+00:00" → "...T11:29:00.000000Z").
    """
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the database")
    utc = moment.astimezone(UTC)
    if utc.year < 1000:  # strftime does not pad the year: keep its text for those
        return to_db_time(utc)
    return utc.isoformat(timespec="microseconds")[:-6] + "Z"


class ArticleRows(NamedTuple):
    """One article flattened to the rows storage writes: built where the file is parsed.

    A named tuple rather than a dataclass because it crosses from worker processes by
    pickle, where tuples are the cheapest thing to send.
    """

    url: str
    values: tuple[object, ...]  # ingested/updated times are filled in by save_article_rows
    topics: tuple[str, ...]
    related: list[tuple[object, ...]]


def article_rows(article: Article, source_path: str) -> ArticleRows:
    return ArticleRows(
        url=article.url,
        values=article_row_values(article, source_path, ""),
        topics=article.topics,
        related=related_row_values(article),
    )


def save_articles(
    db: Database, articles: Iterable[tuple[Article, str]], now: datetime
) -> SaveResult:
    """Upsert articles (keyed by normalised webUrl) with their topics and related links."""
    return save_article_rows(db, [article_rows(a, path) for a, path in articles], now)


def save_article_rows(db: Database, rows: Sequence[ArticleRows], now: datetime) -> SaveResult:
    """Upsert a batch in one transaction; rows later in ``rows`` win over earlier ones.

    An article already stored keeps its id and ``ingested_at``; its topics and related
    links are replaced.
    """
    now_text = to_db_time(now)
    conn = db.conn
    # Saving one row after another would leave the last of several files with the same
    # story in the store: keep only that one, counting the others as updates.
    latest = {row.url: row for row in rows}
    repeats = len(rows) - len(latest)
    per_statement = max(
        1,
        min(
            _ROWS_PER_UPSERT, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // _ARTICLE_WIDTH
        ),
    )
    batch = list(latest.values())
    returned: list[tuple[int, str]] = []
    with write_transaction(db):
        # Row ids only grow, so an id above the largest one before the batch is a new row.
        last_id = int(conn.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0])
        for start in range(0, len(batch), per_statement):
            part = batch[start : start + per_statement]
            params: list[object] = []
            for row in part:
                values = row.values
                params += values[:7]
                params += (now_text, now_text)
                params += values[9:]
            sql = (
                f"INSERT INTO articles ({_ARTICLE_COLUMNS}) VALUES "
                + ", ".join([_ARTICLE_PARAMS] * len(part))
                + _ON_URL_CONFLICT
            )
            returned += conn.execute(sql, params).fetchall()
        ids = {url: article_id for article_id, url in returned}
        old = [(article_id,) for article_id in ids.values() if article_id <= last_id]
        if old:
            conn.executemany("DELETE FROM article_topics WHERE article_id = ?", old)
            conn.executemany("DELETE FROM related_links WHERE article_id = ?", old)
        topic_ids = _topic_id_cache(conn)
        topic_rows: list[tuple[int, int]] = []
        related_rows: list[tuple[object, ...]] = []
        for url, row in latest.items():
            article_id = ids[url]
            for name in row.topics:
                topic_rows.append((article_id, _topic_id(conn, topic_ids, name)))
            for link in row.related:
                related_rows.append((article_id, *link))
        conn.executemany(
            "INSERT OR IGNORE INTO article_topics (article_id, topic_id) VALUES (?, ?)",
            topic_rows,
        )
        conn.executemany(
            "INSERT INTO related_links (article_id, position, url, web_url, title, "
            "excerpt, published_at, provider_name, provider_domain, quality) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            related_rows,
        )
    return SaveResult(inserted=len(ids) - len(old), updated=len(old) + repeats)


def _topic_id_cache(conn: sqlite3.Connection) -> dict[str, int]:
    return {name.casefold(): tid for tid, name in conn.execute("SELECT id, name FROM topics")}


def _topic_id(conn: sqlite3.Connection, cache: dict[str, int], name: str) -> int:
    key = name.casefold()
    found = cache.get(key)
    if found is None:
        found = int(
            conn.execute("INSERT INTO topics (name) VALUES (?) RETURNING id", (name,)).fetchone()[0]
        )
        cache[key] = found
    return found


def count_articles(db: Database) -> int:
    return int(db.execute("SELECT count(*) FROM articles").fetchone()[0])
