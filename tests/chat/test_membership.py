"""Handlers: Help, fallbacks, and blocking the bot (my_chat_member)."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from storage.db import utcnow
from storage.outbox import delivered_to, outbox_counts
from storage.readers import get_reader
from tests.chat.harness import ADMIN_ID, OTHER, READER, Offline, reader
from tests.factories import article, store_articles


async def test_help_shows_admin_commands_to_admins_only(offline: Offline) -> None:
    reader_help = await offline.reply(READER, "/help")
    admin_help = await offline.reply(ADMIN_ID, "/help")
    assert "/topics" in reader_help.text and "/breaking" not in reader_help.text
    assert "/breaking" in admin_help.text and "/stats" in admin_help.text


@pytest.mark.parametrize("text", ["hello there", "/frobnicate", "/start2"])
async def test_unknown_text_points_to_help(offline: Offline, db: Database, text: str) -> None:
    answer = await offline.reply(READER, text)
    assert answer.text == "I did not understand that. /help lists what I can do."
    assert get_reader(db, READER) is None


async def test_blocking_the_bot_marks_the_reader_blocked_and_drops_the_queue(
    offline: Offline, db: Database
) -> None:
    store_articles(
        db,
        article("One", "https://example.com/1", now=utcnow()),
        article("Two", "https://example.com/2", now=utcnow()),
        at=utcnow(),
    )
    await offline.start(READER)
    await offline.send(READER, "/digest")
    queued = outbox_counts(db)["pending"]
    assert queued >= 1 and delivered_to(db, READER)

    assert await offline.member_change(READER, "member", "kicked") == []
    assert reader(db).status == "blocked"
    counts = outbox_counts(db)
    assert (counts["pending"], counts["dropped"], counts["sent"]) == (0, queued, 0)
    assert delivered_to(db, READER) == set()  # the articles can reach them again later

    await offline.member_change(READER, "kicked", "member")
    assert reader(db).status == "active"


async def test_a_block_from_an_unknown_chat_changes_nothing(offline: Offline, db: Database) -> None:
    assert await offline.member_change(OTHER, "member", "kicked") == []
    assert get_reader(db, OTHER) is None
