"""One ranked pool of recent articles, kept between scans so ``/digest`` need not build one.

Building a :class:`~digest.assemble.DigestPool` reads, ranks and clusters every article in
the readers' windows: seconds with 50,000 fresh wire articles, far too long for an
answer, and it used to happen on the answers' thread at every ``/digest``. The pool only
changes when the articles do, so one is kept in memory and every on-demand digest
assembles from it, filtered by the reader's window, topics and deliveries as before.

* It is kept fresh by the store's article revision
  (:func:`storage.candidates.article_revision`), which every writer moves - this
  process's scans, ``newsdigest ingest`` in another, pruning.
* It is built on a thread and connection of its own: after each scan
  (:func:`bot.jobs.job_scan` calls :meth:`PoolCache.refresh`), and when a ``/digest``
  finds it stale. Answers never build it, and a ``/digest`` that must wait for a build
  does not also wait for a scan or a tick.
* It holds every active reader's window (:func:`storage.schedules.earliest_active_window`),
  so one pool serves them all.

What this can change compared with a pool built for each ``/digest``: stories are
clustered over the span of all readers' windows rather than over one reader's (as the
tick's shared pool always did), and the pool is ranked at its build time, at most
:data:`MAX_RANK_AGE` earlier. Ranking at another time keeps the order of articles
published before both times (their scores all scale by the same factor); an article
published in between ranks as if a little older, by at most that age.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlite_utils import Database

from bot.db_thread import DbThread
from bot.delivery.digest_queue import OnDemand, queue_digest_now
from digest.assemble import DigestPool
from digest.model import Candidate
from storage.candidates import article_revision, candidates_since
from storage.readers import Reader
from storage.schedules import earliest_active_window

_LOGGER = logging.getLogger(__name__)
MAX_RANK_AGE = timedelta(minutes=10)


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused for a block that makes many small objects.

    Reading and building a pool makes hundreds of thousands of small containers
    (candidates, token lists and sets, lookup keys), and every few hundred of them the
    collector runs; with a big heap its full passes walk all of it - a fifth of a pool
    build at 50,000 articles, a tenth of reading them. Nothing made there needs it:
    what is dropped is freed by reference counting. Resumed only by the block that
    paused it, so concurrent blocks at worst let it run during theirs.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_pool(
    cands: Iterable[Candidate], now: datetime, *, max_age: timedelta | None
) -> DigestPool:
    """``DigestPool(cands, now, max_age=...)`` with the collector paused
    (:func:`collector_paused`)."""
    with collector_paused():
        return DigestPool(cands, now, max_age=max_age)


def pool_since(
    db: Database, since: datetime, now: datetime, *, max_age: timedelta | None
) -> DigestPool:
    """The pool of every article ingested after ``since``, read and built with the
    collector paused; fresh means published at most ``max_age`` before ``now``."""
    with collector_paused():
        return DigestPool(candidates_since(db, since), now, max_age=max_age)


@dataclass(frozen=True, slots=True)
class PoolSnapshot:
    """A pool and what it holds: every article ingested after ``since`` at ``revision``."""

    pool: DigestPool
    since: datetime
    revision: int
    ranked_at: datetime

    def serves(self, since: datetime, now: datetime) -> bool:
        """Holds a window starting at ``since`` and is ranked recently enough for ``now``."""
        return since >= self.since and abs(now - self.ranked_at) <= MAX_RANK_AGE


class PoolCache:
    """The kept pool and the thread that builds it; opened in ``post_init``."""

    def __init__(self, path: Path, *, max_age: timedelta | None) -> None:
        self._thread = DbThread(path, name="pools", migrate=False)
        # NEWSDIGEST_MAX_AGE: "fresh" is judged at the build, at most MAX_RANK_AGE ago.
        self._max_age = max_age
        self._snapshot: PoolSnapshot | None = None
        self.builds = 0  # pools built so far

    def __repr__(self) -> str:
        return f"PoolCache({self._thread!r}, builds={self.builds})"

    async def open(self) -> None:
        await self._thread.open()

    async def close(self) -> None:
        self._snapshot = None
        await self._thread.close()

    @property
    def kept(self) -> PoolSnapshot | None:
        return self._snapshot

    async def refresh(self, now: datetime) -> None:
        """Rebuild the pool if the articles changed or its ranking is old (after a scan)."""
        await self._thread.run(self._fresh, None, now)

    async def pool_for(self, db: DbThread, since: datetime, now: datetime) -> PoolSnapshot:
        """A pool holding the store's articles ingested after ``since``, as they are now.

        The kept one if it serves (one revision read on ``db``), else one built on the
        cache's own thread.
        """
        kept = self._snapshot
        if (
            kept is not None
            and kept.serves(since, now)
            and await db.run(article_revision) == kept.revision
        ):
            return kept
        return await self._thread.run(self._fresh, since, now)

    def _fresh(self, db: Database, since: datetime | None, now: datetime) -> PoolSnapshot:
        """On the cache's thread: the kept pool if still good, else a new one."""
        # Read first: whatever is written after this makes the next check build again.
        revision = article_revision(db)
        kept = self._snapshot
        wanted = now if since is None else since
        if kept is not None and kept.revision == revision and kept.serves(wanted, now):
            return kept
        # Whoever would still use the old pool now waits for this one: let it go first,
        # so that two pools are never in memory at once.
        self._snapshot = None
        start = earliest_active_window(db, now)
        if since is not None and since < start:
            start = since
        started = time.monotonic()
        snapshot = PoolSnapshot(
            pool_since(db, start, now, max_age=self._max_age), start, revision, now
        )
        self._snapshot = snapshot
        self.builds += 1
        _LOGGER.debug(
            "digest pool built: %d articles since %s in %.2f s",
            len(snapshot.pool), start.isoformat(timespec="seconds"), time.monotonic() - started,
        )  # fmt: skip
        return snapshot


async def queue_on_demand(
    db: DbThread,
    pools: PoolCache | None,
    reader: Reader,
    now: datetime,
    *,
    max_age: timedelta | None,
) -> OnDemand:
    """``/digest`` for ``reader`` from the kept pool; without a cache, a pool of its own."""
    if pools is None:
        return await db.run(queue_digest_now, reader, now, max_age=max_age)
    kept = await pools.pool_for(db, reader.window_start(now), now)
    return await db.run(
        queue_digest_now, reader, now, max_age=max_age, pool=kept.pool, revision=kept.revision
    )
