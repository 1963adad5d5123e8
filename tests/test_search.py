"""Reading articles back: by URL, full-text search, related coverage and digest candidates."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from sqlite_utils import Database

from digest.urls import normalize_url
from storage.articles import (
    article_by_id,
    article_by_url,
    articles_by_ids,
    candidates_since,
)
from storage.search import MAX_QUERY_WORDS, frontmatter_related, fts_query, linked_articles, search
from tests.factories import NOW, article, store_articles


# -- by URL ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "asked",
    [
        "https://example.com/world/story-1",
        "https://www.example.com/world/story-1",
        "https://example.com/world/story-1/",
        "http://example.com/world/story-1",
        "https://EXAMPLE.com:443/world/story-1#comments",
        "https://www.example.com/world/story-1/?utm_source=tg&utm_medium=social",
        "https://example.com/world/story-1?fbclid=abc",
    ],
)
def test_article_by_url_with_another_spelling(db: Database, asked: str) -> None:
    (stored_id,) = store_articles(
        db, article("Story one", "https://www.example.com/world/story-1/?utm_campaign=x")
    )
    store_articles(db, article("Story two", "https://example.com/world/story-2"))
    found = article_by_url(db, asked)
    assert found is not None
    assert found.id == stored_id
    assert found.title == "Story one"


@pytest.mark.parametrize(
    "asked",
    [
        "https://example.com/world/story-1/more",
        "https://example.org/world/story-1",
        "https://example.com/world/story-1?id=2",
        "ftp://example.com/world/story-1",
        "not a url",
        "",
    ],
)
def test_article_by_url_does_not_match_another_page(db: Database, asked: str) -> None:
    store_articles(db, article("Story one", "https://example.com/world/story-1"))
    assert article_by_url(db, asked) is None


def test_article_by_id_and_ids_keep_order(db: Database) -> None:
    ids = store_articles(
        db,
        article("First", "https://a.example/1"),
        article("Second", "https://a.example/2"),
        article("Third", "https://a.example/3"),
    )
    assert article_by_id(db, ids[1]).title == "Second"  # type: ignore[union-attr]
    assert article_by_id(db, max(ids) + 1) is None
    wanted = [ids[2], ids[0], ids[1]]
    assert [c.id for c in articles_by_ids(db, wanted)] == wanted


# -- full-text search ----------------------------------------------------------------------------
HOSTILE = [
    '"',
    '""',
    '"unterminated',
    "quantum*",
    "*",
    "* OR *",
    "NEAR(",
    "NEAR(quantum error, 2)",
    "quantum NEAR/3 error",
    "-quantum",
    "quantum -error",
    "title:quantum",
    "title : quantum",
    ":",
    "{title excerpt}: quantum",
    "^quantum",
    "quantum AND",
    "OR",
    "AND OR NOT",
    "NOT quantum",
    "(quantum",
    "quantum)",
    "a'b",
    'quan\'tum "err" or',
    "\\",
    "%_%",
    "'; DROP TABLE articles; --",
    "quantum\x00error",
    "\u202equantum",
    "量子 コンピュータ",
    "Ünïcödé çafé naïve",
    "emoji 🧪🚀 quantum",
    "ＱＵＡＮＴＵＭ",
    "q" * 10_000,
    "quantum " * 2_000,
    "\n\t\r ",
    "🙂" * 5_000,
    "_",
    "__init__",
    "x" * 40 + " " + "-" * 5_000,
]


@pytest.fixture
def searchable(db: Database) -> Database:
    store_articles(
        db,
        article(
            "Quantum error correction reaches a milestone",
            "https://q.example/title",
            body="Researchers report progress.",
        ),
        article(
            "Lab news roundup",
            "https://q.example/body",
            excerpt="Several results this week.",
            body="Quantum error rates fell. Quantum chips, quantum error correction, quantum.",
        ),
        article("Robotaxi expansion", "https://q.example/other", body="Cars drive themselves."),
    )
    return db


@pytest.mark.parametrize("text", HOSTILE)
def test_search_never_raises_an_fts_syntax_error(searchable: Database, text: str) -> None:
    query = fts_query(text)
    if query is not None:
        # The query is valid FTS5 on its own, in both modes.
        for q in (query, fts_query(text, any_word=True)):
            searchable.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?", (q,))
    results = search(searchable, text)
    assert len(results) <= 10
    assert all(c.id is not None for c in results)


@pytest.mark.parametrize("text", HOSTILE)
def test_fts_query_caps_words(text: str) -> None:
    query = fts_query(text)
    if query is not None:
        assert query.count(" ") + 1 <= MAX_QUERY_WORDS
        assert len(query) < 10_000 + 3 * MAX_QUERY_WORDS


def test_search_ignores_operators_in_user_text(searchable: Database) -> None:
    # A leading "-" or "NOT" is not a negation, "*" not a prefix: words are words.
    titles = [c.title for c in search(searchable, "-quantum")]
    assert "Quantum error correction reaches a milestone" in titles
    assert search(searchable, "robo*") == []
    assert [c.title for c in search(searchable, "robotaxi*")] == ["Robotaxi expansion"]
    assert [c.title for c in search(searchable, "title:robotaxi")] == ["Robotaxi expansion"]


def test_search_without_words(searchable: Database) -> None:
    assert search(searchable, "   ") == []
    assert search(searchable, "!!! ???") == []
    assert fts_query("!!!") is None


def test_search_ranks_title_matches_first(searchable: Database) -> None:
    results = search(searchable, "quantum error")
    assert [c.title for c in results] == [
        "Quantum error correction reaches a milestone",
        "Lab news roundup",
    ]


def test_search_falls_back_to_any_word(searchable: Database) -> None:
    # No article has all three words; each of these has one.
    results = search(searchable, "milestone robotaxi zebra")
    assert {c.title for c in results} == {
        "Quantum error correction reaches a milestone",
        "Robotaxi expansion",
    }
    assert search(searchable, "zebra giraffe") == []


def test_search_excludes_an_id_and_limits(searchable: Database) -> None:
    first = search(searchable, "quantum")[0]
    rest = search(searchable, "quantum", exclude_id=first.id)
    assert first.id not in {c.id for c in rest}
    assert len(rest) == 1
    assert len(search(searchable, "quantum", limit=1)) == 1


def test_search_matches_word_forms(searchable: Database) -> None:
    # The index uses the porter stemmer: "corrections" finds "correction".
    assert {c.title for c in search(searchable, "Corrections")} == {
        "Quantum error correction reaches a milestone",
        "Lab news roundup",
    }


def test_search_sees_updates(searchable: Database) -> None:
    store_articles(searchable, article("Robotaxi pause", "https://q.example/other", body="Halted."))
    assert search(searchable, "expansion") == []
    assert [c.title for c in search(searchable, "pause")] == ["Robotaxi pause"]


# -- related coverage ----------------------------------------------------------------------------
@pytest.fixture
def linked(db: Database) -> tuple[Database, dict[str, int]]:
    """A lists B (another spelling of its URL) and an unstored X; C lists X too; D is alone."""
    ids = store_articles(
        db,
        article(
            "Vote on the AI act",
            "https://a.example/story",
            related=["https://www.b.example/story/?utm_source=a", "https://x.example/wire"],
        ),
        article("Parliament passes AI rules", "https://b.example/story"),
        article(
            "AI act: what changes", "https://c.example/story", related=["https://x.example/wire"]
        ),
        article("Unrelated robotaxi news", "https://d.example/story"),
    )
    return db, dict(zip("ABCD", ids, strict=True))


def _linked_titles(db: Database, article_id: int) -> set[str]:
    found = article_by_id(db, article_id)
    assert found is not None
    result = linked_articles(db, found)
    assert article_id not in {c.id for c in result}
    return {c.title for c in result}


def test_linked_articles_both_directions_and_shared(
    linked: tuple[Database, dict[str, int]],
) -> None:
    db, ids = linked
    # A → B (A lists B) and A ~ C (both list X).
    assert _linked_titles(db, ids["A"]) == {"Parliament passes AI rules", "AI act: what changes"}
    # B ← A: B lists nothing, but A lists B.
    assert _linked_titles(db, ids["B"]) == {"Vote on the AI act"}
    # C ~ A through the shared X.
    assert _linked_titles(db, ids["C"]) == {"Vote on the AI act"}
    assert _linked_titles(db, ids["D"]) == set()


def test_linked_articles_limit(linked: tuple[Database, dict[str, int]]) -> None:
    db, ids = linked
    a = article_by_id(db, ids["A"])
    assert a is not None
    assert len(linked_articles(db, a, limit=1)) == 1


def test_frontmatter_related_in_file_order(linked: tuple[Database, dict[str, int]]) -> None:
    db, ids = linked
    links = frontmatter_related(db, ids["A"])
    assert [(r.title, r.web_url, r.provider and r.provider.name) for r in links] == [
        ("Related 0", "https://www.b.example/story/?utm_source=a", "Other 0"),
        ("Related 1", "https://x.example/wire", "Other 1"),
    ]
    assert [r.url for r in links] == [
        normalize_url("https://www.b.example/story/?utm_source=a"),
        normalize_url("https://x.example/wire"),
    ]
    assert links[0].published_at == NOW - timedelta(hours=3)
    assert frontmatter_related(db, ids["B"]) == []


# -- digest candidates ---------------------------------------------------------------------------
def test_candidates_since(db: Database) -> None:
    (old,) = store_articles(
        db, article("Old story", "https://e.example/old", topics=["AI"]), at=NOW - timedelta(days=2)
    )
    new_ids = store_articles(
        db,
        article(
            "New story",
            "https://e.example/new",
            topics=["AI", "Energy"],
            related=["https://x.example/1", "https://www.x.example/2/"],
            excerpt="Fresh.",
        ),
        article("Plain story", "https://e.example/plain"),
        at=NOW - timedelta(hours=1),
    )
    topic_ids = {name: tid for tid, name in db.execute("SELECT id, name FROM topics")}

    got = {c.id: c for c in candidates_since(db, NOW - timedelta(days=1))}
    assert set(got) == set(new_ids)
    fresh = got[new_ids[0]]
    assert fresh.topic_ids == {topic_ids["AI"], topic_ids["Energy"]}
    assert fresh.related_urls == {"https://x.example/1", "https://x.example/2"}
    assert (fresh.title, fresh.excerpt, fresh.provider, fresh.quality) == (
        "New story",
        "Fresh.",
        "Example News",
        50,
    )
    assert fresh.ingested_at == NOW - timedelta(hours=1)
    assert fresh.published_at == NOW - timedelta(hours=2)
    assert got[new_ids[1]].topic_ids == frozenset()
    assert got[new_ids[1]].related_urls == frozenset()
    # Strictly after: an article ingested exactly at the window start is not new.
    at_start = candidates_since(db, NOW - timedelta(hours=1))
    assert at_start == []
    assert old in {c.id for c in candidates_since(db, NOW - timedelta(days=3))}


def test_candidates_since_many_articles(db: Database) -> None:
    # More ids than one IN (...) chunk holds.
    count = 1_000
    store_articles(
        db,
        *[
            article(f"Story {n}", f"https://many.example/{n}", topics=[f"T{n % 3}"])
            for n in range(count)
        ],
    )
    got = candidates_since(db, NOW - timedelta(days=1))
    assert len(got) == count
    assert all(len(c.topic_ids) == 1 for c in got)


def test_fts_index_is_consistent(searchable: Database) -> None:
    # The triggers keep the index in step: an integrity check finds nothing wrong.
    try:
        searchable.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
    except sqlite3.DatabaseError as exc:  # pragma: no cover - the failure is the report
        pytest.fail(f"FTS index out of step: {exc}")
