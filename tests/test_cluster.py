from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Callable, Sequence

import pytest

from digest.cluster import (
    _union_by_titles,
    _UnionFind,
    cluster_stories,
    prefix_len,
    title_tokens,
    titles_match,
)
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


def exact_partition(cands: Sequence[Candidate]) -> list[frozenset[int]]:
    """The partition by uncapped prefix filtering over every title: exact, and fast enough
    for a few thousand titles (checked against the brute force above)."""
    parent = list(range(len(cands)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    owner: dict[str, int] = {}
    for i, c in enumerate(cands):
        for key in (c.url, *c.related_urls):
            union(i, owner.setdefault(key, i))
    tokens = [title_tokens(c.title) for c in cands]
    by_title: dict[tuple[str, ...], int] = {}
    for i, t in enumerate(tokens):
        if t:
            union(i, by_title.setdefault(t, i))
    sets = [(i, frozenset(t)) for i, t in enumerate(tokens) if len(set(t)) >= 3]
    freq = Counter(w for _, s in sets for w in s)
    index: dict[str, list[int]] = {}
    for k, (i, s) in enumerate(sets):
        ordered = sorted(s, key=lambda w: (freq[w], w))
        prefix = ordered[: prefix_len(len(s))]
        for other in {o for w in prefix for o in index.get(w, ())}:
            j, t = sets[other]
            inter = len(s & t)
            if 5 * inter >= 4 * (len(s) + len(t) - inter):
                union(i, j)
        for w in prefix:
            index.setdefault(w, []).append(k)
    return partition([find(i) for i in range(len(cands))])


_SYLLABLES = [a + b for a in "kmnrstvbdgl" for b in "aeiou"]
_TAGS = ["UPDATE 1-", "UPDATE 2-", "WRAPUP 1-", "BREAKING:", "EXCLUSIVE-"]
_SUFFIXES = ["- Reuters", "| AP News", "(AFP)", "- Bloomberg", "| DW"]


def _words(rng: random.Random, count: int) -> list[str]:
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def wire_copy(
    n: int, templates: int, *, seed: int, size: tuple[int, int] = (6, 12)
) -> list[Candidate]:
    """Syndicated copy: ``templates`` headlines, each printed verbatim, tagged, with a
    figure or a name changed (near misses), a word swapped or rewritten; some linked."""
    rng = random.Random(seed)
    words = _words(rng, 3000)
    common, names, rare = words[:300], words[300:800], words[800:]
    heads = [
        [rng.choice(common if rng.random() < 0.6 else rare) for _ in range(rng.randint(*size))]
        for _ in range(templates)
    ]
    cands = []
    for i in range(n):
        tokens = list(rng.choice(heads))
        roll = rng.random()
        if roll < 0.3:
            pass
        elif roll < 0.45:
            tag = rng.choice(_TAGS) if rng.random() < 0.5 else rng.choice(_SUFFIXES)
            tokens = [*tag.split(), *tokens] if tag.isupper() else [*tokens, *tag.split()]
        elif roll < 0.75:
            for _ in range(rng.randint(1, 2)):
                value = (
                    f"{rng.randrange(100)}.{rng.randrange(10)}%"
                    if rng.random() < 0.5
                    else rng.choice(names)
                )
                tokens.insert(rng.randrange(len(tokens) + 1), value)
        elif roll < 0.9:
            tokens[rng.randrange(len(tokens))] = rng.choice(common)
        else:
            for _ in range(3):
                tokens[rng.randrange(len(tokens))] = rng.choice(rare)
        related = [f"https://example.com/{rng.randrange(i)}"] if i and rng.random() < 0.03 else []
        cands.append(cand(i, " ".join(tokens).capitalize(), related=related))
    return cands


def newsroom(n: int, *, seed: int) -> list[Candidate]:
    """Ordinary news: most stories alone, some covered by several outlets with the
    headline's word swapped, shortened or tagged (like bench/digest.py's generator)."""
    rng = random.Random(seed)
    words = _words(rng, 5000)
    stories: list[list[str]] = []
    cands = []
    for i in range(n):
        if stories and rng.random() < 0.3:
            tokens = list(rng.choice(stories))
            roll = rng.random()
            if roll < 0.4:
                tokens[rng.randrange(len(tokens))] = rng.choice(words)
            elif roll < 0.6:
                del tokens[rng.randrange(len(tokens))]
            elif roll < 0.8:
                tokens = ["Breaking:", *tokens]
        else:
            tokens = [rng.choice(words) for _ in range(rng.randint(4, 14))]
            stories.append(tokens)
        cands.append(cand(i, " ".join(tokens)))
    return cands


@pytest.mark.parametrize(
    ("make", "label"),
    [
        (lambda: wire_copy(4000, 300, seed=1), "wire, 300 headlines"),
        (lambda: wire_copy(4000, 30, seed=2), "wire, 30 headlines printed ~130 times each"),
        (lambda: wire_copy(3000, 40, seed=3, size=(14, 22)), "wire, long headlines"),
        (lambda: newsroom(5000, seed=4), "ordinary news"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_realistic_inputs_get_the_exact_partition(
    make: Callable[[], list[Candidate]], label: str
) -> None:
    cands = make()
    exact = exact_partition(cands)
    assert partition(cluster_stories(cands)) == exact
    assert partition(cluster_stories(cands, candidate_cap=None)) == exact
    assert len(exact) < len(cands)  # the inputs do have stories to find


def test_a_binding_cap_only_splits_stories_of_long_titles() -> None:
    # Forty long headlines printed 75 times each: prefix filtering of long titles meets
    # posting lists of hundreds, and a cap of 4 leaves some copies as stories of their
    # own. It never joins titles that do not match: each cluster is within an exact one.
    cands = wire_copy(3000, 40, seed=3, size=(14, 22))
    exact = exact_partition(cands)
    capped = partition(cluster_stories(cands, candidate_cap=4))
    assert len(capped) > len(exact)
    assert all(any(group <= whole for whole in exact) for group in capped)
    assert partition(cluster_stories(cands, candidate_cap=4 * 16)) == exact


@pytest.mark.parametrize("seed", range(4))
def test_long_titles_match_brute_force_partition(seed: int) -> None:
    # Sets of 16 tokens and more go through prefix filtering, the rest through deletion
    # keys: a pair across both ranges (e.g. 15 and 18 tokens) must still be found.
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(40)]
    base = rng.sample(vocab, 20)
    cands = []
    for i in range(120):
        tokens = base[: rng.randint(12, 20)]
        tokens = [t if rng.random() > 0.1 else rng.choice(vocab) for t in tokens]
        cands.append(cand(i, " ".join(tokens)))
    assert partition(cluster_stories(cands)) == reference_clusters(cands)


def test_near_misses_of_one_headline_cost_no_pairwise_checks() -> None:
    # 3,000 copies of one headline, each with two other figures: only those that share a
    # figure match (8 + 2 tokens, 9 shared), and prefix filtering verified every pair: 4.5
    # million checks. Each title's rarest words are shared by all the others, which is
    # what made it quadratic.
    rng = random.Random(5)
    head = "Shares of the regional lender jump on takeover talk in early trade"
    cands = [cand(i, f"{head} {rng.randrange(10**4)} {rng.randrange(10**4)}") for i in range(3000)]
    uf = _UnionFind(len(cands))
    verified = _union_by_titles(cands, uf)
    assert verified < len(cands)
    clusters = [uf.find(i) for i in range(len(cands))]
    assert partition(clusters) == exact_partition(cands)
    assert 1000 < len(set(clusters)) < 2000  # near misses, and chains of shared figures


def test_copies_of_one_headline_cost_no_pairwise_checks() -> None:
    # 3,000 copies of one headline with one figure each: all match the bare headline and
    # each other (10 of 11 tokens), and are joined with a handful of checks each.
    head = "Shares of the regional lender jump on takeover talk in early trade"
    cands = [cand(0, head)] + [cand(i, f"{head} {i * 7919}") for i in range(1, 3000)]
    uf = _UnionFind(len(cands))
    verified = _union_by_titles(cands, uf)
    assert verified < 3 * len(cands)
    assert len({uf.find(i) for i in range(len(cands))}) == 1


def test_ten_thousand_candidates_with_duplicates() -> None:
    rng = random.Random(1)
    vocab = [f"word{i}" for i in range(3000)] + ["government", "says", "new", "report"] * 50
    cands = [
        cand(i, " ".join(rng.choice(vocab) for _ in range(rng.randint(5, 12))))
        for i in range(10_000)
    ]
    # Plenty of exact and near duplicates, the inputs that blow up a naive index.
    cands += [cand(10_000 + i, cands[i % 50].title) for i in range(2_000)]
    clusters = cluster_stories(cands)
    assert same(clusters, 0, 10_000)
    assert partition(clusters) == exact_partition(cands)
