"""Handlers: /topics and its buttons."""

from __future__ import annotations

from sqlite_utils import Database

from bot.chat.target import UNSUBSCRIBED
from storage.db import utcnow
from tests.chat.harness import READER, JsonDict, Offline, count, reader
from tests.factories import article, store_articles, topic_id
from tests.offline import RecordedCall


def topic_buttons(call_or_message: RecordedCall | JsonDict) -> list[tuple[str, str]]:
    """(label, callback data) of the topic buttons (tt:…) of a keyboard."""
    markup = (
        call_or_message.params.get("reply_markup")
        if isinstance(call_or_message, RecordedCall)
        else call_or_message.get("reply_markup")
    ) or {}
    return [
        (b["text"], b["callback_data"])
        for row in markup.get("inline_keyboard", [])
        for b in row
        if b.get("callback_data", "").startswith(f"tt:{READER}:")
    ]


def nav_labels(message: JsonDict) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [
        b["text"]
        for row in markup.get("inline_keyboard", [])
        for b in row
        if b.get("callback_data", "").startswith(f"tp:{READER}:")
    ]


async def test_topics_keyboard_carries_ids_within_64_bytes_for_long_names(
    offline: Offline, db: Database
) -> None:
    long_name = "Ü" + "x" * 98 + "€"  # 100 characters, 103 bytes of UTF-8
    store_articles(
        db, article("Long topic", "https://example.com/long", [long_name, "AI"]), at=utcnow()
    )
    await offline.start(READER)
    picker = await offline.reply(READER, "/topics")
    assert all(1 <= len(d.encode()) <= 64 for d in picker.callback_data)
    long_id = topic_id(db, long_name)
    labels = dict((data, label) for label, data in topic_buttons(picker))
    label = labels[f"tt:{READER}:{long_id}:0"]
    assert len(label) <= 30 and label.endswith("…") and label.startswith("Üxxx")

    answer, _ = await offline.press(READER, picker.result["message_id"], f"tt:{READER}:{long_id}:0")
    assert answer.params.get("text") == "Added"
    assert reader(db).topic_ids == frozenset({long_id})
    shown = offline.message(READER, picker.result["message_id"])
    assert f"✅ {label}" in [lbl for lbl, _ in topic_buttons(shown)]
    # The summary shows the whole (escaped) name; the edit went through Telegram's parser.
    assert long_name in shown["text"]


async def test_topics_page_with_arrows_when_more_than_ten(offline: Offline, db: Database) -> None:
    names = [f"Topic {i:02d}" for i in range(1, 24)]  # 23 topics: pages of 10, 10, 3
    store_articles(db, article("Many topics", "https://example.com/many", names), at=utcnow())
    await offline.start(READER)
    picker = await offline.reply(READER, "/topics")
    message_id = picker.result["message_id"]
    first = offline.message(READER, message_id)
    assert [label for label, _ in topic_buttons(first)] == names[:10]
    assert nav_labels(first) == ["◀", "1/3", "▶"]
    assert picker.callback_data[-4:-1] == [
        f"tp:{READER}:2",
        f"tp:{READER}:0",
        f"tp:{READER}:1",
    ]  # ◀ wraps to the last page

    answer, _ = await offline.press(READER, message_id, f"tp:{READER}:1")
    assert answer.params.get("text") is None  # paging needs no note
    second = offline.message(READER, message_id)
    assert [label for label, _ in topic_buttons(second)] == names[10:20]
    assert nav_labels(second) == ["◀", "2/3", "▶"]
    # Toggling on page 2 stays on page 2.
    pick = topic_id(db, "Topic 12")
    await offline.press(READER, message_id, f"tt:{READER}:{pick}:1")
    after_toggle = offline.message(READER, message_id)
    assert nav_labels(after_toggle) == ["◀", "2/3", "▶"]
    assert "✅ Topic 12" in [label for label, _ in topic_buttons(after_toggle)]

    await offline.press(READER, message_id, f"tp:{READER}:2")
    third = offline.message(READER, message_id)
    assert [label for label, _ in topic_buttons(third)] == names[20:]
    await offline.press(
        READER, message_id, f"tp:{READER}:0"
    )  # ▶ on the last page wraps to the first
    assert nav_labels(offline.message(READER, message_id)) == ["◀", "1/3", "▶"]


async def test_few_topics_have_no_paging(offline: Offline, db: Database) -> None:
    store_articles(db, article("Few", "https://example.com/few", ["AI", "Privacy"]), at=utcnow())
    await offline.start(READER)
    picker = await offline.reply(READER, "/topics")
    assert nav_labels(offline.message(READER, picker.result["message_id"])) == []
    assert picker.button_labels == ["AI", "Privacy", "Done"]


