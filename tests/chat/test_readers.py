"""Handlers: /start, /stop, /time, /timezone, /settings, /help and fallbacks."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot.chat.target import NOT_SUBSCRIBED, UNSUBSCRIBED
from storage.db import utcnow
from storage.readers import get_reader
from storage.topics import toggle_topic
from tests.chat.harness import (
    DEFAULT_TIME,
    DEFAULT_ZONE,
    OTHER,
    READER,
    Offline,
    assert_next_digest,
    count,
    reader,
)
from tests.factories import article, store_articles, topic_id


async def test_start_creates_an_active_reader_with_the_default_time_and_zone(
    offline: Offline, db: Database
) -> None:
    before = utcnow()
    answer = await offline.start(READER, first_name="<Ann & Bob>")
    found = reader(db)
    assert (found.status, found.digest_time, found.zone) == (
        "active",
        time(7, 15),
        ZoneInfo(DEFAULT_ZONE),
    )
    assert found.topic_ids == frozenset()
    assert_next_digest(found, DEFAULT_TIME, DEFAULT_ZONE, before)
    assert answer.button_labels[0] == "Pick topics"
    assert answer.callback_data[0] == f"tp:{READER}:0"
    assert f"zq:{READER}" in answer.callback_data  # the zone question's share-location button
    # The user's own name is untrusted too: escaped in the HTML, intact on screen.
    assert "&lt;Ann &amp; Bob&gt;" in answer.text
    assert answer.result["text"].startswith("Hello, <Ann & Bob>!")
    assert "07:15 (Europe/Berlin)" in answer.result["text"]


async def test_the_pick_topics_button_opens_the_picker(offline: Offline, db: Database) -> None:
    store_articles(db, article("An AI story", "https://example.com/ai", ["AI"]), at=utcnow())
    answer = await offline.start(READER)
    _, calls = await offline.press(READER, answer.result["message_id"], f"tp:{READER}:0")
    edits = [c for c in calls if c.method == "editMessageText"]
    assert len(edits) == 1 and edits[0].ok
    assert "Pick your topics" in edits[0].text
    assert f"tt:{READER}:{topic_id(db, 'AI')}:0" in edits[0].callback_data


async def test_start_again_reactivates_without_losing_topics_or_time(
    offline: Offline, db: Database
) -> None:
    store_articles(
        db, article("An AI story", "https://example.com/ai", ["AI", "Privacy"]), at=utcnow()
    )
    await offline.start(READER)
    picker = await offline.reply(READER, "/topics")
    ai = topic_id(db, "AI")
    await offline.press(READER, picker.result["message_id"], f"tt:{READER}:{ai}:0")
    await offline.reply(READER, "/time 06:40")
    stop = await offline.reply(READER, "/stop")
    assert "unsubscribed" in stop.text
    assert reader(db).status == "stopped"

    before = utcnow()
    again = await offline.start(READER)
    found = reader(db)
    assert found.status == "active"
    assert found.topic_ids == frozenset({ai})
    assert found.digest_time == time(6, 40)
    assert_next_digest(found, "06:40", DEFAULT_ZONE, before)
    assert again.text.startswith("Welcome back")
    assert count(db, "SELECT count(*) FROM readers") == 1


async def test_stop_unsubscribes_and_other_commands_then_ask_for_start(
    offline: Offline, db: Database
) -> None:
    await offline.start(READER)
    answer = await offline.reply(READER, "/stop")
    assert "Send /start any time" in answer.text
    assert reader(db).status == "stopped"
    for command in ("/digest", "/topics", "/time 09:00", "/timezone UTC", "/keywords", "/pause 2d"):
        assert (await offline.reply(READER, command)).text == UNSUBSCRIBED
    shown = (await offline.reply(READER, "/settings")).result["text"]
    assert "unsubscribed — /start to come back" in shown
    assert "Next digest: none (unsubscribed)" in shown
    assert reader(db).digest_time == time.fromisoformat(DEFAULT_TIME)


async def test_stop_from_an_unknown_chat_creates_nothing(offline: Offline, db: Database) -> None:
    assert (await offline.reply(OTHER, "/stop")).text == NOT_SUBSCRIBED
    assert get_reader(db, OTHER) is None


async def test_settings_lists_topic_names_escaped(offline: Offline, db: Database) -> None:
    store_articles(
        db,
        article("Hostile topics", "https://example.com/x", ["<script>", "AT&T", "AI"]),
        at=utcnow(),
    )
    await offline.start(READER)
    toggle_topic(db, READER, topic_id(db, "<script>"))
    toggle_topic(db, READER, topic_id(db, "AT&T"))
    answer = await offline.reply(READER, "/settings")
    # The HTML carries entities; Telegram (here: the offline parser) shows the names as is.
    assert "Topics: &lt;script&gt;, AT&amp;T\n" in answer.text
    assert "<script>" not in answer.text
    assert "Topics: <script>, AT&T\n" in answer.result["text"]
    assert "Digests: 07:15, every day (Europe/Berlin)" in answer.result["text"]
    assert "Status: subscribed" in answer.result["text"]


async def test_settings_without_topics_says_everything(offline: Offline, db: Database) -> None:
    await offline.start(READER)
    answer = await offline.reply(READER, "/settings")
    assert "Topics: all topics (none chosen)" in answer.text
    assert (await offline.reply(OTHER, "/settings")).text == NOT_SUBSCRIBED
