"""Assemble per-reader digests from one shared, precomputed pool.

A tick has thousands of new articles and up to ~100,000 readers, so everything that does
not depend on the reader is done once in :class:`DigestPool` and each reader's digest is
a handful of big-int bit operations:

* Every article gets a bit by rank (bit 0 = best). A reader's eligible set is
  ``OR(topic masks) & ingested-after-since mask & ~excluded bits``; walking set bits
  from the lowest visits articles best first.
* Articles of one story (see :mod:`digest.cluster`) share a cluster mask, so the first
  eligible member leads and the walk removes the whole cluster in one step; the other
  eligible members become the entry's "also" links.
* ``more`` (stories not shown) must count distinct stories, not articles. A second bit
  layout places each cluster's members in adjacent bits; there, "does this cluster have
  an eligible member" for all clusters at once is one addition: adding ``LOW`` (all but
  each block's top bit) to ``eligible & LOW`` carries into a block's top bit exactly when
  some lower bit of that block is set, and no carry leaves a block. So::

      stories = popcount((((E & LOW) + LOW) | E) & TOP)

  which equals popcount(E) minus the eligible non-best members whose better member is
  also eligible, computed without looking at individual clusters.

A reader's own filters are more masks of the same two layouts: "fresh" (published no longer
than ``max_age`` ago; a future date counts from arrival), one per provider (muted sources),
and one per keyword term (:class:`digest.keywords.TermIndex`, built on first use and shared
by every reader of the pool). A muted or filtered article simply is not eligible, so the
best eligible member of its story leads instead.

Variety: a digest gives at most :data:`PROVIDER_CAP` entries to one provider while other
providers have stories to fill it. When a provider reaches the cap, its articles leave the
walk in one and-not (a story it led may still come, led by another provider's coverage);
only if the walk then runs dry are its further stories taken, after the others.

Votes: a reader's :class:`digest.votes.VoteWeights` multiply the scores of the best
``OVERSAMPLE * cap`` stories, which are then chosen from again (the same provider cap),
so a reader's taste reorders their digest without filtering it: every topic their
digest would show without votes keeps at least its best story.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from digest.bits import mask as _mask
from digest.bits import mask_pair, masks_by_key, suffix_masks
from digest.bits import union as _union
from digest.cluster import cluster_stories
from digest.keywords import KeywordFilter, Searchable, TermIndex, fold
from digest.model import Candidate
from digest.rank import rank_scored
from digest.variety import PROVIDER_CAP, reorder_by_votes
from digest.votes import VoteWeights

OVERSAMPLE = 3  # a voter's digest is chosen from the best OVERSAMPLE * cap stories
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    # Exact integer instants: cheaper to bisect than aware datetimes, with none of the
    # rounding a float timestamp would bring at the boundary.
    return (moment - _EPOCH) // _MICROSECOND


@dataclass(frozen=True, slots=True)
class Entry:
    """One story in a digest: the best eligible article and other eligible coverage."""

    lead: Candidate
    also: tuple[Candidate, ...] = ()


class _Story(NamedTuple):
    """A story the walk found: its lead's bit, the entry, and every article id it shows.

    A named tuple: one is made per entry of every reader's digest, and a tuple is the
    cheapest value to make."""

    bit: int
    entry: Entry
    shown: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class NothingNew:
    """Why a digest came out empty: of the articles that arrived in the reader's topics
    since their last digest, how many were too old, filtered out, or already sent."""

    arrived: int
    too_old: int
    filtered: int  # keywords or muted sources
    seen: int  # already in an earlier digest or push


@dataclass(frozen=True, slots=True)
class Digest:
    """A reader's digest: shown stories, how many more there are, and every article shown."""

    entries: tuple[Entry, ...]
    more: int
    article_ids: frozenset[int]
    # Set when there are no entries; an explanation, not part of what the digest is.
    nothing: NothingNew | None = field(default=None, compare=False)


def provider_key(name: str) -> str:
    """How a provider name is compared (a muted "Reuters" is "reuters", "REUTERS")."""
    return fold(" ".join(name.split()))


