"""Delivery under faults, end to end against the stand-in: outages, a full or read-only disk,
a slow Bot API, a revoked token, and stops in every state (flood wait, big tick, hung server).
Nothing is lost; nothing is sent twice beyond what was truly in flight."""

from __future__ import annotations

import asyncio
import math
import signal
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.delivery.digest_queue import run_digest_tick
from bot.delivery.outcomes import Backoff
from bot.delivery.sender import OutboxSender
from bot.delivery.transport import AiohttpRequest
from storage.db import open_db, to_db_time, utcnow
from storage.outbox import enqueue, outbox_counts
from storage.readers import get_reader
from tests.botapi import FakeBotApi
from tests.e2e.harness import make_settings
from tests.e2e.processes import (
    bot_env,
    bot_process,
    counts,
    db_value,
    pushes,
    queue,
    until,
    wait_exit,
)
from tests.factories import subscribe_reader
from tests.test_sender import drained, rows, running_sender

FAST_BACKOFF = {"base": 0.05, "cap": 0.2}  # seconds: an outage ends, delivery resumes at once


async def test_an_outage_loses_nothing(db_path: Path) -> None:
    """500s, then dropped connections, then a hung server: every message arrives once."""
    db = open_db(db_path)
    enqueue(db, pushes(4000, 60), utcnow())
    async with FakeBotApi(latency=0.01, open_chats=True) as api:
        async with running_sender(api, db_path, rate=100.0, backoff=Backoff(**FAST_BACKOFF)):
            api.outage(0.8, mode="error")
            await until(lambda: len(api.errors) >= 3)
            await asyncio.sleep(0.8)
            api.outage(0.5, mode="drop")
            await asyncio.sleep(0.6)
            api.outage(0.5, mode="hang")
            await until(drained(db), timeout=20)
        statuses = {c.status for c in api.errors}
        assert {500, 0} <= statuses  # the outage really happened, in both shapes
        assert len(api.all_messages()) == 60 and api.stats()["duplicates"] == 0
        stored = rows(db)
        assert {r["status"] for r in stored} == {"sent"}
        retried = [r for r in stored if int(r["attempts"]) > 1]  # type: ignore[call-overload]
        assert retried and all(r["last_error"] for r in retried)  # each kept its reason
    db.close()


def reader_with_digest(db: Database, chat: int, article_title: str) -> None:
    """A reader whose digest (one article) is queued, and whose next one is due in 1.5 s."""
    now = utcnow()
    subscribe_reader(db, chat, first_name="R", at=now - timedelta(days=2))
    db.execute(
        "INSERT INTO articles (url, web_url, title, published_at, ingested_at) "
        "VALUES (?, ?, ?, ?, ?)",
        ("https://e.example/x", "https://e.example/x", article_title,
         to_db_time(now - timedelta(hours=2)), to_db_time(now - timedelta(hours=1))),
    )  # fmt: skip
    db.execute("UPDATE readers SET next_digest_at = ? WHERE chat_id = ?", (to_db_time(now), chat))
    db.conn.commit()
    assert run_digest_tick(db, now) == 1
    db.execute(
        "UPDATE readers SET next_digest_at = ? WHERE chat_id = ?",
        (to_db_time(now + timedelta(seconds=1.5)), chat),
    )
    db.conn.commit()


async def test_a_digest_that_outlives_an_outage_comes_with_the_next_one(db_path: Path) -> None:
    chat, title = 5150, "Battery breakthrough confirmed"
    db = open_db(db_path)
    reader_with_digest(db, chat, title)
    async with FakeBotApi(open_chats=True) as api:
        async with running_sender(api, db_path, backoff=Backoff(**FAST_BACKOFF)):
            api.outage(60.0)
            # Retried while worth sending; then, the next digest being due, expired.
            await until(lambda: outbox_counts(db)["expired"] == 1, timeout=10)
            (expired,) = [r for r in rows(db) if r["status"] == "expired"]
            assert "next digest" in str(expired["last_error"])
            assert "Internal Server Error" in str(expired["last_error"])
            # The window follows what was delivered: the next digest has the article.
            assert run_digest_tick(db, utcnow()) == 1
            api.end_outage()
            await until(drained(db), timeout=10)
        (message,) = api.messages(chat)
        assert title in message.plain_text
        reader = get_reader(db, chat)
        assert reader is not None and reader.next_digest_at is not None
        assert reader.next_digest_at > utcnow()
    db.close()


