"""Stored articles read back as digest candidates, and the revision that says when to re-read.

A tick or a kept pool reads tens of thousands of candidates, so the read is three
queries in all (articles, their topics, their related URLs, each selected with the same
condition) rather than two per chunk of ids, and each distinct instant is parsed once: a
scan stores its articles with one ``ingested_at``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import TypeVar

from sqlite_utils import Database

from digest.model import Candidate
from digest.urls import is_http_url, normalize_url
from storage.db import from_db_time, in_chunks, marks, to_db_time

_CANDIDATE_COLUMNS = (
    "a.id, a.url, a.web_url, a.title, a.published_at, a.ingested_at, a.excerpt, "
    "a.provider_name, a.quality, a.heat, a.body_words"
)
_NONE: frozenset[int] = frozenset()
_NO_URLS: frozenset[str] = frozenset()
T = TypeVar("T")
_first = itemgetter(0)
_second = itemgetter(1)


def article_revision(db: Database) -> int:
    """A number that changes whenever any article is stored, changed or deleted.

    Kept by triggers (``m014_perf_article_revision``), so it counts every writer: this
    process, ``newsdigest ingest`` in another one, pruning. Equal numbers mean the
    articles, their topics and related links are as they were.
    """
    row = db.execute("SELECT value FROM article_revision WHERE id = 1").fetchone()
    return int(row[0]) if row is not None else 0


def _grouped(rows: Iterable[tuple[int, T]]) -> dict[int, frozenset[T]]:
    """Rows ``(article id, value)``, each article's together → each article's values."""
    grouped: dict[int, frozenset[T]] = {}
    for article_id, group in groupby(rows, key=_first):
        values = frozenset(map(_second, group))
        old = grouped.get(article_id)  # together in practice; merged should they not be
        grouped[article_id] = values if old is None else old | values
    return grouped


def _candidates(db: Database, where: str, params: Sequence[object]) -> list[Candidate]:
    conn = db.conn
    rows = conn.execute(
        f"SELECT {_CANDIDATE_COLUMNS} FROM articles a WHERE {where}", params
    ).fetchall()
    if not rows:
        return []
    # CROSS JOIN: the articles first, by the condition's index, then each one's rows by
    # primary key. The planner may otherwise scan every topic row of the store, and this
    # order also brings each article's rows together.
    topics: dict[int, frozenset[int]] = _grouped(
        conn.execute(
            "SELECT t.article_id, t.topic_id FROM articles a "
            f"CROSS JOIN article_topics t ON t.article_id = a.id WHERE {where}",
            params,
        )
    )
    related: dict[int, frozenset[str]] = _grouped(
        conn.execute(
            "SELECT r.article_id, r.url FROM articles a "
            f"CROSS JOIN related_links r ON r.article_id = a.id WHERE {where}",
            params,
        )
    )
    instants: dict[str, datetime] = {}
    found: list[Candidate] = []
    append = found.append
    for article_id, url, web_url, title, published, ingested, excerpt, provider, q, h, w in rows:
        at = instants.get(ingested)
        if at is None:
            at = instants[ingested] = from_db_time(ingested)
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
                topics.get(article_id, _NONE),
                related.get(article_id, _NO_URLS),
                w or 0,
            )
        )
    return found


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
    for chunk in in_chunks(list(ids)):
        found.extend(_candidates(db, f"a.id IN ({marks(chunk)})", chunk))
    order = {article_id: i for i, article_id in enumerate(ids)}
    return sorted(found, key=lambda c: order[c.id])
