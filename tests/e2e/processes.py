"""`newsdigest run` as a child process against the stand-in, and the outbox seen from outside."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from bot.settings import Settings
from storage.db import open_db, utcnow
from storage.outbox import OutgoingMessage, enqueue, outbox_counts
from tests.botapi import FakeBotApi


def command() -> list[str]:
    script = shutil.which("newsdigest", path=str(Path(sys.executable).parent))
    return [script, "run"] if script else [sys.executable, "-m", "bot", "run"]


def bot_env(api: FakeBotApi, settings: Settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_URL": api.base_url,
        "NEWSDIGEST_DB": str(settings.db_path),
        "NEWSDIGEST_ARTICLES": str(settings.articles_dir),
        "NEWSDIGEST_ADMINS": ",".join(str(a) for a in settings.admins),
        "NEWSDIGEST_LOG_LEVEL": "INFO",
        # What "new" means, as the in-process bot has it (the seed articles are from 2023).
        "NEWSDIGEST_MAX_AGE": f"{settings.max_age.total_seconds() / 3600:g}h",
        **extra,
    }


@contextmanager
def bot_process(env: dict[str, str], cwd: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The bot, its stderr into ``log``; killed if the test leaves it running."""
    with log.open("wb") as sink:
        process = subprocess.Popen(command(), env=env, cwd=cwd, stderr=sink)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


async def wait_exit(process: subprocess.Popen[bytes], timeout: float) -> tuple[int, float]:
    """(exit code, seconds it took); the stand-in on this loop keeps answering meanwhile."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    code = await asyncio.to_thread(process.wait, timeout)
    return code, loop.time() - started


def queue(settings: Settings, messages: Sequence[OutgoingMessage]) -> None:
    db = open_db(settings.db_path)
    try:
        enqueue(db, messages, utcnow())
    finally:
        db.close()


def counts(settings: Settings) -> dict[str, int]:
    db = open_db(settings.db_path)
    try:
        return outbox_counts(db)
    finally:
        db.close()


def db_value(settings: Settings, sql: str, params: Sequence[object] = ()) -> object:
    db = open_db(settings.db_path, migrate=False)
    try:
        return db.execute(sql, tuple(params)).fetchone()[0]
    finally:
        db.close()


async def until(predicate: Callable[[], bool], timeout: float = 10.0, every: float = 0.05) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(every)


def pushes(first_chat: int, n: int, label: str = "push") -> list[OutgoingMessage]:
    """One breaking message to each of ``n`` chats."""
    return [OutgoingMessage(first_chat + i, f"{label} {i}", "breaking", 1) for i in range(n)]