def full_disk(db: Database) -> None:
    """SQLite's own "database or disk is full" on the sender's connection: no new pages."""
    (pages,) = db.execute("PRAGMA page_count").fetchone()
    db.execute(f"PRAGMA max_page_count = {pages}")


def read_only(db: Database) -> None:
    db.execute("PRAGMA query_only = ON")  # "attempt to write a readonly database"


def writable(db: Database) -> None:
    db.execute("PRAGMA query_only = OFF")
    db.execute("PRAGMA max_page_count = 1073741823")


async def unrecorded_stays_within_the_window(
    api: FakeBotApi, db: Database, sender: OutboxSender, *, stalls: bool
) -> int:
    """Watch until sending has stalled (0.5 s without a new send): at every look, what the
    stand-in accepted but the outbox does not show as sent fits in the window. Returns the
    window's size at the stall. (A full disk may still take a write that fits in a page's
    free space, so there sending may crawl to the end rather than stall: ``stalls``.)"""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    last_count, last_change = -1, loop.time()
    while loop.time() - last_change < 0.5:
        assert loop.time() < deadline, "sending never stopped although nothing was recorded"
        accepted = len(api.all_messages())
        unrecorded = accepted - outbox_counts(db)["sent"]
        assert unrecorded <= sender.window.capacity
        if accepted != last_count:
            last_count, last_change = accepted, loop.time()
        await asyncio.sleep(0.05)
    if stalls:
        assert sender.window.in_use > 0 and outbox_counts(db)["pending"] > 0
    return sender.window.capacity


@pytest.mark.parametrize("fault", [full_disk, read_only], ids=["disk-full", "read-only"])
async def test_no_send_goes_unrecorded_beyond_the_window(
    db_path: Path, fault: Callable[[Database], None]
) -> None:
    """Results cannot be written: sending stops once the in-flight window is used up, and
    resumes once writes succeed. A restart in between doubles at most that window."""
    stalls = fault is read_only
    db = open_db(db_path)
    enqueue(db, pushes(6000, 150), utcnow())
    async with FakeBotApi(latency=0.02, open_chats=True) as api:
        async with running_sender(api, db_path, rate=100.0) as sender:
            await until(lambda: outbox_counts(db)["sent"] >= 30)
            await sender._store.run(fault)
            await unrecorded_stays_within_the_window(api, db, sender, stalls=stalls)
            # Writes work again: everything recorded, sending resumes, no double at all.
            await sender._store.run(writable)
            await until(drained(db), timeout=20)
        assert api.stats()["duplicates"] == 0 and outbox_counts(db)["sent"] == 150

        # The same fault, then a stop (as good as a crash for what was unrecorded) and a
        # restart: only the window's worth is sent twice.
        api.reset_observations()
        enqueue(db, pushes(7000, 150, "second"), utcnow())
        async with running_sender(api, db_path, rate=100.0) as sender:
            await until(lambda: outbox_counts(db)["sent"] >= 180)
            await sender._store.run(fault)
            window = await unrecorded_stays_within_the_window(api, db, sender, stalls=stalls)
        async with running_sender(api, db_path, rate=100.0):
            await until(drained(db), timeout=20)
        assert api.stats()["duplicates"] <= window
        if stalls:
            assert api.stats()["duplicates"] > 0  # the window's worth was really unrecorded
        assert outbox_counts(db)["sent"] == 300
    db.close()


