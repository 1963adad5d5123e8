"""Variety in a digest: at most :data:`PROVIDER_CAP` entries per provider while other
providers have stories, and a reader's votes reordering their stories without filtering
them (every topic the digest would show without votes keeps its best story).

Pure and generic: stories are any values, read through the functions passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

PROVIDER_CAP = 2  # entries per provider while other providers have stories

StoryT = TypeVar("StoryT")


def choose(
    order: Sequence[StoryT],
    cap: int,
    provider: Callable[[StoryT], str],
    required: frozenset[int] = frozenset(),
) -> list[StoryT]:
    """At most ``cap`` of ``order`` (indices in ``required`` always), in order, at most
    PROVIDER_CAP led by one provider; then the ones that gave way, if room is left."""
    counts: dict[str, int] = {}
    keep = [i in required for i in range(len(order))]
    for i in required:
        key = provider(order[i])
        counts[key] = counts.get(key, 0) + 1
    taken = len(required)
    waiting: list[int] = []
    for i, story in enumerate(order):
        if taken >= cap:
            break
        if keep[i]:
            continue
        key = provider(story)
        if key and counts.get(key, 0) >= PROVIDER_CAP:
            waiting.append(i)
            continue
        counts[key] = counts.get(key, 0) + 1
        keep[i] = True
        taken += 1
    late = waiting[: max(cap - taken, 0)]
    return [s for i, s in enumerate(order) if keep[i]] + [order[i] for i in late]


def reorder_by_votes(
    window: Sequence[StoryT],
    cap: int,
    *,
    provider: Callable[[StoryT], str],
    topics: Callable[[StoryT], frozenset[int]],
    weighted_score: Callable[[StoryT], float],
    topic_ids: frozenset[int],
) -> list[StoryT]:
    """``cap`` stories of ``window`` (in rank order) by their weighted scores, with the
    provider cap; ``topic_ids``: the reader's topics (empty: every topic counts)."""
    weighted = sorted(window, key=weighted_score, reverse=True)  # stable: ties keep rank
    picked = choose(weighted, cap, provider)

    # No topic disappears by votes alone: each topic the digest would show without
    # votes keeps its best story by the weighted order.
    def shown_topics(stories: Iterable[StoryT]) -> set[int]:
        found: set[int] = set()
        for story in stories:
            found |= topics(story)
        return found & topic_ids if topic_ids else found

    missing = shown_topics(choose(window, cap, provider)) - shown_topics(picked)
    if not missing:
        return picked
    required: list[int] = []
    for i, story in enumerate(weighted):
        if missing & topics(story) and len(required) < cap:
            required.append(i)
            missing -= topics(story)
    return choose(weighted, cap, provider, frozenset(required))
