"""Run the real Application against the local Bot API stand-in, as `newsdigest run` does."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import ALLOWED_UPDATES, build_application
from bot.context import Services
from bot.settings import Settings
from storage.db import open_db, utcnow
from tests import factories
from tests.botapi import FakeBotApi

DATA = Path(__file__).resolve().parent.parent / "data"
ADMIN_ID = 9001


def write_article(folder: Path, name: str, data: str | bytes | None = None, **fields: Any) -> Path:
    """:func:`tests.factories.write_article`, published two hours before the real now: the
    running bot ranks and dates articles by the wall clock."""
    fields.setdefault("now", utcnow())
    return factories.write_article(folder, name, data, **fields)


def make_settings(api: FakeBotApi, tmp: Path, **overrides: Any) -> Settings:
    articles = tmp / "articles"
    articles.mkdir(exist_ok=True)
    if not any(articles.iterdir()):
        shutil.copy(DATA / "seed.md", articles / "seed.md")
        factories.age_file(articles / "seed.md")
    settings = Settings(
        bot_token=api.token,
        api_url=api.base_url,
        db_path=tmp / "newsdigest.db",
        articles_dir=articles,
        admins=frozenset({ADMIN_ID}),
        timezone=ZoneInfo("UTC"),
        digest_time=dtime(8, 0),
        scan_interval=0.5,
        rate=200.0,
        # The seed article is from 2023: these tests treat it as news (NEWSDIGEST_MAX_AGE).
        max_age=timedelta(days=36_500),
    )
    return replace(settings, **overrides)


@asynccontextmanager
async def running_bot(
    settings: Settings, *, digest_tick: float = 0.5, clock: Callable[[], datetime] = utcnow
) -> AsyncIterator[Any]:
    """Start the Application like run_polling does (post_init included), stop it cleanly.

    ``clock``: "now" for the bot's jobs and sender (a :class:`tests.clock.ManualClock`)."""
    application = build_application(settings, digest_tick=digest_tick, clock=clock)
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    assert application.updater is not None
    await application.updater.start_polling(
        poll_interval=0.0, timeout=1, allowed_updates=ALLOWED_UPDATES
    )
    await application.start()
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
        await application.shutdown()


async def start_reader(
    api: FakeBotApi, uid: int, topics: Sequence[str] = (), *, timeout: float = 8.0
) -> None:
    """/start, then tick ``topics`` in the /topics keyboard like a user would."""
    await api.send_text(uid, "/start")
    await api.wait_for_message(uid, lambda m: "Hello" in m.plain_text, timeout=timeout)
    if not topics:
        return
    await api.send_text(uid, "/topics")
    picker = await api.wait_for_message(
        uid, lambda m: "Pick your topics" in m.plain_text, timeout=timeout
    )
    for name in topics:
        data = next(b["callback_data"] for b in picker.buttons() if b["text"] == name)
        assert data.startswith("tt:")
        await api.press_button(uid, picker.message_id, data)
        await api.wait_for_edit(
            uid,
            picker.message_id,
            lambda m, name=name: any(b["text"] == f"✅ {name}" for b in m.buttons()),
            timeout=timeout,
        )


async def run_job(application: Any, name: str) -> None:
    """Run one of the bot's repeating jobs (``"digest-tick"``, ``"scan"``) now, to its end."""
    assert application.job_queue is not None
    [job] = application.job_queue.get_jobs_by_name(name)
    await job.run(application)


def services(application: Any) -> Services:
    """The running bot's services (its sender, its database threads)."""
    found = application.bot_data["services"]
    assert isinstance(found, Services)
    return found


def db_value(settings: Settings, sql: str, params: Sequence[Any] = ()) -> Any:
    """One value from the bot's database, on a short-lived connection of our own."""
    db = open_db(settings.db_path, migrate=False)
    try:
        row = db.execute(sql, tuple(params)).fetchone()
    finally:
        db.close()
    return None if row is None else row[0]
