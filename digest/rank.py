"""Order digest candidates best first.

The score multiplies an article's worth by how fresh it is::

    score = (q + h) * 0.5 ** (age_hours / HALF_LIFE_HOURS)

    q = quality clamped to [0, 100]; None -> NEUTRAL_QUALITY (30)
    h = HEAT_WEIGHT * heat / (heat + HEAT_SCALE)  for heat >= 0; None or negative -> 0
    age_hours = hours from published_at to now, clamped at 0

Why this shape:

* Multiplying by the decay (rather than adding a recency term) keeps a stale story from
  riding on a high quality forever: a quality-100 article is worth a fresh quality-50 one
  after one half-life (24 h) and a fresh quality-25 one after two.
* An article without a quality score is treated as a middling one, so missing metadata
  neither buries nor promotes it.
* Heat is an open-ended engagement counter whose scale we do not control, so it is
  squashed to at most ``HEAT_WEIGHT`` points: a viral story gets a boost but cannot
  outweigh quality by itself. Unknown heat (the files' ``-1``, stored as None) adds
  nothing, exactly like zero heat, and is never a penalty.
* Publication dates in the future (clock skew, sloppy feeds) count as "now", so a wrong
  date cannot make an article fresher than fresh.

Ties (equal scores) are broken by newer ``published_at`` first, then by lower ``id``, so
the order is fully deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime

from digest.model import Candidate

HALF_LIFE_HOURS = 24.0
NEUTRAL_QUALITY = 30
HEAT_WEIGHT = 30.0
HEAT_SCALE = 50.0


def score(c: Candidate, now: datetime) -> float:
    """The ranking score of one candidate at ``now`` (higher is better); see module doc."""
    quality = NEUTRAL_QUALITY if c.quality is None else min(max(c.quality, 0), 100)
    heat = 0 if c.heat is None else max(c.heat, 0)
    heat_bonus = HEAT_WEIGHT * heat / (heat + HEAT_SCALE)
    age_hours = max((now - c.published_at).total_seconds(), 0.0) / 3600.0
    # math.pow rather than ** so the result is typed float (a float power may be complex).
    return (quality + heat_bonus) * math.pow(0.5, age_hours / HALF_LIFE_HOURS)


def rank(cands: Iterable[Candidate], now: datetime) -> list[Candidate]:
    """Candidates best first: score desc, then published_at desc, then id asc."""
    return rank_scored(cands, now)[0]


def rank_scored(cands: Iterable[Candidate], now: datetime) -> tuple[list[Candidate], list[float]]:
    """:func:`rank`, with each ranked candidate's score (a reader's votes reweigh them)."""
    # Three stable sorts, least significant key first, instead of one by a (score, time,
    # id) tuple: no tuple and no float timestamp per candidate, and the first sort is
    # nearly free on candidates read in id order. ``reverse=True`` keeps equal keys in
    # their order, so each sort only breaks the ties the next one leaves.
    by_id = sorted(cands, key=_id)
    by_time = sorted(by_id, key=_published_at, reverse=True)
    scores = scores_at(by_time, now)
    order = sorted(range(len(by_time)), key=scores.__getitem__, reverse=True)
    return [by_time[i] for i in order], [scores[i] for i in order]


def scores_at(cands: Sequence[Candidate], now: datetime) -> list[float]:
    """``[score(c, now) for c in cands]``, the same floats, computed faster.

    Syndicated copy repeats publication times and heat values, so each distinct one's
    part of the score (the decay, the heat bonus) is computed once, by the same
    expressions as :func:`score`.
    """
    decays: dict[datetime, float] = {}
    bonuses: dict[int, float] = {0: 0.0}
    found: list[float] = []
    for c in cands:
        published = c.published_at
        decay = decays.get(published)
        if decay is None:
            age_hours = max((now - published).total_seconds(), 0.0) / 3600.0
            decay = decays[published] = math.pow(0.5, age_hours / HALF_LIFE_HOURS)
        heat = 0 if c.heat is None or c.heat < 0 else c.heat
        bonus = bonuses.get(heat)
        if bonus is None:
            bonus = bonuses[heat] = HEAT_WEIGHT * heat / (heat + HEAT_SCALE)
        quality = c.quality
        quality = NEUTRAL_QUALITY if quality is None else min(max(quality, 0), 100)
        found.append((quality + bonus) * decay)
    return found


def _id(c: Candidate) -> int:
    return c.id


def _published_at(c: Candidate) -> datetime:
    return c.published_at
