"""Finding articles: related coverage, same-story titles, full-text search."""

from __future__ import annotations

import re

from sqlite_utils import Database

from digest.cluster import STOP_WORDS, prefix_len
from digest.model import Candidate, Provider, RelatedLink
from storage.articles import articles_by_ids
from storage.db import from_db_time

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_WORDS = 8
RANK_WINDOW = 2_000  # the newest matches a search ranks
# Where all the words of a match are, best first (FTS5 column filters; None: anywhere).
_BEST_PLACED = ("title", "{title excerpt}", None)
COUNT_CAP = 500  # word frequencies are counted up to this
RARITY_SPAN = 50_000  # ... among this many newest articles


def frontmatter_related(db: Database, article_id: int) -> list[RelatedLink]:
    """The article's own ``related`` list, in file order."""
    return [
        RelatedLink(
            title=title,
            url=url,
            web_url=web_url,
            excerpt=excerpt or "",
            published_at=from_db_time(published) if published else None,
            provider=Provider(provider, domain or "") if provider else None,
            quality=quality,
        )
        for title, url, web_url, excerpt, published, provider, domain, quality in db.execute(
            "SELECT title, url, web_url, excerpt, published_at, provider_name, provider_domain, "
            "quality FROM related_links WHERE article_id = ? ORDER BY position",
            (article_id,),
        )
    ]


def linked_articles(db: Database, article: Candidate, limit: int = 20) -> list[Candidate]:
    """Stored articles on the same story through related links, either way or shared.

    The lowest ids first. One query per URL, each stopped after ``limit + 1`` ids by the
    (url, article_id) index: an outside explainer that many stories link would otherwise
    have every lookup collect and sort thousands of ids.
    """
    urls = sorted(article.related_urls)
    marks = ",".join("?" * len(urls)) or "NULL"
    found = {row[0] for row in db.execute(f"SELECT id FROM articles WHERE url IN ({marks})", urls)}
    for url in (article.url, *urls):
        found.update(
            row[0]
            for row in db.execute(
                "SELECT article_id FROM related_links WHERE url = ? ORDER BY article_id LIMIT ?",
                (url, limit + 1),
            )
        )
    found.discard(article.id)
    return articles_by_ids(db, sorted(found)[:limit])


def _words(text: str) -> list[str]:
    """Distinct query words, stop words dropped unless nothing else is left."""
    words = list(dict.fromkeys(_WORD.findall(text.lower())))[:MAX_QUERY_WORDS]
    return [w for w in words if w not in STOP_WORDS] or words


def fts_query(text: str, *, any_word: bool = False) -> str | None:
    """User words → a safe FTS5 query (each word quoted), or None when there are none."""
    words = _words(text)
    if not words:
        return None
    joiner = " OR " if any_word else " "
    return joiner.join(f'"{word}"' for word in words)


def _ranked(db: Database, query: str, limit: int, exclude_id: int | None) -> list[int]:
    """The newest RANK_WINDOW matches, best placed first: those with the words in the
    title, then in the title or excerpt, then anywhere; newest first within each.

    Not bm25: to weigh each word FTS5's bm25 counts every article holding it in the
    whole store first, tens of milliseconds for a common word at 500,000 articles,
    whatever the window. Where the words are was most of what its column weights
    (10, 3, 1) decided, and recency breaks the ties a news reader cares about.
    """
    floor_row = db.execute(
        "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? "
        "ORDER BY rowid DESC LIMIT 1 OFFSET ?",
        (query, RANK_WINDOW - 1),
    ).fetchone()
    floor = floor_row[0] if floor_row else 0
    found: list[int] = []
    seen: set[int] = set() if exclude_id is None else {exclude_id}
    for columns in _BEST_PLACED:
        placed = query if columns is None else f"{columns} : ({query})"
        for (rowid,) in db.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? AND rowid >= ? "
            "ORDER BY rowid DESC LIMIT ?",
            (placed, floor, limit + len(seen)),
        ):
            if rowid not in seen:
                seen.add(rowid)
                found.append(rowid)
                if len(found) == limit:
                    return found
    return found


def search(
    db: Database, text: str, *, limit: int = 10, exclude_id: int | None = None
) -> list[Candidate]:
    """Full-text search over title, excerpt and body; all words first, then any word."""
    for any_word in (False, True):
        query = fts_query(text, any_word=any_word)
        if query is None:
            return []
        ids = _ranked(db, query, limit, exclude_id)
        if ids:
            return articles_by_ids(db, ids)
    return []


def _rarest_title_words(db: Database, title: str) -> list[str]:
    """The title's words, rarest in recent titles first (only the order matters).

    Counted among the newest RARITY_SPAN articles and up to COUNT_CAP: a word common in
    bodies but rare in titles would otherwise have its whole posting list read.
    """
    words = _words(title)
    newest = int(db.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0])

    def frequency(word: str) -> int:
        return int(
            db.execute(
                "SELECT count(*) FROM (SELECT 1 FROM articles_fts WHERE articles_fts MATCH ? "
                "AND rowid > ? LIMIT ?)",
                (f'title : "{word}"', newest - RARITY_SPAN, COUNT_CAP),
            ).fetchone()[0]
        )

    return sorted(words, key=frequency)


def title_matches(db: Database, article: Candidate, limit: int = 25) -> list[int]:
    """Ids of stored articles that may have a near-identical title (check with titles_match).

    A title similar enough shares at least one of this title's ``prefix_len`` rarest
    words, so only those are looked up; the nearest ids on both sides are returned.
    """
    words = _rarest_title_words(db, article.title)
    if not words:
        return []
    if len(words) < 3:
        query = "title : (" + " ".join(f'"{w}"' for w in words) + ")"
    else:
        query = "title : (" + " OR ".join(f'"{w}"' for w in words[: prefix_len(len(words))]) + ")"
    ids = [
        rowid
        for sql in (
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? AND rowid < ? "
            "ORDER BY rowid DESC LIMIT ?",
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? AND rowid > ? "
            "ORDER BY rowid LIMIT ?",
        )
        for (rowid,) in db.execute(sql, (query, article.id, limit))
    ]
    return ids


def similar(db: Database, article: Candidate, limit: int = 5) -> list[Candidate]:
    """The nearest stored articles by the title's three rarest words (a last resort)."""
    words = _rarest_title_words(db, article.title)[:3]
    if not words:
        return []
    ids = _ranked(db, " OR ".join(f'"{w}"' for w in words), limit, article.id)
    return articles_by_ids(db, ids)
