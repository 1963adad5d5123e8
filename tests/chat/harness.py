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
import re
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database
from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes

import bot.app as bot_app
from bot.context import BotContext, Services
from bot.db_thread import DbThread
from bot.delivery.pool_cache import PoolCache
from bot.delivery.sender import OutboxSender
from bot.settings import Settings
from storage.db import utcnow
from storage.readers import Reader, get_reader
from tests.botapi.members import GROUP_ANONYMOUS_BOT, member_json
from tests.offline import OfflineRequest, RecordedCall

TOKEN = "123456:OFFLINE-token"
ADMIN_ID = 9001
READER = 501
OTHER = 502
GROUP = -1001000000001  # a supergroup
CHANNEL = -1002000000002
DEFAULT_ZONE = "Europe/Berlin"  # not UTC, so a reader in UTC could not pass by accident
DEFAULT_TIME = "07:15"

JsonDict = dict[str, Any]


def reader(db: Database, chat_id: int = READER) -> Reader:
    found = get_reader(db, chat_id)
    assert found is not None, f"no reader {chat_id}"
    return found


def count(db: Database, sql: str, params: Iterable[object] = ()) -> int:
    return int(db.execute(sql, tuple(params)).fetchone()[0])


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
        thread_id: int | None = None,
        anonymous: bool = False,
        reply_to: JsonDict | None = None,
        language_code: str | None = None,
    ) -> list[RecordedCall]:
        """The user writes ``text`` (a leading /command gets its bot_command entity).

        ``chat``: a group's JSON (see :func:`group`) instead of the private chat;
        ``thread_id``: in that forum topic; ``anonymous``: as the group (an anonymous admin);
        ``reply_to``: a message (the bot's, as it sent it) this one replies to;
        ``language_code``: the user's Telegram language (an IETF tag such as ``de-AT``).
        """
        message: JsonDict = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat or {"id": user_id, "type": "private", "first_name": first_name},
            "from": (
                GROUP_ANONYMOUS_BOT if anonymous else user(user_id, first_name, language_code)
            ),
            "text": text,
        }
        if anonymous:
            assert chat is not None, "an anonymous admin writes in a group"
            message["sender_chat"] = chat
        if thread_id is not None:
            message.update(message_thread_id=thread_id, is_topic_message=True)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
        if command is not None:
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(command.group())}
            ]
        return await self.process({"message": message})

    async def reply(self, user_id: int, text: str, **kwargs: Any) -> RecordedCall:
        """The one message the bot sends back to ``text`` (in its chat: private or group)."""
        calls = await self.send(user_id, text, **kwargs)
        sent = [c for c in calls if c.method == "sendMessage"]
        assert len(sent) == 1, f"expected one reply to {text!r}, got {calls}"
        where = kwargs["chat"]["id"] if kwargs.get("chat") else user_id
        assert sent[0].ok and sent[0].chat_id == where
        return sent[0]

    async def start(self, user_id: int, **kwargs: Any) -> RecordedCall:
        """/start: the greeting (for a new reader it also asks for the zone)."""
        return await self.reply(user_id, "/start", **kwargs)

    async def press(
        self,
        user_id: int,
        message_id: int,
        data: str,
        *,
        on_keyboard: bool = True,
        chat_id: int | None = None,
        language_code: str | None = None,
    ) -> tuple[RecordedCall, list[RecordedCall]]:
        """Press a button under a bot message: (the query's one answer, every call made).

        ``on_keyboard=False`` sends callback data the message does not (or no longer) carry,
        as an old client or a stale keyboard would; ``chat_id``: a message in a group or
        channel (default: the user's private chat).
        """
        message = self.request.messages[(user_id if chat_id is None else chat_id, message_id)]
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
                    "from": user(user_id, language_code=language_code),
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

    async def bot_status(
        self, chat: JsonDict, old: str, new: str, *, by: int = 0, **rights: bool
    ) -> list[RecordedCall]:
        """An administrator (``by``) changes the bot's status in a group or channel."""
        bot_user = self.request.bot_user
        return await self.process(
            {
                "my_chat_member": {
                    "chat": chat,
                    "from": user(by or 1),
                    "date": int(time.time()),
                    "old_chat_member": member_json(bot_user, old, chat["type"]),
                    "new_chat_member": member_json(bot_user, new, chat["type"], **rights),
                }
            }
        )

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


def user(user_id: int, first_name: str = "Ann", language_code: str | None = None) -> JsonDict:
    found: JsonDict = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code is not None:
        found["language_code"] = language_code
    return found


def group(
    chat_id: int = GROUP, title: str = "Newsroom", *, kind: str = "supergroup", forum: bool = False
) -> JsonDict:
    """A group's (or, ``kind="channel"``, a channel's) chat as updates carry it."""
    chat: JsonDict = {"id": chat_id, "type": kind, "title": title}
    if forum:
        chat["is_forum"] = True
    return chat


async def offline_app(db_path: Path, tmp_path: Path) -> AsyncIterator[Offline]:
    settings = Settings(
        bot_token=TOKEN,
        db_path=db_path,
        articles_dir=tmp_path / "articles",
        admins=frozenset({ADMIN_ID}),
        timezone=ZoneInfo(DEFAULT_ZONE),
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
    bot_app.register_handlers(application)
    errors: list[BaseException] = []

    async def collect(update: object, context: BotContext) -> None:
        if context.error is not None:
            errors.append(context.error)

    application.add_error_handler(collect)
    store = DbThread(db_path, name="main")
    background = DbThread(db_path, name="background", migrate=False)
    await store.open()
    await background.open()
    pools = PoolCache(db_path, max_age=settings.max_age)
    await pools.open()
    services = Services(
        settings=settings,
        db=store,
        background=background,
        # Real, never started: what handlers queue stays in the outbox for the test to read.
        sender=OutboxSender(application.bot, store),
        pools=pools,
    )
    application.bot_data["settings"] = settings
    application.bot_data["services"] = services
    try:
        async with application:
            yield Offline(application, request, services, errors)
    finally:
        await pools.close()
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