async def test_toggling_a_topic_stores_it_and_the_edit_shows_a_tick(
    offline: Offline, db: Database
) -> None:
    store_articles(db, article("Two", "https://example.com/two", ["AI", "Privacy"]), at=utcnow())
    await offline.start(READER)
    picker = await offline.reply(READER, "/topics")
    message_id = picker.result["message_id"]
    ai = topic_id(db, "AI")

    answer, calls = await offline.press(READER, message_id, f"tt:{READER}:{ai}:0")
    assert answer.params.get("text") == "Added"
    assert reader(db).topic_ids == frozenset({ai})
    edit = next(c for c in calls if c.method == "editMessageText")
    assert edit.ok and edit.params["message_id"] == message_id
    shown = offline.message(READER, message_id)
    assert [label for label, _ in topic_buttons(shown)] == ["✅ AI", "Privacy"]
    assert "Selected: AI" in shown["text"]
    assert "Clear all" in [
        b["text"] for row in shown["reply_markup"]["inline_keyboard"] for b in row
    ]

    answer, _ = await offline.press(READER, message_id, f"tt:{READER}:{ai}:0")
    assert answer.params.get("text") == "Removed"
    assert reader(db).topic_ids == frozenset()
    assert [label for label, _ in topic_buttons(offline.message(READER, message_id))] == [
        "AI",
        "Privacy",
    ]


async def test_clear_all_and_done(offline: Offline, db: Database) -> None:
    store_articles(db, article("Two", "https://example.com/two", ["AI", "Privacy"]), at=utcnow())
    await offline.start(READER)
    picker = await offline.reply(READER, "/topics")
    message_id = picker.result["message_id"]
    for name in ("AI", "Privacy"):
        await offline.press(READER, message_id, f"tt:{READER}:{topic_id(db, name)}:0")
    assert len(reader(db).topic_ids) == 2
    answer, _ = await offline.press(READER, message_id, f"tx:{READER}:0")
    assert answer.params.get("text") == "Cleared: you get every story"
    assert reader(db).topic_ids == frozenset()

    await offline.press(READER, message_id, f"tt:{READER}:{topic_id(db, 'Privacy')}:0")
    answer, _ = await offline.press(READER, message_id, f"td:{READER}")
    assert answer.params.get("text") == "Topics: Privacy"
    # Done: the /settings screen, in place of the picker (its 🗂 Topics opens it again).
    done = offline.message(READER, message_id)
    assert done["text"].startswith("Your settings") and "Topics: Privacy" in done["text"]
    buttons = [b["callback_data"] for row in done["reply_markup"]["inline_keyboard"] for b in row]
    assert f"so:topics:{READER}" in buttons


async def test_a_stale_or_unknown_topic_button_is_answered_with_a_note(
    offline: Offline, db: Database
) -> None:
    store_articles(db, article("One", "https://example.com/one", ["AI"]), at=utcnow())
    await offline.start(READER)
    picker = await offline.reply(READER, "/topics")
    message_id = picker.result["message_id"]

    answer, _ = await offline.press(READER, message_id, f"tt:{READER}:99999:0", on_keyboard=False)
    assert answer.params["text"] == "That topic no longer exists"
    assert reader(db).topic_ids == frozenset()
    assert count(db, "SELECT count(*) FROM reader_topics") == 0

    answer, calls = await offline.press(READER, message_id, f"tt:{READER}:abc:0", on_keyboard=False)
    assert "out of date" in answer.params["text"]
    assert [c.method for c in calls] == ["answerCallbackQuery"]

    # A button of a keyboard the bot no longer knows at all goes to the catch-all.
    answer, calls = await offline.press(READER, message_id, "zz:old", on_keyboard=False)
    assert answer.params["text"] == "This button is out of date."
    assert [c.method for c in calls] == ["answerCallbackQuery"]


async def test_topic_buttons_of_a_stopped_reader_are_answered_not_applied(
    offline: Offline, db: Database
) -> None:
    store_articles(db, article("One", "https://example.com/one", ["AI"]), at=utcnow())
    await offline.start(READER)
    picker = await offline.reply(READER, "/topics")
    await offline.reply(READER, "/stop")
    answer, calls = await offline.press(
        READER, picker.result["message_id"], f"tt:{READER}:{topic_id(db, 'AI')}:0"
    )
    assert answer.params["text"] == UNSUBSCRIBED and answer.params["show_alert"] is True
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert reader(db).topic_ids == frozenset()
