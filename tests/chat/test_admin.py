"""Handlers: /breaking and /stats: admins only."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from bot.chat.replies import NOT_ALLOWED
from storage.db import utcnow
from tests.chat.harness import ADMIN_ID, OTHER, READER, Offline, count
from tests.factories import article, store_articles


@pytest.mark.parametrize(
    "command", ["/breaking https://example.com/ban", "/breaking big news", "/stats"]
)
async def test_admin_commands_refuse_other_users(
    offline: Offline, db: Database, command: str
) -> None:
    store_articles(db, article("Ban endorsed", "https://example.com/ban"), at=utcnow())
    await offline.start(READER)
    answer = await offline.reply(READER, command)
    assert answer.text == NOT_ALLOWED
    assert count(db, "SELECT count(*) FROM pushes") == 0
    assert count(db, "SELECT count(*) FROM outbox") == 0


async def test_admin_stats_shows_the_figures(offline: Offline, db: Database) -> None:
    store_articles(
        db,
        article("One", "https://example.com/1", ["AI", "Privacy"]),
        article("Two", "https://example.com/2", ["AI"]),
        at=utcnow(),
    )
    await offline.start(READER)
    await offline.start(OTHER)
    await offline.reply(OTHER, "/stop")
    answer = await offline.reply(ADMIN_ID, "/stats")
    shown = answer.result["text"]
    assert "Readers: 1 active, 1 stopped, 0 blocked" in shown
    assert "Articles: 2 · topics: 2" in shown
    assert "Files rejected: 0" in shown
    assert "Outbox: 0 pending, 0 sent, 0 failed, 0 dropped, 0 expired" in shown
    assert "Last folder scan: never" in shown
    assert f"Next digests: {READER} at " in shown


async def test_admin_breaking_previews_then_cancel_sends_nothing(
    offline: Offline, db: Database
) -> None:
    store_articles(db, article("Ban endorsed", "https://example.com/ban", ["AI"]), at=utcnow())
    await offline.start(READER)
    calls = await offline.send(ADMIN_ID, "/breaking https://example.com/ban")
    preview, confirm = [c for c in calls if c.method == "sendMessage"]
    assert "Breaking" in preview.result["text"] and "Ban endorsed" in preview.result["text"]
    assert "every active reader" not in confirm.text and "<b>1</b>" in confirm.text
    assert confirm.button_labels == ["Send", "Cancel"]
    (push_id, status) = db.execute("SELECT id, status FROM pushes").fetchone()
    assert status == "preview"

    answer, _ = await offline.press(
        ADMIN_ID, confirm.result["message_id"], f"push:cancel:{push_id}"
    )
    assert answer.params["text"] == "Cancelled"
    assert count(db, "SELECT count(*) FROM outbox") == 0
    assert offline.message(ADMIN_ID, confirm.result["message_id"])["text"].startswith("Cancelled")
