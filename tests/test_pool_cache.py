"""The kept digest pool: reused while the articles stay the same, rebuilt when they change."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.db_thread import DbThread
from bot.delivery.digest_queue import queue_digest_now
from bot.delivery.pool_cache import MAX_RANK_AGE, PoolCache, build_pool, queue_on_demand
from digest.assemble import DigestPool
from storage.candidates import article_revision, candidates_since
from storage.db import to_db_time
from storage.outbox import delivered_to
from storage.readers import get_reader
from tests.factories import NOW, article, candidate, store_articles, subscribe_reader


@pytest.fixture
async def store(db: Database, db_path: Path) -> AsyncIterator[DbThread]:
    thread = DbThread(db_path, name="answers", migrate=False)
    await thread.open()
    yield thread
    await thread.close()


@pytest.fixture
async def pools(db: Database, db_path: Path) -> AsyncIterator[PoolCache]:
    cache = PoolCache(db_path, max_age=None)
    await cache.open()
    yield cache
    await cache.close()


def test_the_article_revision_moves_with_every_write(db: Database) -> None:
    seen = [article_revision(db)]
    (first,) = store_articles(db, article("One zq1", "https://news.example/1", ["AI"]), at=NOW)
    seen.append(article_revision(db))
    store_articles(db, article("One, retitled zq1", "https://news.example/1", ["AI"]), at=NOW)
    seen.append(article_revision(db))
    db.execute("DELETE FROM article_topics WHERE article_id = ?", (first,))
    db.execute("DELETE FROM articles WHERE id = ?", (first,))
    seen.append(article_revision(db))
    assert len(set(seen)) == len(seen)
    # Writes elsewhere leave it alone.
    subscribe_reader(db, 7, at=NOW)
    assert article_revision(db) == seen[-1]


async def test_a_kept_pool_serves_until_the_articles_change(
    db: Database, store: DbThread, pools: PoolCache
) -> None:
    store_articles(db, article("One zq1", "https://news.example/1", ["AI"]), at=NOW)
    since = NOW - timedelta(hours=1)
    first = await pools.pool_for(store, since, NOW)
    again = await pools.pool_for(store, since, NOW + timedelta(minutes=1))
    assert again is first and pools.builds == 1
    store_articles(db, article("Two zq2", "https://news.example/2", ["AI"]), at=NOW)
    changed = await pools.pool_for(store, since, NOW + timedelta(minutes=2))
    assert pools.builds == 2
    assert sorted(c.title for c in changed.pool.articles) == ["One zq1", "Two zq2"]


async def test_the_pool_holds_every_active_readers_window(
    db: Database, store: DbThread, pools: PoolCache
) -> None:
    subscribe_reader(db, 7, at=NOW)
    three_days = NOW - timedelta(days=3)
    db.execute("UPDATE readers SET digest_since = ? WHERE chat_id = 7", (to_db_time(three_days),))
    store_articles(
        db, article("Old zq1", "https://news.example/1", ["AI"]), at=NOW - timedelta(days=2)
    )
    await pools.refresh(NOW)
    kept = pools.kept
    assert kept is not None and kept.since == three_days
    assert [c.title for c in kept.pool.articles] == ["Old zq1"]
    # A reader whose window starts later is served by it without a build.
    assert await pools.pool_for(store, NOW - timedelta(hours=5), NOW) is kept
    assert pools.builds == 1


async def test_a_window_older_than_the_pool_rebuilds_it(
    db: Database, store: DbThread, pools: PoolCache
) -> None:
    store_articles(
        db, article("Old zq1", "https://news.example/1", ["AI"]), at=NOW - timedelta(days=2)
    )
    await pools.refresh(NOW)
    assert pools.kept is not None and pools.kept.since == NOW - timedelta(days=1)
    wider = await pools.pool_for(store, NOW - timedelta(days=3), NOW)
    assert pools.builds == 2 and wider.since == NOW - timedelta(days=3)
    assert [c.title for c in wider.pool.articles] == ["Old zq1"]


async def test_a_pool_ranked_long_ago_is_rebuilt(
    db: Database, store: DbThread, pools: PoolCache
) -> None:
    store_articles(db, article("One zq1", "https://news.example/1", ["AI"]), at=NOW)
    await pools.refresh(NOW)
    await pools.refresh(NOW + MAX_RANK_AGE)
    assert pools.builds == 1
    await pools.refresh(NOW + MAX_RANK_AGE + timedelta(seconds=1))
    assert pools.builds == 2
    kept = pools.kept
    assert kept is not None and kept.ranked_at == NOW + MAX_RANK_AGE + timedelta(seconds=1)


async def test_on_demand_sees_an_article_stored_after_the_pool(
    db: Database, store: DbThread, pools: PoolCache
) -> None:
    (first,) = store_articles(db, article("One zq1", "https://news.example/1", ["AI"]), at=NOW)
    reader = subscribe_reader(db, 7, at=NOW - timedelta(minutes=1))
    done = await queue_on_demand(store, pools, reader, NOW + timedelta(seconds=1), max_age=None)
    assert done.queued == 1
    (second,) = store_articles(
        db, article("Two zq2", "https://news.example/2", ["AI"]), at=NOW + timedelta(seconds=2)
    )
    reader = get_reader(db, 7)
    assert reader is not None
    done = await queue_on_demand(store, pools, reader, NOW + timedelta(seconds=3), max_age=None)
    assert done.queued == 1
    assert delivered_to(db, 7) == {first, second}


def test_a_pool_the_store_has_moved_past_leaves_the_window(db: Database) -> None:
    # The pool was read; an article arrives before the digest is written. The digest goes
    # out with what the pool held, and the window stays, so the new article is still new.
    store_articles(db, article("One zq1", "https://news.example/1", ["AI"]), at=NOW)
    reader = subscribe_reader(db, 7, at=NOW - timedelta(minutes=1))
    window = reader.window_start(NOW)
    pool, revision = DigestPool(candidates_since(db, window), NOW), article_revision(db)
    store_articles(db, article("Two zq2", "https://news.example/2", ["AI"]), at=NOW)
    done = queue_digest_now(db, reader, NOW, pool=pool, revision=revision)
    assert done.queued == 1
    after = get_reader(db, 7)
    assert after is not None and after.digest_since == window
    # With the store as the pool held it, the window moves to now as before.
    pool, revision = DigestPool(candidates_since(db, window), NOW), article_revision(db)
    done = queue_digest_now(db, after, NOW, pool=pool, revision=revision)
    assert done.queued == 1
    moved = get_reader(db, 7)
    assert moved is not None and moved.digest_since == NOW


@pytest.mark.parametrize("enabled", [True, False])
def test_building_a_pool_leaves_the_collector_as_it_was(enabled: bool) -> None:
    (gc.enable if enabled else gc.disable)()
    try:
        pool = build_pool([candidate(i) for i in range(5)], NOW, max_age=None)
        assert len(pool) == 5
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
