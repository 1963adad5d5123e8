"""Scheduled digests and the outbox, end to end through the Bot API stand-in."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import subprocess
import sys
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

from bot.settings import Settings
from storage.db import from_db_time, open_db, utcnow
from storage.outbox import PRIORITY_DIGEST, OutgoingMessage, enqueue, outbox_counts
from storage.readers import get_reader
from tests.botapi import FakeBotApi
from tests.clock import ManualClock
from tests.e2e.harness import (
    db_value,
    make_settings,
    run_job,
    running_bot,
    services,
    start_reader,
    write_article,
)
from tests.waiting import until as _until

READER = 202
ROOT = Path(__file__).resolve().parents[2]


def _queue(
    settings: Settings, messages: list[OutgoingMessage], application: Any | None = None
) -> None:
    """Queue as the bot's own code does; a running bot's sender is told, not left to poll."""
    db = open_db(settings.db_path)
    try:
        enqueue(db, messages, utcnow())
    finally:
        db.close()
    if application is not None:
        services(application).sender.wake()


def _counts(settings: Settings) -> dict[str, int]:
    db = open_db(settings.db_path)
    try:
        return outbox_counts(db)
    finally:
        db.close()


async def test_scheduled_digest_arrives_at_the_chosen_minute(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with FakeBotApi() as api:
        settings = make_settings(api, tmp_path)
        write_article(settings.articles_dir, "a.md", title="Scheduled story about batteries",
                      url="https://s.example/batteries", topics=["Energy"])  # fmt: skip
        async with running_bot(settings, clock=clock) as application:
            await start_reader(api, READER)
            # A whole minute ahead, in the reader's zone (Asia/Kolkata: a half-hour offset).
            await api.send_text(READER, "/timezone Asia/Kolkata")
            await api.wait_for_message(READER)
            target = (clock() + timedelta(minutes=10)).replace(second=0, microsecond=0)
            local = target.astimezone(timezone(timedelta(hours=5, minutes=30)))
            await api.send_text(READER, f"/time {local:%H:%M}")
            confirmation = await api.wait_for_message(READER)
            assert f"{local:%H:%M}" in confirmation.plain_text

            # A second before that minute, a tick queues nothing.
            clock.set(target - timedelta(seconds=1))
            await run_job(application, "digest-tick")
            assert _counts(settings) == {
                "pending": 0,
                "sent": 0,
                "failed": 0,
                "dropped": 0,
                "expired": 0,
            }

            # On the minute, the bot's own tick (every 0.5 s) queues it and the sender sends it.
            clock.set(target)
            digest = await api.wait_for_message(
                READER, lambda m: m.plain_text.startswith("Your digest ·"), timeout=10
            )
            queued_at = from_db_time(db_value(settings, "SELECT created_at FROM outbox"))
            assert target <= queued_at < target + timedelta(seconds=30)
            assert digest.plain_text.startswith(f"Your digest · {local:%a %d %b}")
            assert "Scheduled story about batteries" in digest.plain_text

            # It is sent once, and the next one is tomorrow.
            clock.advance(seconds=30)
            await run_job(application, "digest-tick")
            await _until(lambda: _counts(settings)["pending"] == 0)
            digests = [m for m in api.messages(READER) if m.plain_text.startswith("Your digest ·")]
            assert len(digests) == 1
            db = open_db(settings.db_path)
            reader = get_reader(db, READER)
            db.close()
            assert reader is not None and reader.next_digest_at == target + timedelta(days=1)


async def test_a_429_is_obeyed(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        settings = make_settings(api, tmp_path)
        async with running_bot(settings) as application:
            await start_reader(api, READER)
            api.fail_next("sendMessage", status=429, description="Too Many Requests: retry after 2",
                          parameters={"retry_after": 2})  # fmt: skip
            _queue(
                settings,
                [OutgoingMessage(READER, "<b>queued</b> news", "digest", PRIORITY_DIGEST)],
                application,
            )
            message = await api.wait_for_message(
                READER, lambda m: "queued" in m.plain_text, timeout=10
            )
            refused = [c for c in api.errors if c.status == 429]
            assert len(refused) == 1
            assert message.sent_at - refused[0].time >= 1.9  # waited as asked
            assert len([m for m in api.messages(READER) if "queued" in m.plain_text]) == 1
            await _until(lambda: _counts(settings)["sent"] == 1)


async def test_a_blocked_reader_is_deactivated_after_one_403(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        settings = make_settings(api, tmp_path)
        async with running_bot(settings) as application:
            await start_reader(api, READER)
            api.block(READER)
            api.clear_updates()  # the bot does not hear of it: it learns from the 403
            _queue(settings, [OutgoingMessage(READER, f"part {i}", "digest", PRIORITY_DIGEST)
                              for i in range(3)], application)  # fmt: skip
            await _until(lambda: _counts(settings)["dropped"] == 3, timeout=10)
            attempts = [c for c in api.calls if c.method == "sendMessage"
                        and c.params.get("chat_id") == READER and c.status == 403]  # fmt: skip
            assert len(attempts) == 1
            db = open_db(settings.db_path)
            reader = get_reader(db, READER)
            db.close()
            assert reader is not None and reader.status == "blocked"
            assert _counts(settings)["sent"] == 0


async def test_network_error_is_retried_and_sent_once(tmp_path: Path, clock: ManualClock) -> None:
    async with FakeBotApi() as api:
        settings = make_settings(api, tmp_path)
        async with running_bot(settings, clock=clock) as application:
            await start_reader(api, READER)
            api.disconnect_next("sendMessage")
            _queue(settings, [OutgoingMessage(READER, "flaky network", "digest", PRIORITY_DIGEST)],
                   application)  # fmt: skip
            # The first retry is due 2 s later by the sender's clock: move the clock, not time.
            await _until(lambda: db_value(settings, "SELECT attempts FROM outbox") == 1)
            assert _counts(settings)["pending"] == 1
            clock.advance(seconds=2)
            services(application).sender.wake()
            await api.wait_for_message(READER, lambda m: "flaky" in m.plain_text, timeout=10)
            await _until(lambda: _counts(settings)["sent"] == 1)
            assert len([m for m in api.messages(READER) if "flaky" in m.plain_text]) == 1


async def test_group_migration_moves_the_reader(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        settings = make_settings(api, tmp_path)
        api.add_group(-500, "Newsroom")
        api.migrate_group(-500, -100500)
        async with running_bot(settings) as application:
            _queue(settings, [OutgoingMessage(-500, "to the group", "digest", PRIORITY_DIGEST)],
                   application)  # fmt: skip
            message = await api.wait_for_message(-100500, lambda m: "to the group" in m.plain_text)
            assert message.chat_id == -100500


async def test_a_restart_resumes_the_outbox_in_order(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        settings = make_settings(api, tmp_path)
        readers = [301, 302, 303]
        async with running_bot(settings):
            for reader in readers:
                await start_reader(api, reader)
        # Queued while the bot is down.
        _queue(settings, [OutgoingMessage(r, f"part {i} for {r}", "digest", PRIORITY_DIGEST)
                          for r in readers for i in range(4)])  # fmt: skip
        async with running_bot(settings):
            await _until(lambda: _counts(settings)["sent"] == 12, timeout=15)
        for reader in readers:
            parts = [m.plain_text for m in api.messages(reader) if m.plain_text.startswith("part")]
            assert parts == [f"part {i} for {reader}" for i in range(4)]


async def test_kill_9_loses_nothing(tmp_path: Path) -> None:
    """SIGKILL mid-push: on restart every message is delivered, and only what was truly in
    flight is doubled: at most ceil(rate × round trip) + 2 (README, delivery guarantees)."""
    chats, rate, latency = 300, 50, 0.02
    async with FakeBotApi(open_chats=True, latency=latency) as api:
        settings = make_settings(api, tmp_path)
        db = open_db(settings.db_path)
        db.close()
        _queue(
            settings, [OutgoingMessage(1000 + i, f"push {i}", "breaking", 1) for i in range(chats)]
        )
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_URL": api.base_url,
            "NEWSDIGEST_DB": str(settings.db_path),
            "NEWSDIGEST_ARTICLES": str(settings.articles_dir),
            "NEWSDIGEST_RATE": str(rate),
        }
        command = [sys.executable, "-m", "bot", "run"]
        first = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=subprocess.DEVNULL)
        await _until(lambda: len(api.all_messages()) >= 60, timeout=20)
        first.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.wait, 10)
        delivered_before = len(api.all_messages())
        assert delivered_before < chats, "the push finished before the kill: make it longer"

        second = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=subprocess.DEVNULL)
        try:
            await _until(lambda: _counts(settings)["pending"] == 0, timeout=30)
        finally:
            second.send_signal(signal.SIGTERM)
            # The stand-in runs on this loop: wait in a thread so it keeps answering.
            started = asyncio.get_running_loop().time()
            assert await asyncio.to_thread(second.wait, 10) == 0
            assert asyncio.get_running_loop().time() - started < 5  # a clean, quick stop
        texts = [m.plain_text for m in api.all_messages()]
        assert set(texts) == {f"push {i}" for i in range(chats)}
        doubles = len(texts) - chats
        assert doubles <= math.ceil(rate * latency) + 2  # here: 3
        assert _counts(settings) == {
            "pending": 0, "sent": chats, "failed": 0, "dropped": 0, "expired": 0
        }  # fmt: skip
