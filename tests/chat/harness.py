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
from tests.offline import OfflineRequest, RecordedCall

TOKEN = "123456:OFFLINE-token"
ADMIN_ID = 9001
READER = 501
OTHER = 502
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
    pools = PoolCache(db_path)
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
