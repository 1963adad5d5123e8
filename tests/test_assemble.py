from __future__ import annotations

import random
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from functools import partial

import pytest

from digest.assemble import Digest, DigestPool, Entry
from digest.cluster import cluster_stories
from digest.model import Candidate
from digest.rank import rank
from tests.factories import NOW, candidate

LONG_AGO = NOW - timedelta(days=30)
# On topic 1, published two hours ago, ingested one hour ago, unless a test says otherwise.
cand = partial(candidate, topics=(1,), age_hours=2, ingested_hours_ago=1)


def url(id: int) -> str:
    return f"https://example.com/{id}"


def lead_ids(d: Digest) -> list[int]:
    return [e.lead.id for e in d.entries]


def shown_ids(d: Digest) -> set[int]:
    return {c.id for e in d.entries for c in (e.lead, *e.also)}


def test_topic_filter() -> None:
    pool = DigestPool([cand(1, topics={1}), cand(2, topics={2}), cand(3, topics={2, 3})], NOW)
    assert set(lead_ids(pool.assemble(frozenset({2}), LONG_AGO))) == {2, 3}
    assert set(lead_ids(pool.assemble(frozenset({1, 3}), LONG_AGO))) == {1, 3}


def test_empty_topics_means_everything() -> None:
    pool = DigestPool([cand(1, topics={1}), cand(2, topics={2}), cand(3, topics=())], NOW)
    assert set(lead_ids(pool.assemble(frozenset(), LONG_AGO))) == {1, 2, 3}


def test_unknown_topic_contributes_nothing() -> None:
    pool = DigestPool([cand(1, topics={1}), cand(2, topics={2})], NOW)
    assert lead_ids(pool.assemble(frozenset({99}), LONG_AGO)) == []
    assert lead_ids(pool.assemble(frozenset({99, 1}), LONG_AGO)) == [1]


def test_since_is_a_strict_cut_off_on_ingestion_time() -> None:
    pool = DigestPool(
        [
            cand(1, ingested_hours_ago=5),
            cand(2, ingested_hours_ago=3),
            cand(3, ingested_hours_ago=1),
        ],
        NOW,
    )
    # Exactly at article 2's ingestion time: it was already there, so it is not new.
    assert set(lead_ids(pool.assemble(frozenset(), NOW - timedelta(hours=3)))) == {3}
    assert set(lead_ids(pool.assemble(frozenset(), NOW - timedelta(hours=4)))) == {2, 3}
    assert lead_ids(pool.assemble(frozenset(), NOW)) == []
    assert len(pool.assemble(frozenset(), LONG_AGO).entries) == 3


def test_entries_follow_rank_order() -> None:
    cands = [cand(i, quality=q) for i, q in enumerate([10, 90, 40, 70, 20])]
    d = DigestPool(cands, NOW).assemble(frozenset(), LONG_AGO)
    assert lead_ids(d) == [c.id for c in rank(cands, NOW)]


def test_exclusions_never_reappear() -> None:
    cands = [
        cand(1, quality=90),
        cand(2, quality=80, related=[url(1)]),
        cand(3, quality=70),
        cand(4, quality=60, related=[url(3)]),
    ]
    pool = DigestPool(cands, NOW)
    for excluded in ({1}, {2}, {1, 3}, {2, 4}, {1, 2, 3, 4}):
        d = pool.assemble(frozenset(), LONG_AGO, exclude_ids=excluded)
        assert not shown_ids(d) & excluded
        assert d.article_ids == shown_ids(d)


def test_one_entry_per_story_with_also_links() -> None:
    cands = [
        cand(1, quality=60),
        cand(2, quality=90, related=[url(1)]),
        cand(3, quality=70),
        cand(4, quality=20, related=[url(1)]),
    ]
    d = DigestPool(cands, NOW).assemble(frozenset(), LONG_AGO)
    assert lead_ids(d) == [2, 3]
    story = d.entries[0]
    assert [c.id for c in story.also] == [1, 4]  # best first
    assert d.article_ids == {1, 2, 3, 4}
    assert d.more == 0


def test_also_links_respect_the_readers_filters() -> None:
    cands = [
        cand(1, quality=90, topics={1}),
        cand(2, quality=80, topics={2}, related=[url(1)]),
        cand(3, quality=70, topics={1}, related=[url(1)], ingested_hours_ago=10),
    ]
    d = DigestPool(cands, NOW).assemble(frozenset({1}), NOW - timedelta(hours=5))
    assert d.entries == (Entry(cands[0], ()),)


