"""Votes: weights bounded and fading over 30 days, and what they do to a reader's digest."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from sqlite_utils import Database

from digest.assemble import DigestPool
from digest.explain import StoryFactors, explain_story
from digest.html import utf16_len
from digest.votes import (
    MAX_FACTOR,
    MIN_FACTOR,
    VOTE_LIFE,
    Vote,
    VoteWeights,
    vote_strength,
    weights_from_votes,
)
from storage.votes import cast_vote, vote_on, weights_among, weights_of
from tests.clock import ManualClock
from tests.factories import NOW, candidate

LONG_AGO = NOW - timedelta(days=30)
cand = partial(candidate, age_hours=2, ingested_hours_ago=1)


def vote(
    value: int, topics: set[int] = frozenset({1}), provider: str = "", days: float = 0
) -> Vote:
    return Vote(value, frozenset(topics), provider, NOW - timedelta(days=days))


def test_a_vote_fades_linearly_to_nothing_over_thirty_days() -> None:
    clock = ManualClock(NOW)
    up = Vote(1, frozenset({1}), "", clock())
    strengths = []
    for _ in range(4):
        strengths.append(vote_strength(up, clock()))
        clock.advance(timedelta(days=10))
    assert strengths == pytest.approx([1.0, 2 / 3, 1 / 3, 0.0])
    clock.advance(timedelta(days=300))
    assert vote_strength(up, clock()) == 0.0
    # A vote dated in the future counts as cast now; a down vote is negative.
    assert vote_strength(Vote(-1, frozenset(), "", NOW + timedelta(days=2)), NOW) == -1.0
    assert weights_from_votes([vote(1, days=30)], NOW) == VoteWeights()


def test_weights_are_bounded_however_many_votes() -> None:
    many_down = [vote(-1, {1}, "reuters") for _ in range(500)]
    many_up = [vote(1, {2}, "bbc") for _ in range(500)]
    w = weights_from_votes([*many_down, *many_up], NOW)
    assert w.topics[1] == MIN_FACTOR and w.topics[2] == MAX_FACTOR
    assert w.providers["reuters"] == MIN_FACTOR and w.providers["bbc"] == MAX_FACTOR
    assert w.story_factor({1}, "reuters") == pytest.approx(MIN_FACTOR**2)  # never 0
    assert w.story_factor({2}, "bbc") == pytest.approx(MAX_FACTOR**2)
    # Many topics: a geometric mean, not a product of boosts.
    assert w.topic_factor({1, 2}) == pytest.approx(1.0)
    assert w.story_factor((), "") == 1.0 and w.topic_factor({99}) == 1.0


def test_one_vote_moves_a_little_and_fading_moves_it_back() -> None:
    fresh = weights_from_votes([vote(1, {1})], NOW).topics[1]
    older = weights_from_votes([vote(1, {1}, days=15)], NOW).topics[1]
    assert 1.0 < older < fresh < MAX_FACTOR
    assert weights_from_votes([vote(1, {1}), vote(-1, {1})], NOW) == VoteWeights()


def test_votes_reorder_a_readers_digest() -> None:
    # Topic 1 ranks above topic 2 until the reader likes topic 2 and dislikes topic 1.
    pool = DigestPool(
        [cand(1, topics={1}, quality=60, provider="A"), cand(2, topics={2}, quality=40,
                                                               provider="B")],
        NOW,
    )  # fmt: skip
    plain = pool.assemble(frozenset(), LONG_AGO)
    assert [e.lead.id for e in plain.entries] == [1, 2]
    w = weights_from_votes([vote(1, {2}), vote(1, {2}), vote(-1, {1})], NOW)
    voted = pool.assemble(frozenset(), LONG_AGO, weights=w)
    assert [e.lead.id for e in voted.entries] == [2, 1]
    assert voted.article_ids == plain.article_ids and voted.more == plain.more


def test_no_topic_disappears_by_votes_alone() -> None:
    # Ten strong stories on topic 1 and one weaker on topic 2; the reader votes topic 2
    # down as far as it goes and topic 1 up: topic 2 keeps its story in a 5-story digest.
    cands = [cand(i, topics={1}, quality=60, provider=f"P{i}") for i in range(1, 11)]
    cands.append(cand(50, topics={2}, quality=70, provider="Q"))
    pool = DigestPool(cands, NOW)
    plain = pool.assemble(frozenset({1, 2}), LONG_AGO, cap=5)
    assert 50 in [e.lead.id for e in plain.entries]
    hate = weights_from_votes(
        [*(vote(-1, {2}, "q") for _ in range(9)), *(vote(1, {1}) for _ in range(9))], NOW
    )
    voted = pool.assemble(frozenset({1, 2}), LONG_AGO, cap=5, weights=hate)
    assert 50 in [e.lead.id for e in voted.entries]
    assert len(voted.entries) == 5


def test_votes_keep_the_provider_cap() -> None:
    cands = [cand(i, topics={1}, quality=50, provider="Reuters") for i in range(1, 6)]
    cands += [cand(10 + i, topics={1}, quality=45, provider=f"P{i}") for i in range(5)]
    pool = DigestPool(cands, NOW)
    love = weights_from_votes([vote(1, set(), "reuters") for _ in range(5)], NOW)
    d = pool.assemble(frozenset(), LONG_AGO, cap=5, weights=love)
    assert [e.lead.provider for e in d.entries].count("Reuters") == 2


def test_why_this_fits_a_popup() -> None:
    factors = StoryFactors(
        topics=tuple(f"Topic number {i}" for i in range(20)),
        quality=80,
        heat=120,
        sources=4,
        age=timedelta(hours=3),
        topic_factor=1.26,
        provider="Reuters" * 10,
        provider_factor=0.79,
        own_vote=1,
    )
    text = explain_story(factors)
    assert utf16_len(text) <= 200
    assert "quality 80" in text and "heat 120" in text and "4 sources" in text
    assert "3 h old" in text and "topic ×1.26" in text and "you voted 👍" in text
    short = explain_story(StoryFactors(("AI",), None, None, 1, timedelta(minutes=5)))
    assert short == (
        "Topic: AI · quality unknown (counted 30) · no heat · 1 source · 5 min old · "
        "your votes: none"
    )


def test_votes_are_stored_per_subscription_and_story_and_toggle(db: Database) -> None:
    cast = partial(cast_vote, db, user_id=7, provider_key="reuters", topic_ids={1, 2}, now=NOW)
    assert cast(501, 10, 1) == 1
    assert cast(501, 10, -1) == -1  # changed
    assert vote_on(db, 501, 10) == -1
    assert cast(501, 10, -1) == 0  # the same again: taken back
    assert vote_on(db, 501, 10) == 0
    cast(501, 11, 1)
    cast(502, 11, -1)
    weights = weights_among(db, [501, 502, 503], NOW)
    assert set(weights) == {501, 502}
    assert weights[501].topics[1] > 1 > weights[502].topics[1]
    # Faded votes are not read.
    assert weights_of(db, 501, NOW + VOTE_LIFE) is None
    with pytest.raises(ValueError):
        cast(501, 12, 2)
