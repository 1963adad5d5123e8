"""Webhook mode: PTB's own server behind NEWSDIGEST_WEBHOOK_URL, the secret token on every update."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import aiohttp

from bot.service.runner import BotRunner
from bot.service.startup import StartClock
from bot.settings import Settings
from storage.db import get_state, open_db
from tests.botapi import FakeBotApi
from tests.e2e.harness import make_settings

READER = 501
PUBLIC_URL = "https://bot.example.com/telegram/hook"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def webhook_settings(api: FakeBotApi, tmp: Path, **overrides: object) -> Settings:
    return replace(
        make_settings(api, tmp),
        webhook_url=PUBLIC_URL,
        webhook_listen=("127.0.0.1", free_port()),
        **overrides,  # type: ignore[arg-type]
    )


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[BotRunner]:
    runner = BotRunner(settings, digest_tick=0.5, start_clock=StartClock(5.0))
    await runner.start()
    try:
        yield runner
    finally:
        await runner.stop()


async def post(settings: Settings, update: dict[str, object], secret: str | None) -> int:
    host, port = settings.webhook_listen
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://{host}:{port}/telegram/hook", json=update, headers=headers
        ) as response,
    ):
        return response.status


async def test_updates_need_the_secret_and_get_answers(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        settings = webhook_settings(api, tmp_path)
        async with running(settings):
            # setWebhook told Telegram where to post and which secret to send.
            assert api.webhook is not None
            assert api.webhook["url"] == PUBLIC_URL
            secret = api.webhook["secret_token"]
            assert secret and len(secret) >= 32
            db = open_db(settings.db_path, migrate=False)
            try:
                assert get_state(db, "webhook_secret") == secret  # generated once, stored
            finally:
                db.close()

            update = api.take_update(await api.send_text(READER, "/start"))
            assert await post(settings, update, None) == 403
            assert await post(settings, update, "not-the-secret") == 403
            assert api.messages(READER) == []  # refused updates reach no handler

            assert await post(settings, update, secret) == 200
            reply = await api.wait_for_message(READER, timeout=10)
            assert "Hello" in reply.plain_text
            # Updates come by webhook only: the bot never polled.
            assert not [c for c in api.calls if c.method == "getUpdates"]

        # A restart reuses the stored secret: Telegram's pending posts still carry it.
        async with running(settings):
            assert api.webhook is not None and api.webhook["secret_token"] == secret
            update = api.take_update(await api.send_text(READER, "/help"))
            assert await post(settings, update, secret) == 200
            assert "/topics" in (await api.wait_for_message(READER, timeout=10)).plain_text


async def test_a_configured_secret_is_used_and_polling_deletes_the_webhook(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        settings = webhook_settings(api, tmp_path, webhook_secret="my_own-Secret123")
        async with running(settings):
            assert api.webhook is not None
            assert api.webhook["secret_token"] == "my_own-Secret123"
            update = api.take_update(await api.send_text(READER, "/start"))
            assert await post(settings, update, "my_own-Secret123") == 200
            await api.wait_for_message(READER, timeout=10)
        # Back to long polling (the default): the webhook is removed, updates are polled.
        polling = replace(settings, webhook_url=None, webhook_secret=None)
        async with running(polling):
            assert api.webhook is None
            await api.send_text(READER, "/help")
            assert "/topics" in (await api.wait_for_message(READER, timeout=10)).plain_text


async def test_a_taken_webhook_port_is_one_clear_error(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        settings = webhook_settings(api, tmp_path)
        with socket.socket() as taken:
            taken.bind(settings.webhook_listen)
            taken.listen()
            runner = BotRunner(settings, start_clock=StartClock(5.0))
            try:
                await runner.start()
            except Exception as exc:
                message = str(exc)
            else:
                raise AssertionError("the bot started on a taken port")
            finally:
                await runner.stop()
        assert message.startswith("cannot listen on NEWSDIGEST_WEBHOOK_LISTEN=127.0.0.1:")
        assert "choose a free port" in message