class DigestPool:
    """Ranked, clustered, bit-indexed candidates of one tick; assembles digests."""

    __slots__ = (
        "_all",
        "_all_pos",
        "_articles",
        "_cluster_mask",
        "_fresh",
        "_full_entry",
        "_full_ids",
        "_id_bits",
        "_ids",
        "_low",
        "_pos",
        "_provider_of",
        "_providers",
        "_scores",
        "_since",
        "_since_pos",
        "_solo",
        "_terms",
        "_times",
        "_top",
        "_topic_masks",
    )

    def __init__(
        self, cands: Iterable[Candidate], now: datetime, *, max_age: timedelta | None = None
    ) -> None:
        """``max_age``: articles published longer ago are not new (None: any age)."""
        ranked, scores = rank_scored(cands, now)
        n = len(ranked)
        self._scores = scores
        self._articles: tuple[Candidate, ...] = tuple(ranked)
        cluster_ids = cluster_stories(ranked)

        # Members per cluster in rank order; dict order = order of each cluster's best.
        members: dict[int, list[int]] = {}
        for bit, cid in enumerate(cluster_ids):
            members.setdefault(cid, []).append(bit)

        # Cluster layout: each cluster a block of adjacent positions (see module doc).
        pos = [0] * n
        tops: list[int] = []
        start = 0
        for group in members.values():
            for offset, bit in enumerate(group):
                pos[bit] = start + offset
            start += len(group)
            tops.append(start - 1)
        # LOW is every position but the blocks' tops. Built as masks, not by OR-ing one
        # block at a time, which copies an n-bit int per cluster.
        top = _mask(tops, n)
        self._low, self._top = ((1 << n) - 1) ^ top, top

        self._cluster_mask = [0] * n  # rank layout; 0 for a story with one article
        # Entries are immutable, so the ones that do not depend on the reader are built
        # once: each article alone (when it is first shown), and here each cluster's best
        # with all its mates (the entry whenever the whole cluster is eligible).
        self._ids = [c.id for c in ranked]
        self._solo: list[Entry | None] = [None] * n
        self._full_entry: dict[int, Entry] = {}
        self._full_ids: dict[int, tuple[int, ...]] = {}
        for group in members.values():
            if len(group) > 1:
                mask = _mask(group, n)
                for b in group:
                    self._cluster_mask[b] = mask
                best = group[0]
                self._full_entry[best] = Entry(ranked[best], tuple(ranked[b] for b in group[1:]))
                self._full_ids[best] = tuple(ranked[b].id for b in group)

        self._all = (1 << n) - 1
        self._all_pos = self._all
        # Bit numbers, not masks: a mask per article would be n bits each, n²/8 bytes in all.
        self._pos = pos
        self._id_bits = {c.id: bit for bit, c in enumerate(ranked)}

        self._topic_masks = masks_by_key((c.topic_ids for c in ranked), pos, n)
        # "Ingested after T" = a suffix of the articles sorted by ingestion time, one mask
        # per distinct instant (a tick ingests in batches, so there are few of them).
        # since[k] holds the articles ingested strictly after times[k - 1]; since[0] is all.
        self._times, self._since, self._since_pos = suffix_masks(
            [_micros(c.ingested_at) for c in ranked], pos
        )
        # Fresh: published at most max_age ago, a future date counting from the arrival.
        oldest = None if max_age is None else now - max_age
        fresh = [
            bit
            for bit, c in enumerate(ranked)
            if oldest is None or min(c.published_at, c.ingested_at) >= oldest
        ]
        self._fresh = mask_pair(fresh, pos, n)
        self._provider_of = [provider_key(c.provider) if c.provider else "" for c in ranked]
        self._providers = masks_by_key(((k,) if k else () for k in self._provider_of), pos, n)
        self._terms: TermIndex | None = None  # built by the first reader with keywords

    def _term_index(self) -> TermIndex:
        if self._terms is None:
            texts = [Searchable.of(c.title, c.excerpt) for c in self._articles]
            self._terms = TermIndex(texts, self._pos)
        return self._terms

    def __len__(self) -> int:
        return len(self._articles)

    def _alone(self, bit: int) -> Entry:
        # Kept for the next reader. Another thread assembling at the same time may make
        # an equal one: harmless, entries are values.
        entry = self._solo[bit] = Entry(self._articles[bit], ())
        return entry

    @property
    def articles(self) -> tuple[Candidate, ...]:
        """The pool's candidates, best first (index = bit)."""
        return self._articles

    def assemble(
        self,
        topic_ids: frozenset[int],
        since: datetime,
        exclude_ids: Collection[int] = (),
        cap: int = 10,
        *,
        keywords: KeywordFilter | None = None,
        muted: Collection[str] = (),
        newest_first: bool = False,
        weights: VoteWeights | None = None,
    ) -> Digest:
        """The digest for one reader.

        Eligible: in one of ``topic_ids`` (any topic when empty; unknown ids add nothing),
        ingested strictly after ``since``, fresh (see ``max_age``), admitted by
        ``keywords``, from none of the ``muted`` providers (:func:`provider_key`), and not
        in ``exclude_ids``. At most ``cap`` stories, best first (``newest_first``: the same
        stories, the most recently published first), each with its other eligible coverage.
        At most PROVIDER_CAP stories per provider while others fill the digest; ``weights``:
        the reader's votes (see the module doc).
        """
        if topic_ids:
            elig, elig_pos = _union(self._topic_masks, topic_ids)
        else:
            elig, elig_pos = self._all, self._all_pos
        k = bisect_right(self._times, _micros(since))
        elig &= self._since[k]
        elig_pos &= self._since_pos[k]
        arrived = elig
        fresh, fresh_pos = self._fresh
        elig &= fresh
        elig_pos &= fresh_pos
        recent = elig
        if muted:
            gone, gone_pos = _union(self._providers, muted)
            elig &= ~gone
            elig_pos &= ~gone_pos
        if keywords:
            terms = self._term_index()
            if keywords.include:
                wanted, wanted_pos = terms.union(keywords.include)
                elig &= wanted
                elig_pos &= wanted_pos
            if keywords.exclude:
                gone, gone_pos = terms.union(keywords.exclude)
                elig &= ~gone
                elig_pos &= ~gone_pos
        admitted = elig
        if exclude_ids:
            # The excluded bits in one mask first: one and-not on the big masks instead of
            # one per excluded article.
            id_bits = self._id_bits
            bits = [b for b in map(id_bits.get, exclude_ids) if b is not None]
            if bits:
                n = len(self._articles)
                elig &= ~_mask(bits, n)
                elig_pos &= ~_mask(map(self._pos.__getitem__, bits), n)
        if not elig:
            return Digest(
                (),
                0,
                frozenset(),
                NothingNew(
                    arrived=arrived.bit_count(),
                    too_old=(arrived & ~recent).bit_count(),
                    filtered=(recent & ~admitted).bit_count(),
                    seen=(admitted & ~elig).bit_count(),
                ),
            )

        if weights:
            stories = self._by_votes(elig, cap, weights, topic_ids)
        else:
            stories = self._walk(elig, cap, PROVIDER_CAP)
        entries = [story.entry for story in stories]
        shown = [a for story in stories for a in story.shown]
        more = 0
        if len(entries) >= cap:  # fewer: the walk ran dry, every story is shown
            low_mask = self._low
            count = ((((elig_pos & low_mask) + low_mask) | elig_pos) & self._top).bit_count()
            more = count - len(entries)
        if newest_first:
            entries.sort(key=lambda e: e.lead.published_at, reverse=True)
        return Digest(tuple(entries), more, frozenset(shown))

    def _story(self, low: int, elig: int) -> tuple[_Story, int]:
        """The story of the article at ``low`` (a one-bit mask) led by it, with its other
        eligible coverage; and the mask of all its eligible articles."""
        bit = low.bit_length() - 1
        mask = self._cluster_mask[bit]
        if not mask:  # a story with one article
            return _Story(bit, self._solo[bit] or self._alone(bit), (self._ids[bit],)), low
        mates = mask & elig
        if mates == low:
            return _Story(bit, self._solo[bit] or self._alone(bit), (self._ids[bit],)), low
        if mates == mask and mates & -mates == low:  # the whole story, led by its best
            return _Story(bit, self._full_entry[bit], self._full_ids[bit]), mates
        # Led by ``bit``: usually the best eligible member, but when a capped provider's
        # articles left the walk, a better one may be among the others.
        also: list[Candidate] = []
        rest = mates ^ low
        while rest:
            one = rest & -rest
            also.append(self._articles[one.bit_length() - 1])
            rest ^= one
        lead = self._articles[bit]
        return _Story(bit, Entry(lead, tuple(also)), (lead.id, *(c.id for c in also))), mates

    def _walk(self, elig: int, limit: int, per_provider: int) -> list[_Story]:
        """The best ``limit`` eligible stories, best first, at most ``per_provider`` led by
        one provider; only when the others run out, more of those, after them."""
        stories: list[_Story] = []
        walk = elig
        counts: dict[str, int] = {}
        capped = 0  # articles of the providers that reached the cap
        provider_of, providers = self._provider_of, self._providers
        while walk and len(stories) < limit:
            story, mates = self._story(walk & -walk, elig)
            walk &= ~mates
            stories.append(story)
            key = provider_of[story.bit]
            if key:
                count = counts[key] = counts.get(key, 0) + 1
                if count == per_provider:
                    gone = providers[key][0]
                    capped |= gone
                    walk &= ~gone
        if len(stories) < limit and capped:
            # Every eligible article of a story found is in ``shown``: a capped article
            # not among them starts a story not found yet.
            found = {a for story in stories for a in story.shown}
            rest = elig & capped
            ids = self._ids
            while rest and len(stories) < limit:
                low = rest & -rest
                if ids[low.bit_length() - 1] in found:
                    rest ^= low
                    continue
                story, mates = self._story(low, elig)
                rest &= ~mates
                stories.append(story)
        return stories

    def _by_votes(
        self, elig: int, cap: int, weights: VoteWeights, topic_ids: frozenset[int]
    ) -> list[_Story]:
        """``cap`` stories of the best OVERSAMPLE * cap, by the reader's weighted scores."""
        window = self._walk(elig, OVERSAMPLE * cap, OVERSAMPLE * PROVIDER_CAP)
        provider_of, scores, factor = self._provider_of, self._scores, weights.story_factor
        return reorder_by_votes(
            window,
            cap,
            provider=lambda s: provider_of[s.bit],
            topics=lambda s: s.entry.lead.topic_ids,
            weighted_score=lambda s: (
                scores[s.bit] * factor(s.entry.lead.topic_ids, provider_of[s.bit])
            ),
            topic_ids=topic_ids,
        )
