"""Handlers: /digest: queued through the outbox."""

from __future__ import annotations

from sqlite_utils import Database

from storage.db import utcnow
from storage.outbox import PRIORITY_ANSWER, delivered_to, outbox_counts, pending_batch
from storage.topics import toggle_topic
from tests.chat.harness import READER, Offline, count, reader
from tests.factories import article, store_articles, topic_id


async def test_digest_with_no_articles_says_nothing_new(offline: Offline, db: Database) -> None:
    await offline.start(READER)
    answer = await offline.reply(READER, "/digest")
    assert answer.text.startswith("Nothing new since ")
    assert count(db, "SELECT count(*) FROM outbox") == 0


async def test_digest_queues_an_answer_row_and_reserves_the_articles(
    offline: Offline, db: Database
) -> None:
    ids = store_articles(
        db,
        article("Chips get faster", "https://example.com/chips", ["AI"], now=utcnow()),
        article("Privacy rules tighten", "https://example.org/privacy", ["Privacy"], now=utcnow()),
        article("Robots learn to walk", "https://example.net/robots", ["AI"], now=utcnow()),
        at=utcnow(),
    )
    await offline.start(READER)
    calls = await offline.send(READER, "/digest")
    # The digest goes through the outbox (the sender delivers it), not as a direct reply.
    assert [c.method for c in calls] == []
    queued = pending_batch(db, utcnow(), limit=100)
    assert queued and all(
        (m.chat_id, m.priority, m.kind) == (READER, PRIORITY_ANSWER, "digest") for m in queued
    )
    text = "\n".join(m.text for m in queued)
    for title in ("Chips get faster", "Privacy rules tighten", "Robots learn to walk"):
        assert title in text
    # Each entry's 🔗 button names its article by id; the last row opens the mute menu.
    buttons = [b.callback_data for m in queued for row in m.keyboard for b in row]
    assert sorted(buttons) == sorted([*(f"st:{i}" for i in ids), f"ms:{READER}"])
    assert delivered_to(db, READER) == set(ids)
    assert reader(db).last_digest_at is not None

    again = await offline.reply(READER, "/digest")
    assert again.text.startswith("Nothing new since ")
    assert outbox_counts(db)["pending"] == len(queued)


async def test_digest_keeps_to_the_readers_topics(offline: Offline, db: Database) -> None:
    store_articles(
        db,
        article("AI one", "https://example.com/ai1", ["AI"], now=utcnow()),
        article("Privacy one", "https://example.com/p1", ["Privacy"], now=utcnow()),
        at=utcnow(),
    )
    await offline.start(READER)
    toggle_topic(db, READER, topic_id(db, "Privacy"))
    assert await offline.send(READER, "/digest") == []
    (message,) = pending_batch(db, utcnow(), limit=100)
    assert "Privacy one" in message.text and "AI one" not in message.text
