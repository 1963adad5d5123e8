"""Handlers: /related and the story buttons."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from storage.db import utcnow
from tests.chat.harness import READER, Offline
from tests.factories import article, store_articles


@pytest.mark.parametrize("command", ["/related", "/related    "])
async def test_related_without_words_explains_the_usage(offline: Offline, command: str) -> None:
    answer = await offline.reply(READER, command)
    assert answer.text.startswith("Which story?")
    assert "<code>/related https://example.com/story</code>" in answer.text


async def test_related_by_link_lists_the_stored_related_coverage(
    offline: Offline, db: Database
) -> None:
    store_articles(
        db,
        article(
            "Facial recognition ban endorsed",
            "https://example.com/ban",
            related=[("Schools await a decision", "https://other.example/schools")],
        ),
        at=utcnow(),
    )
    answer = await offline.reply(READER, "/related https://www.example.com/ban/?utm_source=x")
    shown = answer.result["text"]
    assert shown.startswith("Related coverage: Facial recognition ban endorsed")
    assert "Schools await a decision" in shown
    assert 'href="https://other.example/schools"' in answer.text


async def test_related_by_words_and_misses(offline: Offline, db: Database) -> None:
    store_articles(
        db,
        article("Facial recognition ban endorsed", "https://example.com/ban"),
        article("Chips get faster", "https://example.com/chips"),
        at=utcnow(),
    )
    hit = await offline.reply(READER, "/related facial recognition")
    assert "Facial recognition ban endorsed" in hit.result["text"]
    assert "Chips get faster" not in hit.result["text"]
    miss = await offline.reply(READER, "/related https://example.com/not-stored")
    assert "I have no article stored at that link" in miss.text
    nothing = await offline.reply(READER, "/related <zebra> quagga")
    assert "Nothing matches “&lt;zebra&gt; quagga”" in nothing.text


async def test_related_button_answers_and_sends_the_coverage(
    offline: Offline, db: Database
) -> None:
    (article_id,) = store_articles(
        db,
        article(
            "Ban endorsed",
            "https://example.com/ban",
            related=[("Other take", "https://other.example/take")],
        ),
        at=utcnow(),
    )
    start = await offline.start(READER)
    message_id = start.result["message_id"]
    # Digest messages carry rel:<id> buttons; the button works from any message.
    answer, calls = await offline.press(READER, message_id, f"rel:{article_id}", on_keyboard=False)
    assert answer.params.get("text") is None
    (sent,) = [c for c in calls if c.method == "sendMessage"]
    assert "Other take" in sent.result["text"]
    answer, calls = await offline.press(READER, message_id, "rel:99999", on_keyboard=False)
    assert answer.params["text"] == "That story is no longer stored."
    assert [c.method for c in calls] == ["answerCallbackQuery"]
