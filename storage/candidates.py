"""Stored articles read back as digest candidates, and the revision that says when to re-read.

A tick or an on-demand digest reads tens of thousands of candidates, so the read is
three queries in all (articles, their topics, their related URLs, each selected with the
same condition) rather than one per chunk of ids, and each distinct instant is parsed
once: a scan stores its articles with one ``ingested_at``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlite_utils import Database

from digest.model import Candidate
from digest.urls import is_http_url, normalize_url
from storage.db import from_db_time, to_db_time

_CANDIDATE_COLUMNS = (
    "a.id, a.url, a.web_url, a.title, a.published_at, a.ingested_at, a.excerpt, "
    "a.provider_name, a.quality, a.heat"
)
_NONE: frozenset[int] = frozenset()
_NO_URLS: frozenset[str] = frozenset()
T = TypeVar("T")


def article_revision(db: Database) -> int:
    """A number that changes whenever any article is stored, changed or deleted.

    Kept by triggers (``m014_perf_article_revision``), so it counts every writer: this
    process, ``newsdigest ingest`` in another one, pruning. Equal numbers mean the
    articles, their topics and related links are as they were.
    """
    row = db.execute("SELECT value FROM article_revision WHERE id = 1").fetchone()
    return int(row[0]) if row is not None else 0


def _grouped(rows: Iterable[tuple[int, T]]) -> dict[int, list[T]]:
    grouped: dict[int, list[T]] = {}
    for article_id, value in rows:
        found = grouped.get(article_id)
        if found is None:
            grouped[article_id] = [value]
        else:
            found.append(value)
    return grouped


def _candidates(db: Database, where: str, params: Sequence[object]) -> list[Candidate]:
    conn = db.conn
    rows = conn.execute(
        f"SELECT {_CANDIDATE_COLUMNS} FROM articles a WHERE {where}", params
    ).fetchall()
    if not rows:
        return []
    topics: dict[int, list[int]] = _grouped(
        conn.execute(
            "SELECT t.article_id, t.topic_id FROM article_topics t "
            f"JOIN articles a ON a.id = t.article_id WHERE {where}",
            params,
        )
    )
    related: dict[int, list[str]] = _grouped(
        conn.execute(
            "SELECT r.article_id, r.url FROM related_links r "
            f"JOIN articles a ON a.id = r.article_id WHERE {where}",
            params,
        )
    )
    instants: dict[str, datetime] = {}
    found: list[Candidate] = []
    append = found.append
    for article_id, url, web_url, title, published, ingested, excerpt, provider, q, h in rows:
        at = instants.get(ingested)
        if at is None:
            at = instants[ingested] = from_db_time(ingested)
        topic_ids = topics.get(article_id)
        urls = related.get(article_id)
        append(
            Candidate(
                article_id,
                url,
                web_url,
                title,
                from_db_time(published),
                at,
                excerpt or "",
                provider or "",
                q,
                h,
                frozenset(topic_ids) if topic_ids else _NONE,
                frozenset(urls) if urls else _NO_URLS,
            )
        )
    return found


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def candidates_since(db: Database, since: datetime) -> list[Candidate]:
    """Every article ingested after ``since``: the pool a digest tick ranks."""
    return _candidates(db, "a.ingested_at > ?", (to_db_time(since),))


def article_by_id(db: Database, article_id: int) -> Candidate | None:
    found = _candidates(db, "a.id = ?", (article_id,))
    return found[0] if found else None


def article_by_url(db: Database, url: str) -> Candidate | None:
    if not is_http_url(url):
        return None
    found = _candidates(db, "a.url = ?", (normalize_url(url),))
    return found[0] if found else None


def articles_by_ids(db: Database, ids: Sequence[int]) -> list[Candidate]:
    found: list[Candidate] = []
    for chunk in _chunks(list(ids), 900):
        found.extend(_candidates(db, f"a.id IN ({','.join('?' * len(chunk))})", chunk))
    order = {article_id: i for i, article_id in enumerate(ids)}
    return sorted(found, key=lambda c: order[c.id])
