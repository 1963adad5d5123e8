from __future__ import annotations

import random

import pytest

from digest.model import Candidate
from digest.rank import rank, score, scores_at
from tests.factories import NOW
from tests.factories import candidate as cand


def ids(cands: list[Candidate]) -> list[int]:
    return [c.id for c in cands]


def test_higher_quality_ranks_first_at_equal_age() -> None:
    assert ids(rank([cand(1, quality=20), cand(2, quality=80)], NOW)) == [2, 1]


def test_fresher_ranks_first_at_equal_quality() -> None:
    assert ids(rank([cand(1, age_hours=10), cand(2, age_hours=1)], NOW)) == [2, 1]


def test_recency_eventually_beats_quality() -> None:
    # A day-old great article beats a fresh poor one, but three days old it no longer does.
    fresh_poor = cand(1, quality=20)
    assert ids(rank([fresh_poor, cand(2, quality=90, age_hours=24)], NOW)) == [2, 1]
    assert ids(rank([fresh_poor, cand(3, quality=90, age_hours=72)], NOW)) == [1, 3]


def test_heat_breaks_an_otherwise_even_match() -> None:
    assert ids(rank([cand(1, heat=0), cand(2, heat=500)], NOW)) == [2, 1]


def test_heat_is_bounded_so_quality_still_matters() -> None:
    # Even enormous heat cannot lift a very poor article over a very good one.
    assert ids(rank([cand(1, quality=5, heat=10**9), cand(2, quality=95)], NOW)) == [2, 1]


@pytest.mark.parametrize("unknown", [None, -1])
def test_unknown_heat_is_not_a_penalty(unknown: int | None) -> None:
    assert score(cand(1, heat=unknown), NOW) == score(cand(2, heat=0), NOW)
    assert score(cand(1, heat=unknown), NOW) < score(cand(2, heat=1), NOW)


def test_missing_quality_is_neutral_not_zero() -> None:
    assert score(cand(1, quality=0), NOW) < score(cand(2, quality=None), NOW)
    assert score(cand(2, quality=None), NOW) < score(cand(3, quality=100), NOW)


def test_future_dates_count_as_now() -> None:
    assert score(cand(1, age_hours=-48), NOW) == score(cand(2, age_hours=0), NOW)


def test_half_life_is_about_a_day() -> None:
    assert score(cand(1, age_hours=24), NOW) == pytest.approx(score(cand(2), NOW) / 2)


@pytest.mark.parametrize("quality", [-50, 1000])
def test_out_of_range_quality_is_clamped(quality: int) -> None:
    bound = 0 if quality < 0 else 100
    assert score(cand(1, quality=quality), NOW) == score(cand(2, quality=bound), NOW)


def test_ties_break_by_newer_then_lower_id() -> None:
    # Zero quality and heat score 0 at any age, so only the tie-break orders them.
    a = cand(5, quality=0, age_hours=1)
    b = cand(3, quality=0, age_hours=1)
    c = cand(9, quality=0, age_hours=0)
    assert ids(rank([a, b, c], NOW)) == [9, 3, 5]


def test_rank_is_deterministic_whatever_the_input_order() -> None:
    rng = random.Random(7)
    pool = [
        cand(
            i,
            quality=rng.choice([None, 0, 30, 60]),
            heat=rng.choice([None, 0, 40]),
            age_hours=rng.choice([0, 3, 24]),
        )
        for i in range(60)
    ]
    expected = ids(rank(pool, NOW))
    for _ in range(5):
        rng.shuffle(pool)
        assert ids(rank(pool, NOW)) == expected
    scores = [score(c, NOW) for c in rank(pool, NOW)]
    assert scores == sorted(scores, reverse=True)


def test_rank_is_the_order_of_score_then_newer_then_lower_id() -> None:
    # Many exact ties on each key (few qualities, heats and ages, repeated times, future
    # dates), in random order: the order must be that of the definition's sort key.
    rng = random.Random(11)
    pool = [
        cand(
            rng.randrange(400),
            quality=rng.choice([None, -5, 0, 30, 30, 60, 101]),
            heat=rng.choice([None, -1, 0, 40, 10**6]),
            age_hours=rng.choice([-2, -1, 0, 0.5, 3, 24, 48]),
        )
        for _ in range(2_000)
    ]
    expected = sorted(pool, key=lambda c: (-score(c, NOW), -c.published_at.timestamp(), c.id))
    assert ids(rank(pool, NOW)) == ids(expected)
    assert scores_at(pool, NOW) == [score(c, NOW) for c in pool]
