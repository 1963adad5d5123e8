"""`newsdigest run` as an operator runs it: one per database, tools beside it, health,
readiness for systemd, metrics, and secrets out of its output."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.botapi import FakeBotApi
from tests.e2e.harness import make_settings
from tests.e2e.test_webhook import free_port

API_PASSWORD = "s3cr3t-pass-word"


def _newsdigest() -> list[str]:
    script = Path(sys.executable).with_name("newsdigest")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def _env(api: FakeBotApi, tmp: Path, **extra: str) -> dict[str, str]:
    settings = make_settings(api, tmp)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSDIGEST_", "TELEGRAM_"))}
    host_port = api.base_url.removeprefix("http://")
    return {
        **clean,
        "TELEGRAM_BOT_TOKEN": api.token,
        # Credentials in the API URL are used, and must never be printed.
        "TELEGRAM_API_URL": f"http://operator:{API_PASSWORD}@{host_port}",
        "NEWSDIGEST_DB": str(settings.db_path),
        "NEWSDIGEST_ARTICLES": str(settings.articles_dir),
        "NEWSDIGEST_SCAN_INTERVAL": "1",
        **extra,
    }


async def _cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run, [*_newsdigest(), *args], env=env, cwd=cwd, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip


async def _notified(sock: socket.socket, wanted: str, timeout: float = 30.0) -> list[str]:
    """Datagrams from the bot on our NOTIFY_SOCKET until one contains ``wanted``."""
    seen: list[str] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            data = await asyncio.to_thread(sock.recv, 4096)
        except TimeoutError:
            continue
        seen.append(data.decode())
        if wanted in seen[-1]:
            return seen
    raise AssertionError(f"no {wanted!r} from the bot; got {seen}")


async def _health_until(env: dict[str, str], cwd: Path, code: int) -> str:
    for _ in range(40):
        result = await _cli(env, cwd, "health")
        if result.returncode == code:
            return result.stdout
        await asyncio.sleep(0.5)
    raise AssertionError(f"health never exited {code}: {result.stdout}{result.stderr}")


async def test_one_bot_per_database_with_the_tools_beside_it(tmp_path: Path) -> None:
    metrics_port = free_port()
    notify_path = tmp_path / "notify.sock"
    async with FakeBotApi() as api:
        env = _env(api, tmp_path, NOTIFY_SOCKET=str(notify_path),
                   NEWSDIGEST_METRICS_LISTEN=f"127.0.0.1:{metrics_port}")  # fmt: skip
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
            notify.bind(str(notify_path))
            notify.settimeout(0.5)
            log = tmp_path / "bot.log"
            with log.open("wb") as sink:
                bot = subprocess.Popen([*_newsdigest(), "run"], env=env, cwd=tmp_path, stderr=sink)
                try:
                    await _notified(notify, "READY=1")  # systemd's Type=notify readiness
                    await api.send_text(7, "/start")
                    await api.wait_for_message(7, timeout=20)

                    second = await _cli({**env, "NOTIFY_SOCKET": ""}, tmp_path, "run")
                    assert second.returncode == 2
                    assert second.stderr.count("\n") == 1, second.stderr
                    assert "another `newsdigest run` (pid " in second.stderr
                    assert "is already using" in second.stderr

                    # The one-shot commands work beside the running bot.
                    for args in (["ingest"], ["preview"], ["stats", "--json"], ["readers"]):
                        result = await _cli(env, tmp_path, *args)
                        assert result.returncode == 0, (args, result.stderr)
                    assert json.loads((await _cli(env, tmp_path, "stats", "--json")).stdout)[
                        "readers"]["active"] == 1  # fmt: skip
                    pushed = await _cli(env, tmp_path, "breaking", "--text", "Polls close at 8")
                    assert "queued for 1 readers" in pushed.stdout
                    assert "Polls close at 8" in (await api.wait_for_message(7, timeout=20)).text
                    healthy = await _health_until(env, tmp_path, 0)
                    assert healthy.startswith("healthy: pid ")

                    async with (
                        aiohttp.ClientSession() as session,
                        session.get(f"http://127.0.0.1:{metrics_port}/metrics") as response,
                    ):
                        metrics = await response.text()
                    assert (
                        'newsdigest_telegram_answers_total{method="getMe",status="200"}' in metrics
                    )
                    assert 'newsdigest_outbox_messages{status="sent"}' in metrics
                    assert "newsdigest_articles " in metrics
                finally:
                    bot.send_signal(signal.SIGTERM)
                    code = await asyncio.to_thread(bot.wait, 20)
                assert code == 0
                await _notified(notify, "STOPPING=1")
        stopped = await _cli(env, tmp_path, "health")
        assert stopped.returncode == 1
        assert stopped.stdout.startswith("unhealthy: the bot stopped at ")
    output = log.read_text()
    assert "newsdigest started" in output
    assert API_PASSWORD not in output and "operator" not in output
    assert "http://<redacted>@127.0.0.1" in output
    assert api.token not in output
    assert "Traceback" not in output
