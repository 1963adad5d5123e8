from __future__ import annotations

import itertools
import random
import time
from collections.abc import Sequence

import pytest

from digest.cluster import cluster_stories, title_tokens, titles_match
from digest.model import Candidate
from tests.factories import candidate as cand


def same(clusters: list[int], a: int, b: int) -> bool:
    return clusters[a] == clusters[b]


# --- title_tokens -----------------------------------------------------------------------


def test_tokens_are_lower_case_words_without_stop_words() -> None:
    assert title_tokens("The Fed Raises Rates, Again!") == ("fed", "raises", "rates", "again")


def test_tokens_are_unicode_aware() -> None:
    assert title_tokens("Zürich: Ärzte STREIKEN — 東京 2025") == (
        "zürich",
        "ärzte",
        "streiken",
        "東京",
        "2025",
    )


@pytest.mark.parametrize(
    "title",
    [
        "BREAKING: Fire at the old mill",
        "Breaking news: Fire at the old mill",
        "BREAKING NEWS Fire at the old mill",
        "🔴 Breaking — Fire at the old mill",
        "[BREAKING] Fire at the old mill",
        "Just in: Fire at the old mill",
    ],
)
def test_leading_breaking_tag_is_dropped(title: str) -> None:
    assert title_tokens(title) == title_tokens("Fire at the old mill")


def test_breaking_as_an_ordinary_word_is_kept() -> None:
    assert title_tokens("Breaking Bad cast reunites")[0] == "breaking"


def test_possessives_and_invisible_marks_do_not_split_words() -> None:
    assert title_tokens("Biden's plan") == title_tokens("Biden plan")
    assert title_tokens("\u200fشارع\u200f الملك") == title_tokens("شارع الملك")


# --- titles_match -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Fed raises interest rates by half a point", "Fed raises interest rates by half point"),
        ("BREAKING: Fed raises rates", "Fed raises rates"),
        ("Storm hits coast", "storm HITS coast!"),
        # Short titles only match when identical after normalisation.
        ("Apple earnings", "APPLE — earnings"),
        # One word different in nine still clears 0.8.
        (
            "Fed raises key interest rates to fight stubborn inflation pressure",
            "Fed raises key interest rates to fight stubborn inflation worries",
        ),
    ],
)
def test_near_identical_titles_match(a: str, b: str) -> None:
    assert titles_match(a, b)
    assert titles_match(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Fed raises interest rates", "Fed cuts interest rates sharply amid slowdown"),
        ("Apple earnings", "Apple earnings beat"),  # too few tokens for Jaccard
        ("Apple Google", "Google Apple"),  # short and not identical
        ("🔥🔥🔥", "🔥🔥🔥"),  # no tokens at all: nothing to compare
        ("", ""),
    ],
)
def test_different_titles_do_not_match(a: str, b: str) -> None:
    assert not titles_match(a, b)


# --- cluster_stories ----------------------------------------------------------------------


def test_ids_are_index_aligned_and_distinct_for_unrelated_articles() -> None:
    cands = [cand(i) for i in range(5)]
    clusters = cluster_stories(cands)
    assert len(clusters) == 5
    assert len(set(clusters)) == 5


def test_empty_input() -> None:
    assert cluster_stories([]) == []


@pytest.mark.parametrize("reverse", [False, True])
def test_related_link_joins_both_ways(reverse: bool) -> None:
    a = cand(1)
    b = cand(2, related=[a.url])
    cands = [b, a] if reverse else [a, b]
    clusters = cluster_stories([*cands, cand(3)])
    assert same(clusters, 0, 1)
    assert not same(clusters, 0, 2)


def test_shared_related_url_joins() -> None:
    clusters = cluster_stories(
        [cand(1, related=["https://x.org/s"]), cand(2), cand(3, related=["https://x.org/s"])]
    )
    assert same(clusters, 0, 2)
    assert not same(clusters, 0, 1)


def test_near_identical_titles_join_and_different_stories_stay_apart() -> None:
    clusters = cluster_stories(
        [
            cand(1, "Earthquake of magnitude 6.1 strikes off the coast of Chile"),
            cand(2, "Volcano erupts in Iceland forcing evacuation of town"),
            cand(3, "BREAKING: Earthquake of magnitude 6.1 strikes off coast of Chile"),
            cand(4, "Earthquake of magnitude 5.2 strikes Japan"),
        ]
    )
    assert same(clusters, 0, 2)
    assert not same(clusters, 0, 1)
    assert not same(clusters, 0, 3)
    assert not same(clusters, 1, 3)


def test_clusters_are_transitive() -> None:
    a = cand(1)
    b = cand(2, related=[a.url])
    c = cand(3, "Unrelated headline number 2 zq2")  # same title as b
    clusters = cluster_stories([a, b, c])
    assert same(clusters, 0, 2)


def reference_clusters(cands: Sequence[Candidate]) -> list[frozenset[int]]:
    """The partition by brute force over every pair, straight from the definition."""
    parent = list(range(len(cands)))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i, j in itertools.combinations(range(len(cands)), 2):
        a, b = cands[i], cands[j]
        linked = (
            a.url == b.url
            or a.url in b.related_urls
            or b.url in a.related_urls
            or bool(a.related_urls & b.related_urls)
            or titles_match(a.title, b.title)
        )
        if linked:
            parent[find(i)] = find(j)
    groups: dict[int, set[int]] = {}
    for i in range(len(cands)):
        groups.setdefault(find(i), set()).add(i)
    return sorted((frozenset(g) for g in groups.values()), key=min)


def partition(clusters: list[int]) -> list[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for i, cid in enumerate(clusters):
        groups.setdefault(cid, set()).add(i)
    return sorted((frozenset(g) for g in groups.values()), key=min)


@pytest.mark.parametrize("seed", range(8))
def test_matches_brute_force_partition(seed: int) -> None:
    # Small vocabulary and short titles make many borderline Jaccard pairs, which is where
    # a wrong prefix length would lose matches.
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(14)] + ["the", "of"]
    cands = []
    for i in range(150):
        title = " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 9)))
        related = [f"https://example.com/{rng.randrange(400)}" for _ in range(rng.randint(0, 1))]
        cands.append(cand(i, title, related=related))
    assert partition(cluster_stories(cands)) == reference_clusters(cands)


def test_ten_thousand_candidates_are_fast() -> None:
    rng = random.Random(1)
    vocab = [f"word{i}" for i in range(3000)] + ["government", "says", "new", "report"] * 50
    cands = [
        cand(i, " ".join(rng.choice(vocab) for _ in range(rng.randint(5, 12))))
        for i in range(10_000)
    ]
    # Plenty of exact and near duplicates, the inputs that blow up a naive index.
    cands += [cand(10_000 + i, cands[i % 50].title) for i in range(2_000)]
    start = time.perf_counter()
    clusters = cluster_stories(cands)
    elapsed = time.perf_counter() - start
    assert same(clusters, 0, 10_000)
    # Generous: a pairwise loop over 12,000 titles (72M pairs) takes minutes.
    assert elapsed < 5.0
