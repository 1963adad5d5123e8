"""The outbox sender against the local Bot API stand-in, with the real PTB bot, transport,
rate limiter and store, as ``newsdigest run`` wires them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database
from telegram.ext import ExtBot

from bot.db_thread import DbThread
from bot.delivery.outcomes import Backoff
from bot.delivery.ratelimit import PriorityRateLimiter
from bot.delivery.sender import OutboxSender
from bot.delivery.transport import AiohttpRequest
from digest.keyboard import Button
from storage.db import utcnow
from storage.outbox import (
    PRIORITY_ANSWER,
    PRIORITY_BREAKING,
    PRIORITY_DIGEST,
    MessageKind,
    OutgoingMessage,
    enqueue,
    outbox_counts,
)
from storage.readers import ReaderStatus, get_reader
from tests.botapi import FakeBotApi
from tests.factories import article, store_articles, subscribe_reader
from tests.waiting import until

FIRST_CHAT = 10_000


@asynccontextmanager
async def running_sender(
    api: FakeBotApi,
    db_path: Path,
    *,
    rate: float = 1000.0,
    request: AiohttpRequest | None = None,
    limiter: PriorityRateLimiter | None = None,
    **options: Any,
) -> AsyncIterator[OutboxSender]:
    """The real sender, PTB bot, transport, limiter and store (as ``newsdigest run`` wires
    them) against the stand-in; ``options`` go to :class:`OutboxSender`."""
    bot: ExtBot[int] = ExtBot(
        api.token,
        base_url=f"{api.base_url}/bot",
        request=request or AiohttpRequest(pool_size=300),
        get_updates_request=AiohttpRequest(pool_size=2),
        rate_limiter=limiter or PriorityRateLimiter(rate),
    )
    await bot.initialize()
    store = DbThread(db_path, name="test-sender")
    await store.open()
    sender = OutboxSender(bot, store, idle_poll=0.1, **options)
    sender.start()
    try:
        yield sender
    finally:
        await sender.stop()
        await store.close()
        await bot.shutdown()


def rows(db: Database) -> list[dict[str, object]]:
    return list(db.query("SELECT * FROM outbox ORDER BY id"))


def drained(db: Database) -> Callable[[], bool]:
    return lambda: outbox_counts(db)["pending"] == 0


async def test_drains_the_outbox_and_records_message_ids(db: Database, db_path: Path) -> None:
    article_ids = store_articles(
        db, *(article(f"Story {n}", f"https://e.example/{n}") for n in range(3))
    )
    chats = [FIRST_CHAT + i for i in range(3)]
    messages = [
        OutgoingMessage(
            chat, f"<b>Part {part}</b> for {chat}", "digest", PRIORITY_DIGEST,
            keyboard=((Button("🔗 1", f"rel:{part}"),),),
            article_ids=(article_ids[part],),
        )
        for chat in chats
        for part in range(3)
    ]  # fmt: skip
    messages.append(OutgoingMessage(chats[0], "An answer", "digest", PRIORITY_ANSWER))
    # (a fourth paced send to one chat would wait a second: the breaking one goes elsewhere)
    messages.append(OutgoingMessage(FIRST_CHAT + 9, "Breaking!", "breaking", PRIORITY_BREAKING))
    enqueue(db, messages, utcnow())

    async with FakeBotApi(open_chats=True) as api:
        async with running_sender(api, db_path) as sender:
            await until(drained(db))
            assert sender.sent_count == len(messages)

        stored = rows(db)
        assert {r["status"] for r in stored} == {"sent"}
        assert all(r["sent_at"] is not None and r["attempts"] == 1 for r in stored)
        for r in stored:
            (sent,) = [m for m in api.messages(int(r["chat_id"])) if m.text == r["text"]]  # type: ignore[call-overload]
            assert sent.message_id == r["message_id"]
            expected_markup = json.loads(str(r["reply_markup"])) if r["reply_markup"] else None
            assert sent.reply_markup == expected_markup
        # One chat's digest parts arrive in the order they were queued.
        for chat in chats:
            parts = [m.plain_text for m in api.messages(chat) if m.plain_text.startswith("Part")]
            assert parts == [f"Part {p} for {chat}" for p in range(3)]
        assert all(d["sent_at"] is not None for d in db.query("SELECT * FROM deliveries"))
        assert api.stats()["duplicates"] == 0


async def test_a_refused_message_fails_alone(db: Database, db_path: Path) -> None:
    bad, good = FIRST_CHAT, FIRST_CHAT + 1
    enqueue(
        db,
        [
            OutgoingMessage(bad, "<b>unclosed", "digest", PRIORITY_DIGEST),
            OutgoingMessage(bad, "after the bad one", "digest", PRIORITY_DIGEST),
            OutgoingMessage(good, "fine 1", "digest", PRIORITY_DIGEST),
            OutgoingMessage(good, "fine 2", "digest", PRIORITY_DIGEST),
        ],
        utcnow(),
    )
    async with FakeBotApi(open_chats=True) as api:
        async with running_sender(api, db_path):
            await until(drained(db))

        refused, after, fine1, fine2 = rows(db)
        assert refused["status"] == "failed"
        (error,) = api.errors
        assert error.status == 400 and error.params["text"] == "<b>unclosed"
        assert error.description is not None
        assert str(refused["last_error"]).lower() in error.description.lower()
        assert len(str(refused["last_error"])) > 10
        assert [r["status"] for r in (after, fine1, fine2)] == ["sent", "sent", "sent"]
        assert [m.text for m in api.messages(good)] == ["fine 1", "fine 2"]
        assert [m.text for m in api.messages(bad)] == ["after the bad one"]


async def test_a_blocked_reader_is_dropped(db: Database, db_path: Path) -> None:
    reader = FIRST_CHAT
    subscribe_reader(db, reader, at=utcnow())
    enqueue(
        db,
        [
            OutgoingMessage(reader, "one", "digest", PRIORITY_DIGEST),
            OutgoingMessage(reader, "two", "digest", PRIORITY_DIGEST),
            OutgoingMessage(reader + 1, "someone else", "digest", PRIORITY_DIGEST),
        ],
        utcnow(),
    )
    async with FakeBotApi(open_chats=True) as api:
        api.add_user(reader)
        await api.send_text(reader, "/start")
        api.block(reader)
        async with running_sender(api, db_path):
            await until(drained(db))
        assert [r["status"] for r in rows(db)] == ["dropped", "dropped", "sent"]
        assert "blocked" in str(rows(db)[0]["last_error"])
        assert get_reader(db, reader).status == ReaderStatus.BLOCKED  # type: ignore[union-attr]
        assert api.messages(reader) == []


async def test_a_migrated_group_gets_its_messages_at_the_new_id(
    db: Database, db_path: Path
) -> None:
    old, new = -4001, -100_000_000_4001
    enqueue(db, [OutgoingMessage(old, "to the group", "digest", PRIORITY_DIGEST)], utcnow())
    async with FakeBotApi() as api:
        api.add_group(old, "Readers")
        api.migrate_group(old, new)
        async with running_sender(api, db_path):
            await until(lambda: outbox_counts(db)["sent"] == 1)
        (row,) = rows(db)
        assert row["chat_id"] == new
        assert [m.text for m in api.messages(new)] == ["to the group"]


STOP_CHATS = [FIRST_CHAT + i for i in range(20)]
STOP_LATENCY = 0.3


@asynccontextmanager
async def stopped_mid_drain(
    db: Database, db_path: Path
) -> AsyncIterator[tuple[FakeBotApi, int, float]]:
    """20 chats at 10/s, 0.3 s per call: stop() while the first few are out.

    Yields the stand-in, how many sends it had in flight at the stop, and how long stop() took."""
    enqueue(
        db,
        [OutgoingMessage(c, f"hello {c}", "digest", PRIORITY_DIGEST) for c in STOP_CHATS],
        utcnow(),
    )
    async with FakeBotApi(open_chats=True, latency=STOP_LATENCY) as api:
        loop = asyncio.get_running_loop()
        async with running_sender(api, db_path, rate=10.0) as sender:
            await until(lambda: api.in_flight >= 2)  # sends are out, none answered yet
            assert api.all_messages() == []
            in_flight = api.in_flight
            started = loop.time()
            await sender.stop()
            stopped_in = loop.time() - started
        yield api, in_flight, stopped_in


async def test_stop_finishes_and_records_in_flight_sends(db: Database, db_path: Path) -> None:
    async with stopped_mid_drain(db, db_path) as (api, _in_flight, stopped_in):
        accepted = {m.chat_id: m.message_id for m in api.all_messages()}
        assert accepted, "no send was in flight when stop() was called"
        assert stopped_in < 2.0
        stored = rows(db)
        sent = {r["chat_id"]: r["message_id"] for r in stored if r["status"] == "sent"}
        pending = {r["chat_id"] for r in stored if r["status"] == "pending"}
        # Everything Telegram accepted is recorded as sent, with its id; nothing else is.
        assert sent == accepted
        assert pending == set(STOP_CHATS) - set(accepted)
        assert pending, "stop() should not have drained everything"

        # A new sender picks up the rest; nobody gets a message twice.
        async with running_sender(api, db_path):
            await until(drained(db))
        assert outbox_counts(db)["sent"] == len(STOP_CHATS)
        assert api.stats()["duplicates"] == 0
        assert sorted(m.chat_id for m in api.all_messages()) == STOP_CHATS


async def test_stop_starts_no_new_sends(db: Database, db_path: Path) -> None:
    async with stopped_mid_drain(db, db_path) as (api, in_flight, stopped_in):
        # Only the sends already out (or granted at that instant) went, and stop() waited
        # for just those.
        assert in_flight <= len(api.all_messages()) <= in_flight + 1
        assert stopped_in < 1.5 * STOP_LATENCY + 0.2


async def test_sends_to_many_chats_concurrently(db: Database, db_path: Path) -> None:
    count, latency = 200, 0.05
    enqueue(
        db,
        [
            OutgoingMessage(FIRST_CHAT + i, f"breaking {i}", "breaking", PRIORITY_BREAKING)
            for i in range(count)
        ],
        utcnow(),
    )
    async with FakeBotApi(open_chats=True, latency=latency) as api:
        loop = asyncio.get_running_loop()
        async with running_sender(api, db_path, rate=1000.0):
            started = loop.time()
            await until(drained(db), timeout=count * latency)
            elapsed = loop.time() - started
        assert outbox_counts(db)["sent"] == count
        assert len(api.all_messages()) == count
        # One at a time would take count × latency = 10 s.
        assert elapsed < count * latency / 4
        # Requests overlapped: many arrived within one latency of each other.
        arrivals = sorted(call.time for call in api.calls if call.method == "sendMessage")
        in_one_latency = max(
            sum(1 for t in arrivals if start <= t < start + latency) for start in arrivals
        )
        assert in_one_latency >= 10


async def test_an_answer_that_does_not_parse_is_retried_with_its_reason(
    db: Database, db_path: Path
) -> None:
    enqueue(db, [OutgoingMessage(FIRST_CHAT, "garbled once", "breaking", PRIORITY_BREAKING)],
            utcnow())  # fmt: skip
    async with FakeBotApi(open_chats=True) as api:
        api.garble_next("sendMessage")
        async with running_sender(api, db_path, backoff=Backoff(0.05, 0.1)):
            await until(drained(db))
        (row,) = rows(db)
        assert row["status"] == "sent" and row["attempts"] == 2
        assert "Invalid server response" in str(row["last_error"])
        # Delivered by the first try already (only its answer was lost): the documented double.
        assert len(api.all_messages()) == 2


async def test_an_unexpected_error_is_recorded_on_its_row_and_others_go_on(
    db: Database, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    enqueue(
        db,
        [
            OutgoingMessage(FIRST_CHAT, "bad keyboard", MessageKind.BREAKING, 1),
            OutgoingMessage(FIRST_CHAT + 1, "fine", MessageKind.BREAKING, 1),
        ],
        utcnow(),
    )
    # A row whose stored keyboard is garbage (a hand edit, a bug of an older version).
    db.execute(
        "UPDATE outbox SET reply_markup = ? WHERE chat_id = ?",
        ('{"inline_keyboard": "not rows of buttons"}', FIRST_CHAT),
    )
    async with FakeBotApi(open_chats=True) as api:
        async with running_sender(api, db_path):
            await until(lambda: outbox_counts(db)["sent"] == 1)
            await until(lambda: rows(db)[0]["last_error"] is not None)
        bad, fine = rows(db)
        assert bad["status"] == "pending" and bad["not_before"] is not None  # retried later
        assert str(bad["last_error"]).startswith(("TypeError", "AttributeError", "ValueError"))
        assert fine["status"] == "sent"
        assert f"outbox {bad['id']} to {FIRST_CHAT}: unexpected error" in caplog.text
