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
from collections.abc import Iterable
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
    # sorted() computes each key once, so every score is evaluated a single time.
    return sorted(cands, key=lambda c: (-score(c, now), -c.published_at.timestamp(), c.id))
