"""First contact: every start-up failure is one line and exit 2; a polled-elsewhere token, exit 3."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import web

from bot.service.runner import BotRunner, run_bot
from bot.service.startup import StartClock, StartupError
from tests.botapi import FakeBotApi
from tests.e2e.harness import make_settings
from tests.e2e.test_webhook import free_port


def _run(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("newsdigest")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSDIGEST_", "TELEGRAM_"))}
    return subprocess.run(
        [*command, "run"], env={**clean, "NEWSDIGEST_DB": str(cwd / "bot.db"), **env}, cwd=cwd,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@asynccontextmanager
async def not_the_bot_api(status: int, body: bytes, content_type: str) -> AsyncIterator[str]:
    """A web server at TELEGRAM_API_URL that is not a Bot API (a typo, a proxy's error page)."""

    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=status, body=body, content_type=content_type)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr  # one line, no traceback, PTB's records included
    assert lines[0].startswith("newsdigest run: ")
    return lines[0]


async def test_a_rejected_token_is_one_line(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        env = {"TELEGRAM_BOT_TOKEN": "123456:WRONG-token", "TELEGRAM_API_URL": api.base_url}
        line = _one_line(await asyncio.to_thread(_run, env, tmp_path))
    assert "TELEGRAM_BOT_TOKEN was rejected by the Bot API" in line and "@BotFather" in line
    assert "WRONG" not in line


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (404, b"<html><body>Not Found</body></html>", "text/html"),
        (200, b"<!doctype html><title>Welcome to nginx</title>", "text/html"),
        (200, b'{"ok": true, "result": "not a user"}', "application/json"),
    ],
)
async def test_a_server_that_is_not_the_bot_api_is_one_line(
    tmp_path: Path, status: int, body: bytes, content_type: str
) -> None:
    async with not_the_bot_api(status, body, content_type) as url:
        env = {"TELEGRAM_BOT_TOKEN": "123456:ABC-def", "TELEGRAM_API_URL": url}
        line = _one_line(await asyncio.to_thread(_run, env, tmp_path))
    assert "check TELEGRAM_API_URL" in line
    assert "is not a Telegram Bot API" in line or "not a Bot API answer" in line


async def test_the_readme_placeholder_is_one_line(tmp_path: Path) -> None:
    result = await asyncio.to_thread(
        _run, {"TELEGRAM_BOT_TOKEN": "123456:ABC-your-token"}, tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "newsdigest: configuration error: TELEGRAM_BOT_TOKEN is the README's placeholder: put "
        "the token @BotFather gave you in its place (no token at hand? try `newsdigest demo`)"
    ]


class FakeTime:
    """The start-up clock: sleeping advances it at once."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_no_network_is_retried_with_backoff_then_one_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there: connection refused
    settings = replace(make_settings(FakeBotApi(), tmp_path), api_url=closed, start_timeout=300.0)
    fake = FakeTime()
    start = StartClock(settings.start_timeout, now=fake.clock, sleep=fake.sleep)
    with caplog.at_level(logging.WARNING), pytest.raises(StartupError) as caught:
        run_bot(settings, stop_signals=(), start_clock=start)
    assert caught.value.code == 2
    assert str(caught.value).startswith(f"cannot reach the Bot API at {closed} (connection ")
    assert "gave up after 300 s (NEWSDIGEST_START_TIMEOUT)" in str(caught.value)
    assert fake.sleeps[:6] == [1, 2, 4, 8, 16, 30]  # backoff, capped at 30 s
    assert sum(fake.sleeps) == pytest.approx(300)
    retries = [r for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(retries) == len(fake.sleeps)
    assert not [r for r in caplog.records if r.exc_info]  # no traceback at any point


async def test_the_network_coming_back_during_start_up_is_fine(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        api.disconnect_next("getMe", times=2)
        fake = FakeTime()
        runner = BotRunner(
            make_settings(api, tmp_path),
            start_clock=StartClock(300.0, now=fake.clock, sleep=fake.sleep),
        )
        await runner.start()
        try:
            await api.send_text(7, "/start")
            assert "Hello" in (await api.wait_for_message(7, timeout=20)).plain_text
        finally:
            await runner.stop()
        assert fake.sleeps == [1, 2]


async def test_a_token_polled_elsewhere_is_one_line_then_exit_3(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    now = [0.0]
    async with FakeBotApi() as api:
        settings = make_settings(api, tmp_path)
        bot = asyncio.create_task(asyncio.to_thread(
            run_bot, settings, stop_signals=(), poll_clock=lambda: now[0], digest_tick=0.5,
        ))  # fmt: skip
        await api.send_text(7, "/start")
        await api.wait_for_message(7, timeout=20)
        with caplog.at_level(logging.INFO):
            api.poll_elsewhere()
            for _ in range(100):
                if any("getUpdates Conflict" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.05)
            now[0] += 31.0  # the conflict goes on for 30 s (of the injected clock)
            with pytest.raises(StartupError) as caught:
                await asyncio.wait_for(bot, 30)
    assert caught.value.code == 3
    assert str(caught.value).startswith("getUpdates Conflict for 31 s: another process polls")
    conflicts = [r for r in caplog.records if "Conflict" in r.getMessage()]
    assert len([r for r in conflicts if r.name == "bot.service.polling"]) == 1  # said once
    assert all(r.levelno == logging.WARNING for r in conflicts)
    assert not [r for r in caplog.records if r.exc_info]
