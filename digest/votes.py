"""A reader's 👍/👎 as weights on their own ranking: bounded, fading over 30 days.

Each vote counts fully when cast and fades linearly to nothing after :data:`VOTE_LIFE`::

    w(vote) = value * max(0, 1 - age / VOTE_LIFE)        value = +1 (👍) or -1 (👎)

and is counted for every topic of the story voted on and for its provider. Per topic (and
per provider) the sum ``s`` of those becomes a factor::

    factor(s) = 2 ** clamp(s / SATURATION, -1, 1)        in [1/2, 2]

A story's factor is the geometric mean of its topics' factors (topics nobody voted on
count 1) times its provider's, so always within [1/4, 4]. Why this shape:

* Bounded: the score of a story is at most halved twice, never zeroed, so no topic or
  provider disappears by votes alone; votes reorder, they never filter (the assembly also
  keeps every topic the reader would have seen without votes: see
  :meth:`digest.assemble.DigestPool.assemble`).
* Saturating: :data:`SATURATION` (3) fresh votes reach the bound; a fourth adds nothing,
  so a reader who taps 👎 on everything about one topic does not drown it further.
* Fading: old taste stops counting without any clean-up; a vote 30 days old is gone.
* A geometric mean over topics keeps a story with many topics from multiplying many
  boosts together.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

VOTE_LIFE = timedelta(days=30)
SATURATION = 3.0
MIN_FACTOR = 0.5
MAX_FACTOR = 2.0


@dataclass(frozen=True, slots=True)
class Vote:
    """One stored vote: +1 or -1 on a story with these topics and this provider."""

    value: int
    topic_ids: frozenset[int]
    provider_key: str  # digest.assemble.provider_key; "" when the story had none
    voted_at: datetime


def vote_strength(vote: Vote, now: datetime) -> float:
    """The vote's signed weight at ``now``: ±1 when cast, 0 after VOTE_LIFE (a date in
    the future counts as now)."""
    age = max((now - vote.voted_at) / VOTE_LIFE, 0.0)
    return math.copysign(max(0.0, 1.0 - age), vote.value) if age < 1.0 else 0.0


def factor_of(total: float) -> float:
    """A topic's or provider's factor from its summed vote strength, in [1/2, 2]."""
    return math.pow(2.0, max(-1.0, min(1.0, total / SATURATION)))


@dataclass(frozen=True, slots=True)
class VoteWeights:
    """One reader's factors by topic id and provider key (absent: 1)."""

    topics: Mapping[int, float] = field(default_factory=dict)
    providers: Mapping[str, float] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.topics or self.providers)

    def topic_factor(self, topic_ids: Iterable[int]) -> float:
        """The geometric mean of the topics' factors (1 for a story without topics)."""
        logs = [math.log(self.topics.get(t, 1.0)) for t in topic_ids]
        return math.exp(sum(logs) / len(logs)) if logs else 1.0

    def provider_factor(self, provider_key: str) -> float:
        return self.providers.get(provider_key, 1.0) if provider_key else 1.0

    def story_factor(self, topic_ids: Iterable[int], provider_key: str) -> float:
        """What a story's score is multiplied by for this reader, in [1/4, 4]."""
        return self.topic_factor(topic_ids) * self.provider_factor(provider_key)


NO_WEIGHTS = VoteWeights()


def weights_from_votes(votes: Iterable[Vote], now: datetime) -> VoteWeights:
    """A reader's weights at ``now`` from their votes (faded ones count nothing)."""
    topic_sums: dict[int, float] = {}
    provider_sums: dict[str, float] = {}
    for vote in votes:
        strength = vote_strength(vote, now)
        if not strength:
            continue
        for topic in vote.topic_ids:
            topic_sums[topic] = topic_sums.get(topic, 0.0) + strength
        if vote.provider_key:
            key = vote.provider_key
            provider_sums[key] = provider_sums.get(key, 0.0) + strength
    return VoteWeights(
        {t: factor_of(s) for t, s in topic_sums.items() if s},
        {p: factor_of(s) for p, s in provider_sums.items() if s},
    )
