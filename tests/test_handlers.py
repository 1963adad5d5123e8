"""Handlers, one update at a time, against an offline Bot API (PTB's ``BaseRequest`` pattern).

The real handlers are registered on a real ``Application`` whose requests go to
:class:`tests.offline.OfflineRequest`; storage is the real SQLite file of the ``db_path``
fixture behind real :class:`bot.db_thread.DbThread` connections. Updates are fed with
``Application.process_update`` and the test reads what the bot asked Telegram to do
(recorded calls) and what it wrote (the ``db`` fixture's own connection).

Every handler error fails the test at once (an error handler collects them), and every
button press must be answered exactly once.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlite_utils import Database
from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes

import bot.app as bot_app
from bot.chat.readers import NOT_SUBSCRIBED
from bot.chat.replies import NOT_ALLOWED
from bot.context import BotContext, Services
from bot.db_thread import DbThread
from bot.delivery.sender import OutboxSender
from bot.settings import Settings
from digest.parse import parse_article_text
from storage.articles import save_articles
from storage.db import utcnow
from storage.outbox import PRIORITY_ANSWER, delivered_to, outbox_counts, pending_batch
from storage.readers import Reader, all_topics, get_reader, toggle_topic
from tests.offline import OfflineRequest, RecordedCall

TOKEN = "123456:OFFLINE-token"
ADMIN_ID = 9001
READER = 501
OTHER = 502
DEFAULT_ZONE = "Europe/Berlin"  # not UTC, so a reader in UTC could not pass by accident
DEFAULT_TIME = "07:15"

JsonDict = dict[str, Any]


# ---------------------------------------------------------------------------------------------
# Articles
# ---------------------------------------------------------------------------------------------
def article_text(
    title: str,
    url: str,
    topics: Iterable[str] = ("AI",),
    *,
    excerpt: str = "An excerpt.",
    body: str = "Body text.",
    related: Iterable[tuple[str, str]] = (),
    published: datetime | None = None,
) -> str:
    """A small article file; JSON strings are valid YAML, so any title is quoted safely."""
    when = (published or utcnow() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [
        "---",
        f"title: {json.dumps(title)}",
        f"excerpt: {json.dumps(excerpt)}",
        f"publishedDateTime: {when}",
        f"webUrl: {json.dumps(url)}",
        "quality: 50",
        "provider: {name: Example News, domain: example.com}",
        f"topics: {json.dumps(list(topics))}",
    ]
    related = list(related)
    if related:
        lines.append("related:")
        for r_title, r_url in related:
            lines += [f"  - title: {json.dumps(r_title)}", f"    webUrl: {json.dumps(r_url)}"]
    lines += ["---", "", body]
    return "\n".join(lines)


def store_articles(db: Database, *texts: str) -> list[int]:
    """Save parsed articles as ingestion does; their ids, in order."""
    articles = [parse_article_text(text) for text in texts]
    save_articles(db, [(a, f"/articles/{i}.md") for i, a in enumerate(articles)], utcnow())
    return [
        int(db.execute("SELECT id FROM articles WHERE url = ?", (a.url,)).fetchone()[0])
        for a in articles
    ]


def topic_id(db: Database, name: str) -> int:
    return next(t.id for t in all_topics(db) if t.name == name)


def reader(db: Database, chat_id: int = READER) -> Reader:
    found = get_reader(db, chat_id)
    assert found is not None, f"no reader {chat_id}"
    return found


def count(db: Database, sql: str, params: Iterable[object] = ()) -> int:
    return int(db.execute(sql, tuple(params)).fetchone()[0])


# ---------------------------------------------------------------------------------------------
# The application under test
# ---------------------------------------------------------------------------------------------
@dataclass
class Offline:
    """The real handlers on a real Application; updates in, recorded Bot API calls out."""

    application: Any
    request: OfflineRequest
    services: Services
    errors: list[BaseException] = field(default_factory=list)
    _update_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))
    _message_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _query_ids: Iterator[int] = field(default_factory=lambda: itertools.count(77_000))

    async def process(self, payload: JsonDict) -> list[RecordedCall]:
        """One update through every handler; the Bot API calls it made."""
        start = len(self.request.calls)
        update = Update.de_json({"update_id": next(self._update_ids), **payload}, self.bot)
        await self.application.process_update(update)
        if self.errors:
            raise self.errors[0]
        return self.request.calls[start:]

    @property
    def bot(self) -> Any:
        return self.application.bot

    async def send(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = "Ann",
        chat: JsonDict | None = None,
    ) -> list[RecordedCall]:
        """The user writes ``text`` (a leading /command gets its bot_command entity)."""
        message: JsonDict = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat or {"id": user_id, "type": "private", "first_name": first_name},
            "from": user(user_id, first_name),
            "text": text,
        }
        command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
        if command is not None:
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(command.group())}
            ]
        return await self.process({"message": message})

    async def reply(self, user_id: int, text: str, **kwargs: Any) -> RecordedCall:
        """The one message the bot sends back to ``text``."""
        calls = await self.send(user_id, text, **kwargs)
        sent = [c for c in calls if c.method == "sendMessage"]
        assert len(sent) == 1, f"expected one reply to {text!r}, got {calls}"
        assert sent[0].ok and sent[0].chat_id == user_id
        return sent[0]

    async def press(
        self, user_id: int, message_id: int, data: str, *, on_keyboard: bool = True
    ) -> tuple[RecordedCall, list[RecordedCall]]:
        """Press a button under a bot message: (the query's one answer, every call made).

        ``on_keyboard=False`` sends callback data the message does not (or no longer) carry,
        as an old client or a stale keyboard would.
        """
        message = self.request.messages[(user_id, message_id)]
        if on_keyboard:
            keyboard = [
                b.get("callback_data")
                for row in message.get("reply_markup", {}).get("inline_keyboard", [])
                for b in row
            ]
            assert data in keyboard, f"{data!r} is not on message {message_id}: {keyboard}"
        query_id = str(next(self._query_ids))
        calls = await self.process(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user(user_id),
                    "message": message,
                    "chat_instance": f"ci-{user_id}",
                    "data": data,
                }
            }
        )
        answers = [
            c
            for c in calls
            if c.method == "answerCallbackQuery" and c.params["callback_query_id"] == query_id
        ]
        assert len(answers) == 1, f"callback {data!r} answered {len(answers)} times: {calls}"
        assert answers[0].ok, answers[0].error
        return answers[0], calls

    async def member_change(self, user_id: int, old: str, new: str) -> list[RecordedCall]:
        """The user blocks (``kicked``) or unblocks (``member``) the bot."""
        bot_user = self.request.bot_user

        def member(status: str) -> JsonDict:
            data: JsonDict = {"status": status, "user": bot_user}
            if status == "kicked":
                data["until_date"] = 0
            return data

        return await self.process(
            {
                "my_chat_member": {
                    "chat": {"id": user_id, "type": "private", "first_name": "Ann"},
                    "from": user(user_id),
                    "date": int(time.time()),
                    "old_chat_member": member(old),
                    "new_chat_member": member(new),
                }
            }
        )

    def message(self, chat_id: int, message_id: int) -> JsonDict:
        """A bot message as the user sees it now (after edits)."""
        return self.request.messages[(chat_id, message_id)]


def user(user_id: int, first_name: str = "Ann") -> JsonDict:
    return {"id": user_id, "is_bot": False, "first_name": first_name}


@pytest.fixture
async def offline(db_path: Path, tmp_path: Path) -> AsyncIterator[Offline]:
    settings = Settings(
        bot_token=TOKEN,
        db_path=db_path,
        articles_dir=tmp_path / "articles",
        admins=frozenset({ADMIN_ID}),
        timezone=DEFAULT_ZONE,
        digest_time=dtime(7, 15),
    )
    request = OfflineRequest()
    # Any: the builder types the bot ExtBot[None] (no rate limiter); handlers see ExtBot[int].
    application: Any = (
        ApplicationBuilder()
        .token(TOKEN)
        .request(request)
        .get_updates_request(OfflineRequest())
        .context_types(ContextTypes(context=BotContext))
        .build()
    )
    # bot.app.register_handlers is the public wiring; the fallback covers the older name.
    register = getattr(bot_app, "register_handlers", None) or bot_app._register_handlers  # type: ignore[attr-defined]
    register(application)
    errors: list[BaseException] = []

    async def collect(update: object, context: BotContext) -> None:
        if context.error is not None:
            errors.append(context.error)

    application.add_error_handler(collect)
    store = DbThread(db_path, name="main")
    background = DbThread(db_path, name="background", migrate=False)
    await store.open()
    await background.open()
    services = Services(
        settings=settings,
        db=store,
        background=background,
        # Real, never started: what handlers queue stays in the outbox for the test to read.
        sender=OutboxSender(application.bot, store),
    )
    application.bot_data["settings"] = settings
    application.bot_data["services"] = services
    try:
        async with application:
            yield Offline(application, request, services, errors)
    finally:
        await background.close()
        await store.close()


def local(moment: datetime | None, zone: str) -> str:
    assert moment is not None
    return f"{moment.astimezone(ZoneInfo(zone)):%H:%M}"


def assert_next_digest(found: Reader, hhmm: str, zone: str, before: datetime) -> None:
    """The next digest is the next ``hhmm`` in ``zone``: ahead, within a day (DST: 25 h)."""
    assert found.next_digest_at is not None
    assert local(found.next_digest_at, zone) == hhmm
    assert before < found.next_digest_at <= utcnow() + timedelta(hours=25)


# ---------------------------------------------------------------------------------------------
# /start, /stop
# ---------------------------------------------------------------------------------------------
async def test_start_creates_an_active_reader_with_the_default_time_and_zone(
    offline: Offline, db: Database
) -> None:
    before = utcnow()
    answer = await offline.reply(READER, "/start", first_name="<Ann & Bob>")
    found = reader(db)
    assert (found.status, found.digest_time, found.timezone) == ("active", "07:15", DEFAULT_ZONE)
    assert found.topic_ids == frozenset()
    assert_next_digest(found, DEFAULT_TIME, DEFAULT_ZONE, before)
    assert answer.button_labels == ["Pick topics"]
    assert answer.callback_data == ["tp:0"]
    # The user's own name is untrusted too: escaped in the HTML, intact on screen.
    assert "&lt;Ann &amp; Bob&gt;" in answer.text
    assert answer.result["text"].startswith("Hello, <Ann & Bob>!")
    assert "07:15 (Europe/Berlin)" in answer.result["text"]


async def test_the_pick_topics_button_opens_the_picker(offline: Offline, db: Database) -> None:
    store_articles(db, article_text("An AI story", "https://example.com/ai", ["AI"]))
    answer = await offline.reply(READER, "/start")
    _, calls = await offline.press(READER, answer.result["message_id"], "tp:0")
    edits = [c for c in calls if c.method == "editMessageText"]
    assert len(edits) == 1 and edits[0].ok
    assert "Pick your topics" in edits[0].text
    assert f"tt:{topic_id(db, 'AI')}:0" in edits[0].callback_data


async def test_start_again_reactivates_without_losing_topics_or_time(
    offline: Offline, db: Database
) -> None:
    store_articles(db, article_text("An AI story", "https://example.com/ai", ["AI", "Privacy"]))
    await offline.reply(READER, "/start")
    picker = await offline.reply(READER, "/topics")
    ai = topic_id(db, "AI")
    await offline.press(READER, picker.result["message_id"], f"tt:{ai}:0")
    await offline.reply(READER, "/time 06:40")
    stop = await offline.reply(READER, "/stop")
    assert "unsubscribed" in stop.text
    assert reader(db).status == "stopped"

    before = utcnow()
    again = await offline.reply(READER, "/start")
    found = reader(db)
    assert found.status == "active"
    assert found.topic_ids == frozenset({ai})
    assert found.digest_time == "06:40"
    assert_next_digest(found, "06:40", DEFAULT_ZONE, before)
    assert again.text.startswith("Welcome back")
    assert count(db, "SELECT count(*) FROM readers") == 1


async def test_stop_unsubscribes_and_other_commands_then_ask_for_start(
    offline: Offline, db: Database
) -> None:
    await offline.reply(READER, "/start")
    answer = await offline.reply(READER, "/stop")
    assert "Send /start any time" in answer.text
    assert reader(db).status == "stopped"
    for command in ("/digest", "/topics", "/time 09:00", "/timezone UTC"):
        assert (await offline.reply(READER, command)).text == NOT_SUBSCRIBED
    assert reader(db).digest_time == DEFAULT_TIME


async def test_stop_from_an_unknown_chat_creates_nothing(offline: Offline, db: Database) -> None:
    assert (await offline.reply(OTHER, "/stop")).text == NOT_SUBSCRIBED
    assert get_reader(db, OTHER) is None


async def test_commands_in_a_group_are_ignored(offline: Offline, db: Database) -> None:
    group = {"id": -100123, "type": "supergroup", "title": "Newsroom"}
    assert await offline.send(READER, "/start", chat=group) == []
    assert get_reader(db, -100123) is None and get_reader(db, READER) is None


# ---------------------------------------------------------------------------------------------
# /time, /timezone, /settings
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["/time", "/time 07:30 08:30"])
async def test_time_without_one_argument_shows_the_time_and_an_example(
    offline: Offline, db: Database, command: str
) -> None:
    await offline.reply(READER, "/start")
    answer = await offline.reply(READER, command)
    assert "Your digest comes at 07:15 (Europe/Berlin)" in answer.result["text"]
    assert "<code>/time 07:30</code>" in answer.text
    assert reader(db).digest_time == DEFAULT_TIME


@pytest.mark.parametrize("value", ["25:00", "7", "ab:cd", "12:60", "-1:00", "<b>8:00"])
async def test_time_rejects_a_bad_value_with_an_example(
    offline: Offline, db: Database, value: str
) -> None:
    await offline.reply(READER, "/start")
    before = reader(db)
    answer = await offline.reply(READER, f"/time {value}")
    assert f"“{value}” is not a time of day" in answer.result["text"]
    assert "<code>/time 07:30</code>" in answer.text
    after = reader(db)
    assert (after.digest_time, after.next_digest_at) == (before.digest_time, before.next_digest_at)


@pytest.mark.parametrize(
    ("value", "stored"), [("06:05", "06:05"), ("6:05", "06:05"), ("23:59", "23:59")]
)
async def test_time_stores_hhmm_and_recomputes_the_next_digest(
    offline: Offline, db: Database, value: str, stored: str
) -> None:
    await offline.reply(READER, "/start")
    before = utcnow()
    answer = await offline.reply(READER, f"/time {value}")
    found = reader(db)
    assert found.digest_time == stored
    assert_next_digest(found, stored, DEFAULT_ZONE, before)
    assert f"Done: your digest comes daily at {stored} (Europe/Berlin)" in answer.text


async def test_timezone_without_argument_shows_the_zone_and_examples(
    offline: Offline, db: Database
) -> None:
    await offline.reply(READER, "/start")
    answer = await offline.reply(READER, "/timezone")
    assert "Your time zone is Europe/Berlin" in answer.text
    assert "<code>/timezone Europe/Berlin</code>" in answer.text


async def test_timezone_stores_the_zone_and_recomputes_the_next_digest(
    offline: Offline, db: Database
) -> None:
    await offline.reply(READER, "/start")
    before = utcnow()
    answer = await offline.reply(READER, "/timezone Asia/Tokyo")
    found = reader(db)
    assert found.timezone == "Asia/Tokyo"
    assert found.digest_time == DEFAULT_TIME
    assert_next_digest(found, DEFAULT_TIME, "Asia/Tokyo", before)
    assert "Done: time zone Asia/Tokyo" in answer.text


@pytest.mark.parametrize(
    "value", ["Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime", "Europe/<b>"]
)
async def test_timezone_rejects_an_unknown_zone_with_examples(
    offline: Offline, db: Database, value: str
) -> None:
    await offline.reply(READER, "/start")
    before = reader(db)
    answer = await offline.reply(READER, f"/timezone {value}")
    assert f"“{value}” is not a time zone I know" in answer.result["text"]
    assert "<code>/timezone Europe/Berlin</code>" in answer.text
    after = reader(db)
    assert (after.timezone, after.next_digest_at) == (before.timezone, before.next_digest_at)


async def test_settings_lists_topic_names_escaped(offline: Offline, db: Database) -> None:
    store_articles(
        db, article_text("Hostile topics", "https://example.com/x", ["<script>", "AT&T", "AI"])
    )
    await offline.reply(READER, "/start")
    toggle_topic(db, READER, topic_id(db, "<script>"))
    toggle_topic(db, READER, topic_id(db, "AT&T"))
    answer = await offline.reply(READER, "/settings")
    # The HTML carries entities; Telegram (here: the offline parser) shows the names as is.
    assert "Topics: &lt;script&gt;, AT&amp;T\n" in answer.text
    assert "<script>" not in answer.text
    assert "Topics: <script>, AT&T\n" in answer.result["text"]
    assert "Daily digest: 07:15 (Europe/Berlin)" in answer.result["text"]
    assert "Status: subscribed" in answer.result["text"]


async def test_settings_without_topics_says_everything(offline: Offline, db: Database) -> None:
    await offline.reply(READER, "/start")
    answer = await offline.reply(READER, "/settings")
    assert "Topics: all topics (none chosen)" in answer.text
    assert (await offline.reply(OTHER, "/settings")).text == NOT_SUBSCRIBED


# ---------------------------------------------------------------------------------------------
# /topics and its buttons
# ---------------------------------------------------------------------------------------------
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
        if b.get("callback_data", "").startswith("tt:")
    ]


def nav_labels(message: JsonDict) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [
        b["text"]
        for row in markup.get("inline_keyboard", [])
        for b in row
        if b.get("callback_data", "").startswith("tp:")
    ]


async def test_topics_keyboard_carries_ids_within_64_bytes_for_long_names(
    offline: Offline, db: Database
) -> None:
    long_name = "Ü" + "x" * 98 + "€"  # 100 characters, 103 bytes of UTF-8
    store_articles(db, article_text("Long topic", "https://example.com/long", [long_name, "AI"]))
    await offline.reply(READER, "/start")
    picker = await offline.reply(READER, "/topics")
    assert all(1 <= len(d.encode()) <= 64 for d in picker.callback_data)
    long_id = topic_id(db, long_name)
    labels = dict((data, label) for label, data in topic_buttons(picker))
    label = labels[f"tt:{long_id}:0"]
    assert len(label) <= 30 and label.endswith("…") and label.startswith("Üxxx")

    answer, _ = await offline.press(READER, picker.result["message_id"], f"tt:{long_id}:0")
    assert answer.params.get("text") == "Added"
    assert reader(db).topic_ids == frozenset({long_id})
    shown = offline.message(READER, picker.result["message_id"])
    assert f"✅ {label}" in [lbl for lbl, _ in topic_buttons(shown)]
    # The summary shows the whole (escaped) name; the edit went through Telegram's parser.
    assert long_name in shown["text"]


async def test_topics_page_with_arrows_when_more_than_ten(offline: Offline, db: Database) -> None:
    names = [f"Topic {i:02d}" for i in range(1, 24)]  # 23 topics: pages of 10, 10, 3
    store_articles(db, article_text("Many topics", "https://example.com/many", names))
    await offline.reply(READER, "/start")
    picker = await offline.reply(READER, "/topics")
    message_id = picker.result["message_id"]
    first = offline.message(READER, message_id)
    assert [label for label, _ in topic_buttons(first)] == names[:10]
    assert nav_labels(first) == ["◀", "1/3", "▶"]
    assert picker.callback_data[-4:-1] == ["tp:2", "tp:0", "tp:1"]  # ◀ wraps to the last page

    answer, _ = await offline.press(READER, message_id, "tp:1")
    assert answer.params.get("text") is None  # paging needs no note
    second = offline.message(READER, message_id)
    assert [label for label, _ in topic_buttons(second)] == names[10:20]
    assert nav_labels(second) == ["◀", "2/3", "▶"]
    # Toggling on page 2 stays on page 2.
    pick = topic_id(db, "Topic 12")
    await offline.press(READER, message_id, f"tt:{pick}:1")
    after_toggle = offline.message(READER, message_id)
    assert nav_labels(after_toggle) == ["◀", "2/3", "▶"]
    assert "✅ Topic 12" in [label for label, _ in topic_buttons(after_toggle)]

    await offline.press(READER, message_id, "tp:2")
    third = offline.message(READER, message_id)
    assert [label for label, _ in topic_buttons(third)] == names[20:]
    await offline.press(READER, message_id, "tp:0")  # ▶ on the last page wraps to the first
    assert nav_labels(offline.message(READER, message_id)) == ["◀", "1/3", "▶"]


async def test_few_topics_have_no_paging(offline: Offline, db: Database) -> None:
    store_articles(db, article_text("Few", "https://example.com/few", ["AI", "Privacy"]))
    await offline.reply(READER, "/start")
    picker = await offline.reply(READER, "/topics")
    assert nav_labels(offline.message(READER, picker.result["message_id"])) == []
    assert picker.button_labels == ["AI", "Privacy", "Done"]


async def test_toggling_a_topic_stores_it_and_the_edit_shows_a_tick(
    offline: Offline, db: Database
) -> None:
    store_articles(db, article_text("Two", "https://example.com/two", ["AI", "Privacy"]))
    await offline.reply(READER, "/start")
    picker = await offline.reply(READER, "/topics")
    message_id = picker.result["message_id"]
    ai = topic_id(db, "AI")

    answer, calls = await offline.press(READER, message_id, f"tt:{ai}:0")
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

    answer, _ = await offline.press(READER, message_id, f"tt:{ai}:0")
    assert answer.params.get("text") == "Removed"
    assert reader(db).topic_ids == frozenset()
    assert [label for label, _ in topic_buttons(offline.message(READER, message_id))] == [
        "AI",
        "Privacy",
    ]


async def test_clear_all_and_done(offline: Offline, db: Database) -> None:
    store_articles(db, article_text("Two", "https://example.com/two", ["AI", "Privacy"]))
    await offline.reply(READER, "/start")
    picker = await offline.reply(READER, "/topics")
    message_id = picker.result["message_id"]
    for name in ("AI", "Privacy"):
        await offline.press(READER, message_id, f"tt:{topic_id(db, name)}:0")
    assert len(reader(db).topic_ids) == 2
    answer, _ = await offline.press(READER, message_id, "tx:0")
    assert answer.params.get("text") == "Cleared: you get every story"
    assert reader(db).topic_ids == frozenset()

    await offline.press(READER, message_id, f"tt:{topic_id(db, 'Privacy')}:0")
    await offline.press(READER, message_id, "td")
    done = offline.message(READER, message_id)
    assert done["text"].startswith("Your topics: Privacy")
    assert "reply_markup" not in done  # the keyboard is gone


async def test_a_stale_or_unknown_topic_button_is_answered_with_a_note(
    offline: Offline, db: Database
) -> None:
    store_articles(db, article_text("One", "https://example.com/one", ["AI"]))
    await offline.reply(READER, "/start")
    picker = await offline.reply(READER, "/topics")
    message_id = picker.result["message_id"]

    answer, _ = await offline.press(READER, message_id, "tt:99999:0", on_keyboard=False)
    assert answer.params["text"] == "That topic no longer exists"
    assert reader(db).topic_ids == frozenset()
    assert count(db, "SELECT count(*) FROM reader_topics") == 0

    answer, calls = await offline.press(READER, message_id, "tt:abc:0", on_keyboard=False)
    assert "out of date" in answer.params["text"]
    assert [c.method for c in calls] == ["answerCallbackQuery"]

    # A button of a keyboard the bot no longer knows at all goes to the catch-all.
    answer, calls = await offline.press(READER, message_id, "zz:old", on_keyboard=False)
    assert answer.params["text"] == "This button is out of date."
    assert [c.method for c in calls] == ["answerCallbackQuery"]


async def test_topic_buttons_of_a_stopped_reader_are_answered_not_applied(
    offline: Offline, db: Database
) -> None:
    store_articles(db, article_text("One", "https://example.com/one", ["AI"]))
    await offline.reply(READER, "/start")
    picker = await offline.reply(READER, "/topics")
    await offline.reply(READER, "/stop")
    answer, calls = await offline.press(
        READER, picker.result["message_id"], f"tt:{topic_id(db, 'AI')}:0"
    )
    assert answer.params["text"] == NOT_SUBSCRIBED and answer.params["show_alert"] is True
    assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert reader(db).topic_ids == frozenset()


# ---------------------------------------------------------------------------------------------
# /digest
# ---------------------------------------------------------------------------------------------
async def test_digest_with_no_articles_says_nothing_new(offline: Offline, db: Database) -> None:
    await offline.reply(READER, "/start")
    answer = await offline.reply(READER, "/digest")
    assert answer.text.startswith("Nothing new since ")
    assert count(db, "SELECT count(*) FROM outbox") == 0


async def test_digest_queues_an_answer_row_and_reserves_the_articles(
    offline: Offline, db: Database
) -> None:
    ids = store_articles(
        db,
        article_text("Chips get faster", "https://example.com/chips", ["AI"]),
        article_text("Privacy rules tighten", "https://example.org/privacy", ["Privacy"]),
        article_text("Robots learn to walk", "https://example.net/robots", ["AI"]),
    )
    await offline.send(READER, "/start")
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
    # Each entry's 🔗 button names its article by id.
    buttons = [
        b["callback_data"]
        for m in queued
        for row in (m.reply_markup or {}).get("inline_keyboard", [])
        for b in row
    ]
    assert sorted(buttons) == sorted(f"rel:{i}" for i in ids)
    assert delivered_to(db, READER) == set(ids)
    assert reader(db).last_digest_at is not None

    again = await offline.reply(READER, "/digest")
    assert again.text.startswith("Nothing new since ")
    assert outbox_counts(db)["pending"] == len(queued)


async def test_digest_keeps_to_the_readers_topics(offline: Offline, db: Database) -> None:
    store_articles(
        db,
        article_text("AI one", "https://example.com/ai1", ["AI"]),
        article_text("Privacy one", "https://example.com/p1", ["Privacy"]),
    )
    await offline.reply(READER, "/start")
    toggle_topic(db, READER, topic_id(db, "Privacy"))
    assert await offline.send(READER, "/digest") == []
    (message,) = pending_batch(db, utcnow(), limit=100)
    assert "Privacy one" in message.text and "AI one" not in message.text


# ---------------------------------------------------------------------------------------------
# /related
# ---------------------------------------------------------------------------------------------
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
        article_text(
            "Facial recognition ban endorsed",
            "https://example.com/ban",
            related=[("Schools await a decision", "https://other.example/schools")],
        ),
    )
    answer = await offline.reply(READER, "/related https://www.example.com/ban/?utm_source=x")
    shown = answer.result["text"]
    assert shown.startswith("Related coverage: Facial recognition ban endorsed")
    assert "Schools await a decision" in shown
    assert 'href="https://other.example/schools"' in answer.text


async def test_related_by_words_and_misses(offline: Offline, db: Database) -> None:
    store_articles(
        db,
        article_text("Facial recognition ban endorsed", "https://example.com/ban"),
        article_text("Chips get faster", "https://example.com/chips"),
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
        article_text(
            "Ban endorsed",
            "https://example.com/ban",
            related=[("Other take", "https://other.example/take")],
        ),
    )
    start = await offline.reply(READER, "/start")
    message_id = start.result["message_id"]
    # Digest messages carry rel:<id> buttons; the button works from any message.
    answer, calls = await offline.press(READER, message_id, f"rel:{article_id}", on_keyboard=False)
    assert answer.params.get("text") is None
    (sent,) = [c for c in calls if c.method == "sendMessage"]
    assert "Other take" in sent.result["text"]
    answer, calls = await offline.press(READER, message_id, "rel:99999", on_keyboard=False)
    assert answer.params["text"] == "That story is no longer stored."
    assert [c.method for c in calls] == ["answerCallbackQuery"]


# ---------------------------------------------------------------------------------------------
# Admin commands
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "command", ["/breaking https://example.com/ban", "/breaking big news", "/stats"]
)
async def test_admin_commands_refuse_other_users(
    offline: Offline, db: Database, command: str
) -> None:
    store_articles(db, article_text("Ban endorsed", "https://example.com/ban"))
    await offline.reply(READER, "/start")
    answer = await offline.reply(READER, command)
    assert answer.text == NOT_ALLOWED
    assert count(db, "SELECT count(*) FROM pushes") == 0
    assert count(db, "SELECT count(*) FROM outbox") == 0


async def test_admin_stats_shows_the_figures(offline: Offline, db: Database) -> None:
    store_articles(
        db,
        article_text("One", "https://example.com/1", ["AI", "Privacy"]),
        article_text("Two", "https://example.com/2", ["AI"]),
    )
    await offline.reply(READER, "/start")
    await offline.reply(OTHER, "/start")
    await offline.reply(OTHER, "/stop")
    answer = await offline.reply(ADMIN_ID, "/stats")
    shown = answer.result["text"]
    assert "Readers: 1 active, 1 stopped, 0 blocked" in shown
    assert "Articles: 2 · topics: 2" in shown
    assert "Files rejected: 0" in shown
    assert "Outbox: 0 pending, 0 sent, 0 failed, 0 dropped" in shown
    assert "Last folder scan: never" in shown
    assert f"Next digests: {READER} at " in shown


async def test_admin_breaking_previews_then_cancel_sends_nothing(
    offline: Offline, db: Database
) -> None:
    store_articles(db, article_text("Ban endorsed", "https://example.com/ban", ["AI"]))
    await offline.reply(READER, "/start")
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


# ---------------------------------------------------------------------------------------------
# Help, fallbacks, blocking
# ---------------------------------------------------------------------------------------------
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
        article_text("One", "https://example.com/1"),
        article_text("Two", "https://example.com/2"),
    )
    await offline.reply(READER, "/start")
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