async def test_a_late_answer_is_waited_for_not_doubled(db_path: Path) -> None:
    """The transport's default read timeout is 0.3 s here; Telegram answers after 1 s.
    Queued sends wait generously, so the message is recorded once, not resent."""
    db = open_db(db_path)
    enqueue(db, pushes(8000, 3), utcnow())
    async with FakeBotApi(open_chats=True) as api:
        api.slow_answers(1.0)
        request = AiohttpRequest(read_timeout=0.3)
        async with running_sender(api, db_path, request=request):
            await until(drained(db), timeout=10)
        assert len(api.all_messages()) == 3 and api.stats()["duplicates"] == 0
        assert [r["attempts"] for r in rows(db)] == [1, 1, 1]
    db.close()


async def test_an_answer_later_than_the_send_timeout_is_resent_and_recorded(
    db_path: Path,
) -> None:
    """The trade-off, documented in README: past the send timeout a send may be lost or
    delivered; it is sent again (nothing lost) and its row says it was unconfirmed."""
    db = open_db(db_path)
    enqueue(db, pushes(8100, 1), utcnow())
    async with FakeBotApi(open_chats=True) as api:
        api.slow_answers(1.0, times=1)
        async with running_sender(api, db_path, send_timeout=0.4, backoff=Backoff(0.05, 0.1)):
            await until(drained(db), timeout=10)
        assert len(api.all_messages()) == 2  # the one double, of what was truly in flight
        (row,) = rows(db)
        assert row["status"] == "sent" and row["attempts"] == 2
        assert str(row["last_error"]).startswith("unconfirmed: no answer within 0 s")
    db.close()


async def test_a_revoked_token_stops_the_bot_with_exit_2(tmp_path: Path) -> None:
    async with FakeBotApi(open_chats=True, latency=0.01) as api:
        settings = make_settings(api, tmp_path)
        open_db(settings.db_path).close()
        queue(settings, pushes(1000, 200))
        log = tmp_path / "bot.log"
        env = bot_env(api, settings, NEWSDIGEST_RATE="50")
        with bot_process(env, tmp_path, log) as process:
            await until(lambda: len(api.all_messages()) >= 20, timeout=20)
            api.revoke_token()
            code, _ = await wait_exit(process, 30)
        output = log.read_text()
        assert code == 2
        assert "TELEGRAM_BOT_TOKEN was revoked" in output
        assert "Task exception was never retrieved" not in output
        assert api.token.split(":", 1)[1] not in output
        found = counts(settings)
        assert found["failed"] == found["expired"] == 0
        assert found["sent"] + found["pending"] == 200 and found["pending"] > 0
        # A new token (here: the old one back) and a restart deliver the rest.
        api.restore_token()
        with bot_process(env, tmp_path, tmp_path / "again.log") as process:
            await until(lambda: counts(settings)["pending"] == 0, timeout=30)
            process.send_signal(signal.SIGTERM)
            assert (await wait_exit(process, 15))[0] == 0
        texts = [m.plain_text for m in api.all_messages()]
        assert set(texts) == {f"push {i}" for i in range(200)}


@pytest.mark.parametrize("state", ["flood-wait", "hung-server"])
async def test_sigterm_stops_within_10_s_and_loses_nothing(tmp_path: Path, state: str) -> None:
    rate, latency = 50, 0.02
    async with FakeBotApi(open_chats=True, latency=latency) as api:
        settings = make_settings(api, tmp_path)
        open_db(settings.db_path).close()
        queue(settings, pushes(1000, 150))
        env = bot_env(api, settings, NEWSDIGEST_RATE=str(rate))
        with bot_process(env, tmp_path, tmp_path / "bot.log") as process:
            await until(lambda: len(api.all_messages()) >= 10, timeout=20)
            if state == "flood-wait":
                api.fail_next("sendMessage", status=429, description="Too Many Requests: "
                              "retry after 90", parameters={"retry_after": 90})  # fmt: skip
                await until(lambda: api.count_429 == 1)
            else:
                api.outage(120.0, mode="hang", include_updates=True)
                await until(lambda: api.in_flight > 0)
            await asyncio.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            code, took = await wait_exit(process, 15)
        assert code == 0 and took < 10
        api.end_outage()
        found = counts(settings)
        assert found["sent"] + found["pending"] == 150 and found["pending"] > 0
        waiting = "SELECT count(*) FROM outbox WHERE status = 'pending' AND not_before > ?"
        told_to_wait = db_value(settings, waiting, (to_db_time(utcnow()),))
        # The refused send keeps Telegram's 90 s (recorded); sends the hung server never
        # answered wait out the outage backoff; everything else goes at once.
        if state == "flood-wait":
            assert told_to_wait == 1
        with bot_process(env, tmp_path, tmp_path / "again.log") as process:
            await until(lambda: counts(settings)["pending"] <= told_to_wait, timeout=30)
            db = open_db(settings.db_path)
            with db.conn:  # ...and when its time has come, it goes too
                db.execute("UPDATE outbox SET not_before = NULL")
            db.close()
            await until(lambda: counts(settings)["pending"] == 0, timeout=30)
            process.send_signal(signal.SIGTERM)
            assert (await wait_exit(process, 15))[0] == 0
        texts = [m.plain_text for m in api.all_messages()]
        assert set(texts) == {f"push {i}" for i in range(150)}
        assert len(texts) - 150 <= math.ceil(rate * latency) + 2


