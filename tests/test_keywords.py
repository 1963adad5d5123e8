"""Keyword matching: whole words and phrases, accents, case, plurals; exclusions win."""

from __future__ import annotations

import pytest

from digest.assemble import DigestPool
from digest.keywords import (
    MAX_TERM_CHARS,
    KeywordFilter,
    Searchable,
    TermError,
    make_term,
    split_terms,
)
from tests.factories import NOW, candidate


def matches(term: str, title: str, excerpt: str = "") -> bool:
    return Searchable.of(title, excerpt).matches(make_term(term))


@pytest.mark.parametrize(
    ("term", "title", "expected"),
    [
        ("climate", "Climate talks resume", True),
        ("climate", "Climatebound startup raises", False),  # whole words only
        ("ai", "Brain implant trial", False),  # not inside "brain"
        ("AI", "The ai act passes", True),  # case
        ("cafe", "Best Café in town", True),  # accents, one way
        ("Café", "best cafe in town", True),  # and the other
        ("strasse", "Neue Straße eröffnet", True),  # ß folds to ss
        ("zurich", "ZÜRICH votes", True),
        ("election", "Elections in May", True),  # plural in the text
        ("elections", "The election is near", True),  # plural in the term
        ("tax", "New taxes announced", True),  # -es
        ("story", "Three stories of hope", True),  # -ies
        ("case", "Cases rise again", True),
        ("glass", "Glass makers", True),  # -ss is not a plural
        ("gla", "Glass makers", False),
        ("c++", "Why C is fast", True),  # only the word part of a term counts
        ("e-mail", "Your e mail is here", True),  # punctuation separates words
    ],
)
def test_words(term: str, title: str, expected: bool) -> None:
    assert matches(term, title) is expected


def test_phrases_need_their_words_side_by_side_in_order() -> None:
    assert matches("interest rates", "Central bank lifts interest rates")
    assert matches("interest rate", "Central bank lifts Interest Rates")  # plural fold too
    assert not matches("interest rates", "Rates of interest")
    assert not matches("interest rates", "Interest in higher rates")
    # Never across title and excerpt.
    assert not matches("bank rates", "Talks at the bank", "rates rose")
    assert matches("rates rose", "Talks at the bank", "... and rates rose")


def test_the_excerpt_is_searched_too() -> None:
    assert matches("ukraine", "Grain deal talks", "Ukraine and Turkey met on Monday")


def test_split_terms_reads_words_and_quoted_phrases() -> None:
    assert split_terms('climate "interest rates" ai') == ["climate", "interest rates", "ai"]
    assert split_terms("“smart quotes” too, and commas") == ["smart quotes", "too", "and", "commas"]
    assert split_terms('"unclosed phrase runs on') == ["unclosed phrase runs on"]
    assert split_terms('  ""  ') == []


def test_terms_are_bounded_and_need_a_word() -> None:
    with pytest.raises(TermError, match="longer than 64"):
        make_term("x" * (MAX_TERM_CHARS + 1))
    with pytest.raises(TermError, match="no letters or digits"):
        make_term("+++")
    assert make_term("  Café   au  lait ").text == "Café au lait"
    assert make_term("Café").key == make_term("CAFE").key


def test_exclusions_win_over_inclusions() -> None:
    text = Searchable.of("Crypto exchange hacked", "Bitcoin fell")
    include = (make_term("bitcoin"),)
    assert KeywordFilter(include=include).admits(text)
    assert not KeywordFilter(include=include, exclude=(make_term("hacked"),)).admits(text)
    assert not KeywordFilter(include=(make_term("football"),)).admits(text)
    assert KeywordFilter().admits(text) and not KeywordFilter()


def _pool() -> DigestPool:
    return DigestPool(
        [
            candidate(1, "Bitcoin rallies to a record", quality=90, provider="Reuters"),
            candidate(2, "Football final tonight", quality=80, provider="AP"),
            candidate(3, "Interest rates rise again", quality=70, provider="BBC"),
            candidate(4, "Rates of interest are a puzzle", quality=60, provider="BBC"),
        ],
        NOW,
    )


def _titles(pool: DigestPool, keywords: KeywordFilter) -> list[str]:
    digest = pool.assemble(frozenset(), NOW.replace(year=2000), keywords=keywords)
    return [e.lead.title for e in digest.entries]


def test_the_pool_applies_keywords_like_the_matcher() -> None:
    pool = _pool()
    phrase = make_term("interest rates")
    assert _titles(pool, KeywordFilter(include=(phrase,))) == ["Interest rates rise again"]
    assert _titles(pool, KeywordFilter(exclude=(phrase, make_term("bitcoin")))) == [
        "Football final tonight",
        "Rates of interest are a puzzle",
    ]
    # The term cache is shared: a second reader with the same term gets the same answer.
    assert _titles(pool, KeywordFilter(include=(make_term("Interest Rate"),))) == [
        "Interest rates rise again"
    ]
    both = KeywordFilter(include=(make_term("football"),), exclude=(make_term("final"),))
    assert _titles(pool, both) == []
    empty = pool.assemble(frozenset(), NOW.replace(year=2000), keywords=both)
    assert empty.nothing is not None and empty.nothing.filtered == 4


def test_pool_matches_equal_the_plain_matcher_on_random_terms() -> None:
    """The index and the per-article matcher agree for every term and article."""
    import random

    rng = random.Random(5)
    vocab = ["rate", "rates", "bank", "banks", "café", "cafe", "story", "stories", "tax", "taxes"]
    cands = [
        candidate(
            i,
            " ".join(rng.choice(vocab) for _ in range(6)) + f" zq{i}",
            excerpt=" ".join(rng.choice(vocab) for _ in range(8)),
        )
        for i in range(60)
    ]
    pool = DigestPool(cands, NOW)
    since = NOW.replace(year=2000)
    for _ in range(40):
        words = rng.sample(vocab, rng.randint(1, 2))
        term = make_term(" ".join(words))
        got = {
            a.id
            for e in pool.assemble(
                frozenset(), since, cap=100, keywords=KeywordFilter(include=(term,))
            ).entries
            for a in (e.lead, *e.also)
        }
        want = {c.id for c in cands if Searchable.of(c.title, c.excerpt).matches(term)}
        assert got == want, term
