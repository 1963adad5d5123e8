"""Articles, their topics and related links: writes from ingestion, reads for the bot."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from digest.model import Article
from storage.db import to_db_time

_UPSERT_ARTICLE = """
INSERT INTO articles (
    url, web_url, original_url, title, excerpt, body, published_at, ingested_at, updated_at,
    quality, heat, published, provider_name, provider_domain, category, kind, secured,
    images, extra, source_path
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(url) DO UPDATE SET
    web_url = excluded.web_url, original_url = excluded.original_url, title = excluded.title,
    excerpt = excluded.excerpt, body = excluded.body, published_at = excluded.published_at,
    updated_at = excluded.updated_at, quality = excluded.quality, heat = excluded.heat,
    published = excluded.published, provider_name = excluded.provider_name,
    provider_domain = excluded.provider_domain, category = excluded.category,
    kind = excluded.kind, secured = excluded.secured, images = excluded.images,
    extra = excluded.extra, source_path = excluded.source_path
RETURNING id, ingested_at
"""


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
        to_db_time(article.published_at),
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
    )


def related_row_values(article: Article) -> list[tuple[object, ...]]:
    return [
        (
            position,
            link.url,
            link.web_url,
            link.title,
            link.excerpt,
            to_db_time(link.published_at) if link.published_at else None,
            link.provider.name if link.provider else None,
            link.provider.domain if link.provider else None,
            link.quality,
        )
        for position, link in enumerate(article.related)
    ]


@dataclass(frozen=True, slots=True)
class ArticleRows:
    """One article flattened to the rows storage writes: built where the file is parsed."""

    url: str
    values: tuple[object, ...]  # without ingested/updated times: see save_article_rows
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
    now_text = to_db_time(now)
    conn = db.conn
    topic_ids = _topic_id_cache(db)
    inserted = updated = 0
    touched: set[int] = set()
    with db.atomic():
        for row in rows:
            values = (*row.values[:7], now_text, now_text, *row.values[9:])
            article_id, ingested_at = conn.execute(_UPSERT_ARTICLE, values).fetchone()
            # ingested_at is only written on insert, so it tells new rows from updated ones.
            if ingested_at == now_text and article_id not in touched:
                inserted += 1
            else:
                updated += 1
                conn.execute("DELETE FROM article_topics WHERE article_id = ?", (article_id,))
                conn.execute("DELETE FROM related_links WHERE article_id = ?", (article_id,))
            touched.add(article_id)
            if row.topics:
                conn.executemany(
                    "INSERT OR IGNORE INTO article_topics (article_id, topic_id) VALUES (?, ?)",
                    [(article_id, _topic_id(conn, topic_ids, name)) for name in row.topics],
                )
            if row.related:
                conn.executemany(
                    "INSERT INTO related_links (article_id, position, url, web_url, title, "
                    "excerpt, published_at, provider_name, provider_domain, quality) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(article_id, *link) for link in row.related],
                )
    return SaveResult(inserted=inserted, updated=updated)


def _topic_id_cache(db: Database) -> dict[str, int]:
    return {name.casefold(): tid for tid, name in db.execute("SELECT id, name FROM topics")}


def _topic_id(conn: object, cache: dict[str, int], name: str) -> int:
    key = name.casefold()
    found = cache.get(key)
    if found is None:
        execute = conn.execute  # type: ignore[attr-defined]
        found = int(
            execute("INSERT INTO topics (name) VALUES (?) RETURNING id", (name,)).fetchone()[0]
        )
        cache[key] = found
    return found


def count_articles(db: Database) -> int:
    return int(db.execute("SELECT count(*) FROM articles").fetchone()[0])