async def test_a_stop_under_load_is_quiet_and_doubles_nothing(tmp_path: Path) -> None:
    async with FakeBotApi(open_chats=True, latency=0.05) as api:
        settings = make_settings(api, tmp_path)
        open_db(settings.db_path).close()
        queue(settings, pushes(1000, 300))
        log = tmp_path / "bot.log"
        env = bot_env(api, settings, NEWSDIGEST_RATE="100")
        with bot_process(env, tmp_path, log) as process:
            await until(lambda: len(api.all_messages()) >= 50, timeout=20)
            process.send_signal(signal.SIGTERM)
            code, took = await wait_exit(process, 15)
        output = log.read_text()
        assert code == 0 and took < 10
        for noise in ("Unclosed", "Task exception was never retrieved", "Traceback", "ERROR"):
            assert noise not in output, output
        # Whatever was in flight at the stop was answered and recorded: nothing to redo twice.
        assert counts(settings)["sent"] == len(api.all_messages())
        assert api.stats()["duplicates"] == 0


async def test_sigterm_during_a_big_tick_stops_between_batches(tmp_path: Path) -> None:
    readers = 12_000
    async with FakeBotApi(open_chats=True) as api:
        settings = make_settings(api, tmp_path)
        db = open_db(settings.db_path)
        now = utcnow()
        with db.conn:
            db.conn.executemany(
                "INSERT INTO readers (chat_id, user_id, status, digest_time, timezone, "
                "next_digest_at, created_at, updated_at) VALUES (?, ?, 'active', '08:00', 'UTC', "
                "?, ?, ?)",
                [(100_000 + i, 100_000 + i, to_db_time(now - timedelta(minutes=1)),
                  to_db_time(now), to_db_time(now)) for i in range(readers)],
            )  # fmt: skip
        db.close()
        env = bot_env(api, settings, NEWSDIGEST_RATE="25")
        due = "SELECT count(*) FROM readers WHERE next_digest_at <= ?"
        with bot_process(env, tmp_path, tmp_path / "bot.log") as process:
            await until(lambda: counts(settings)["pending"] > 0, timeout=30)  # a batch is in
            process.send_signal(signal.SIGTERM)
            code, took = await wait_exit(process, 15)
        assert code == 0 and took < 10
        left = db_value(settings, due, (to_db_time(utcnow()),))
        assert isinstance(left, int) and 0 < left < readers  # stopped between batches
        with bot_process(env, tmp_path, tmp_path / "again.log") as process:
            await until(lambda: db_value(settings, due, (to_db_time(utcnow()),)) == 0, timeout=60)
            process.send_signal(signal.SIGTERM)
            assert (await wait_exit(process, 15))[0] == 0
        # Every reader got exactly one digest queued: none lost, none twice.
        per_reader = "SELECT count(DISTINCT created_at) FROM outbox GROUP BY chat_id"
        db = open_db(settings.db_path)
        try:
            queued = [n for (n,) in db.execute(per_reader)]
        finally:
            db.close()
        assert len(queued) == readers and set(queued) == {1}
