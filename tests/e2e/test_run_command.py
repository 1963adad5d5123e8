"""`newsdigest run` as a process: answers, stops on a signal, never logs the token."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.botapi import FakeBotApi
from tests.e2e.harness import make_settings


def _command() -> list[str]:
    script = shutil.which("newsdigest", path=str(Path(sys.executable).parent))
    return [script, "run"] if script else [sys.executable, "-m", "bot", "run"]


def _env(api: FakeBotApi, tmp_path: Path, **extra: str) -> dict[str, str]:
    settings = make_settings(api, tmp_path)
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_URL": api.base_url,
        "NEWSDIGEST_DB": str(settings.db_path),
        "NEWSDIGEST_ARTICLES": str(settings.articles_dir),
        "NEWSDIGEST_SCAN_INTERVAL": "1",
        "NEWSDIGEST_LOG_LEVEL": "DEBUG",
        **extra,
    }


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_run_answers_and_stops_cleanly(tmp_path: Path, stop_signal: signal.Signals) -> None:
    async with FakeBotApi() as api:
        log = tmp_path / "bot.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                _command(), env=_env(api, tmp_path), cwd=tmp_path, stderr=sink
            )
            try:
                await api.send_text(7, "/start")
                reply = await api.wait_for_message(7, timeout=20)
                assert "Hello" in reply.plain_text
            finally:
                process.send_signal(stop_signal)
                started = asyncio.get_running_loop().time()
                # The stand-in runs on this loop: wait in a thread so it keeps answering.
                code = await asyncio.to_thread(process.wait, 15)
        assert code == 0
        assert asyncio.get_running_loop().time() - started < 5
        output = log.read_text()
        assert "newsdigest started" in output
        assert api.token not in output
        assert api.token.split(":", 1)[1] not in output


async def test_a_rejected_token_is_a_clear_error(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        env = _env(api, tmp_path, TELEGRAM_BOT_TOKEN="123456:WRONG-token")
        result = await asyncio.to_thread(
            subprocess.run, _command(), env=env, cwd=tmp_path, capture_output=True, text=True,
            timeout=30,
        )  # fmt: skip
        assert result.returncode == 2
        assert "TELEGRAM_BOT_TOKEN" in result.stderr
        assert "WRONG-token" not in result.stderr


async def test_a_missing_token_is_a_usage_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    result = await asyncio.to_thread(
        subprocess.run,
        _command(),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in result.stderr
