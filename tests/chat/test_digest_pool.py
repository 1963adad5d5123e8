"""/digest from the kept pool: the scan builds it, answers reuse it, new articles renew it."""

from __future__ import annotations

from sqlite_utils import Database

from bot.context import BotContext
from bot.jobs import job_scan
from storage.db import utcnow
from storage.outbox import pending_batch
from tests.chat.harness import READER, Offline
from tests.factories import article, store_articles, write_article


async def test_the_scan_builds_the_pool_and_digest_uses_it(offline: Offline, db: Database) -> None:
    pools = offline.services.pools
    assert pools is not None
    folder = offline.services.settings.articles_dir
    folder.mkdir()
    write_article(
        folder, "one.md", title="Chips get faster", url="https://example.com/chips", now=utcnow()
    )
    await offline.reply(READER, "/start")
    await job_scan(BotContext(offline.application))
    assert pools.builds == 1 and pools.kept is not None
    assert [c.title for c in pools.kept.pool.articles] == ["Chips get faster"]

    assert await offline.send(READER, "/digest") == []
    assert pools.builds == 1  # the answer assembled from the scan's pool
    (message,) = pending_batch(db, utcnow(), limit=10)
    assert "Chips get faster" in message.text

    # Stored by another writer (not this process's scan): the next /digest sees it.
    store_articles(
        db, article("Robots learn to walk", "https://example.net/robots", now=utcnow()), at=utcnow()
    )
    assert await offline.send(READER, "/digest") == []
    assert pools.builds == 2
    texts = [m.text for m in pending_batch(db, utcnow(), limit=10)]
    assert len(texts) == 2 and "Robots learn to walk" in texts[1]
    assert "Chips get faster" not in texts[1]  # delivered already
