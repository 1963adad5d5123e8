"""Following a story: what new coverage joins it and when its follower hears (how that
reads: :mod:`digest.follow_messages`).

A followed story is a cluster of coverage named by one article id: the lead of the digest
entry (or the /related answer) it was followed from. Its known members are stored; new
coverage joins it when it is on the same story as one of them by the digest's own rule
(:mod:`digest.cluster`): related links either way, a shared related link, near-identical
titles (:mod:`digest.titles`), closed transitively, so an article that only links to
another new one on the story joins too.

Finding the members worth comparing is storage's (an index lookup per new article, never
a pass over every followed story): :func:`shared_words_needed` says how many of a new
title's words a member with a near-identical title has. Pure: values in, values out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from digest.assemble import provider_key
from digest.cluster import cluster_stories
from digest.model import Candidate
from digest.quiet import quiet_end
from digest.titles import max_deletions, title_tokens, titles_match

UPDATE_GAP = timedelta(hours=3)  # at most one update per story per follower in this time
EXPIRY = timedelta(days=14)  # a story without news this long is unfollowed by itself
MAX_FOLLOWS = 20  # stories one chat may follow at once
# -- matching ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoryMember:
    """A stored article known to be on followed story ``story_id`` (its lead's id)."""

    story_id: int
    article: Candidate


def title_words(title: str) -> frozenset[str]:
    """The normalised words of a title, as :func:`digest.titles.titles_match` compares them."""
    return frozenset(title_tokens(title))


def shared_words_needed(words: frozenset[str]) -> int:
    """How many of a title's distinct ``words`` a near-identical title has at least.

    Jaccard >= 4/5 means sharing at least 4/5 of the union, so at least
    ``ceil(4/5 · n)`` of these ``n`` (all of them for a title of one or two words, which
    only an equal title matches). Storage counts shared words per member in its word
    index and compares only those with enough.
    """
    return len(words) - max_deletions(len(words))


def new_coverage(
    members: Sequence[StoryMember], new: Sequence[Candidate]
) -> dict[int, tuple[int, ...]]:
    """Per followed story, the ids of the ``new`` articles on it (ascending).

    A new article is on a story when it, or a new article in its cluster (the digest's
    rule among the new articles), is on the same story as one of the story's members by
    that rule: a link either way, a shared related link, a near-identical title. Members
    are only compared with new articles, never with each other: two followed stories that
    happen to share an old link stay two stories. ``members``: those that may match (a
    superset is fine). A new article already a member of a story is not new to it.
    """
    if not members or not new:
        return {}
    clusters = cluster_stories(new)
    by_key: dict[str, list[int]] = {}  # a URL a new article is or links -> those articles
    by_word: dict[str, list[int]] = {}
    for i, c in enumerate(new):
        for key in (c.url, *c.related_urls):
            by_key.setdefault(key, []).append(i)
        for word in title_words(c.title):
            by_word.setdefault(word, []).append(i)
    stories_of: dict[int, set[int]] = {}  # new cluster -> stories it joins
    for member in members:
        m = member.article
        hits = {i for key in (m.url, *m.related_urls) for i in by_key.get(key, ())}
        near = {i for word in title_words(m.title) for i in by_word.get(word, ())} - hits
        hits.update(i for i in near if titles_match(m.title, new[i].title))
        for i in hits:
            stories_of.setdefault(clusters[i], set()).add(member.story_id)
    known = {(m.story_id, m.article.id) for m in members}
    found: dict[int, set[int]] = {}
    for article, cluster in zip(new, clusters, strict=True):
        for story_id in stories_of.get(cluster, ()):
            if (story_id, article.id) not in known:
                found.setdefault(story_id, set()).add(article.id)
    return {story_id: tuple(sorted(ids)) for story_id, ids in sorted(found.items())}


# -- when a follower hears -----------------------------------------------------------------


def update_due(last_update_at: datetime | None, now: datetime) -> bool:
    """True when the follower may hear of the story again (none in the last 3 hours)."""
    return last_update_at is None or now - last_update_at >= UPDATE_GAP


def is_expired(last_news_at: datetime, followed_at: datetime, now: datetime) -> bool:
    """A follow ends after 14 days without news (counted from the follow when it is later)."""
    return now - max(last_news_at, followed_at) >= EXPIRY


class QuietAction(StrEnum):
    SEND = "send"
    SILENT = "silent"  # quiet hours, silent mode: sent without sound
    HOLD = "hold"  # quiet hours, hold mode: not yet (news gathers for one later update)


def quiet_action(
    start: time | None, end: time | None, *, hold: bool, zone: ZoneInfo, now: datetime
) -> QuietAction:
    """What the reader's quiet hours (local ``start``-``end``) make of an update ``now``.

    As for breaking pushes: silent mode sends without sound; hold mode waits until the
    window ends, and the update then carries everything that came meanwhile."""
    if start is None or end is None or start == end:
        return QuietAction.SEND
    if quiet_end(start, end, zone, now) is None:
        return QuietAction.SEND
    return QuietAction.HOLD if hold else QuietAction.SILENT


# -- how an update reads -------------------------------------------------------------------


def source_of(article: Candidate) -> str:
    """Who published it: the provider's name, else the link's host."""
    if article.provider.strip():
        return article.provider
    return urlsplit(article.web_url).hostname or ""


def count_sources(articles: Iterable[Candidate]) -> int:
    """Distinct sources among ``articles`` (one provider's several articles count once)."""
    return len({provider_key(source_of(a)) or f"#{a.id}" for a in articles})


@dataclass(frozen=True, slots=True)
class StoryNews:
    """One followed story's update: its newest new article and how many sources are new."""

    story_id: int
    headline: str
    web_url: str
    source: str
    new_sources: int


def story_news(story_id: int, new: Sequence[Candidate]) -> StoryNews:
    """The update for ``new`` (non-empty) coverage of a story: the latest article leads."""
    latest = max(new, key=lambda a: (a.ingested_at, a.published_at, a.id))
    return StoryNews(story_id, latest.title, latest.web_url, source_of(latest), count_sources(new))


@dataclass(frozen=True, slots=True)
class FollowedStory:
    """A story a chat follows, as /following lists it."""

    story_id: int  # the lead article's id
    title: str  # "" when the lead is no longer stored
    web_url: str
    sources: int  # known coverage: the stored articles on it
    followed_at: datetime
    last_news_at: datetime