def test_excluded_lead_lets_its_cluster_mate_lead() -> None:
    best = cand(1, quality=95)
    mate = cand(2, quality=30, related=[best.url])
    middle = cand(3, quality=60)
    pool = DigestPool([best, mate, middle], NOW)
    d = pool.assemble(frozenset(), LONG_AGO, exclude_ids={1})
    # The mate now leads its story, in its own rank position (after the middle one).
    assert lead_ids(d) == [3, 2]
    assert all(not e.also for e in d.entries)


@pytest.mark.parametrize("cap", [0, 1, 3, 5, 100])
def test_cap_and_exact_more(cap: int) -> None:
    # Eight stories in twelve articles: 1~2~3, 4~5, 6~7 (by title), the rest alone.
    cands = [
        cand(1, quality=99),
        cand(2, quality=10, related=[url(1)]),
        cand(3, quality=95, related=[url(1)]),
        cand(4, quality=90),
        cand(5, quality=85, related=[url(4)]),
        cand(6, quality=80, title="Storm closes every school in the northern region"),
        cand(7, quality=5, title="Storm closes every school in northern region"),
        *(cand(i, quality=50 - i) for i in range(8, 13)),
    ]
    stories = 3 + 5
    d = DigestPool(cands, NOW).assemble(frozenset(), LONG_AGO, cap=cap)
    assert len(d.entries) == min(cap, stories)
    assert d.more == stories - len(d.entries)
    assert len(set(lead_ids(d))) == len(d.entries)


def test_more_counts_stories_not_articles_after_exclusion() -> None:
    cands = [
        cand(1, quality=90),
        cand(2, quality=80, related=[url(1)]),
        cand(3, quality=70, related=[url(1)]),
        cand(4, quality=60),
        cand(5, quality=50),
    ]
    pool = DigestPool(cands, NOW)
    d = pool.assemble(frozenset(), LONG_AGO, exclude_ids={1}, cap=1)
    assert lead_ids(d) == [2]
    assert d.more == 2  # stories 4 and 5


def test_empty_pool() -> None:
    d = DigestPool([], NOW).assemble(frozenset({1}), LONG_AGO)
    assert d == Digest((), 0, frozenset())


def reference_digest(
    cands: Sequence[Candidate],
    topics: frozenset[int],
    since: datetime,
    exclude: Collection[int],
    cap: int,
) -> tuple[list[tuple[int, list[int]]], int]:
    """The digest straight from its definition, with no bit tricks."""
    ranked = rank(cands, NOW)
    clusters = cluster_stories(ranked)
    eligible = [
        (c, clusters[i])
        for i, c in enumerate(ranked)
        if (not topics or c.topic_ids & topics) and c.ingested_at > since and c.id not in exclude
    ]
    stories: dict[int, list[int]] = {}
    for c, cid in eligible:
        stories.setdefault(cid, []).append(c.id)
    entries = [(ids[0], ids[1:]) for ids in stories.values()]
    return entries[:cap], max(len(entries) - cap, 0)


@pytest.mark.parametrize("seed", range(6))
def test_matches_reference_on_random_pools(seed: int) -> None:
    rng = random.Random(seed)
    cands = []
    for i in range(120):
        related = [url(rng.randrange(120))] if rng.random() < 0.4 else []
        cands.append(
            cand(
                i,
                quality=rng.randrange(101),
                topics=rng.sample(range(8), rng.randint(0, 3)),
                ingested_hours_ago=rng.choice([1, 2, 3, 6, 12]),
                related=related,
            )
        )
    pool = DigestPool(cands, NOW)
    for _ in range(60):
        topics = frozenset(rng.sample(range(10), rng.randint(0, 4)))
        since = NOW - timedelta(hours=rng.choice([0.5, 2, 4, 7, 48]))
        exclude = set(rng.sample(range(150), rng.randint(0, 40)))
        cap = rng.choice([0, 1, 5, 10, 200])
        d = pool.assemble(topics, since, exclude, cap)
        expected_entries, expected_more = reference_digest(cands, topics, since, exclude, cap)
        assert [(e.lead.id, [c.id for c in e.also]) for e in d.entries] == expected_entries
        assert d.more == expected_more
        assert d.article_ids == shown_ids(d)
