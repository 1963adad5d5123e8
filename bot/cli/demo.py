"""``newsdigest demo``: the bot at work with no token, against the project's own Bot API stand-in.

A scripted reader subscribes, picks a topic, asks for a digest and for related
coverage, and the chat is printed. Everything is local and temporary: the stand-in
listens on 127.0.0.1, the database and the articles (copies of the shipped samples)
live in a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import textwrap
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from newsdigest_botapi import FakeBotApi
from newsdigest_examples import ARTICLES as EXAMPLE_ARTICLES

from bot.service.runner import BotRunner
from bot.service.startup import StartClock
from bot.settings import Settings

READER_ID = 4242
WAIT = 15.0  # seconds for any one answer; the demo normally takes about two


class DemoFailed(Exception):
    pass


def cmd_demo(settings: Settings, *, reader: str = "Ada") -> int:
    root = logging.getLogger()
    level = root.level
    if settings.log_level == "INFO":  # the chat is the output; say only what goes wrong
        root.setLevel(logging.WARNING)
    try:
        with tempfile.TemporaryDirectory(prefix="newsdigest-demo-") as scratch:
            asyncio.run(_demo(settings, Path(scratch), reader))
    except DemoFailed as exc:
        print(f"newsdigest demo: {exc}")
        return 1
    finally:
        root.setLevel(level)
    return 0


def _copy_samples(folder: Path) -> int:
    folder.mkdir()
    old = time.time() - 60  # settled: the scan takes files that are not being written
    count = 0
    for sample in sorted(EXAMPLE_ARTICLES.glob("*.md")):
        copy = folder / sample.name
        shutil.copyfile(sample, copy)
        os.utime(copy, (old, old))
        count += 1
    return count


SAMPLES_MAX_AGE = timedelta(days=36_500)


async def _demo(settings: Settings, scratch: Path, name: str) -> None:
    articles = scratch / "articles"
    count = _copy_samples(articles)
    async with FakeBotApi() as api:
        api.add_user(READER_ID, first_name=name)
        demo_settings = replace(
            settings,
            bot_token=api.token,
            api_url=api.base_url,
            db_path=scratch / "demo.db",
            articles_dir=articles,
            admins=frozenset(),
            webhook_url=None,
            webhook_secret=None,
            metrics_listen=None,
            scan_interval=3600.0,
            # The samples were published in 2023: in the demo they still count as news.
            max_age=SAMPLES_MAX_AGE,
        )
        print(f"newsdigest demo: a local Bot API at {api.base_url}, the bot on {count} sample")
        print(f"articles in a temporary database, and {name}, a scripted reader.\n")
        runner = BotRunner(demo_settings, digest_tick=1.0, start_clock=StartClock(10.0))
        await runner.start()
        try:
            await _script(api, name)
        finally:
            await runner.stop()
    print("That was the real bot (python-telegram-bot over HTTP, SQLite, the scheduler) with")
    print("a stand-in for Telegram. To run it for real, put your token from @BotFather in .env")
    print("(see .env.example), drop article files in ./articles and run `newsdigest run`.")


async def _script(api: Any, name: str) -> None:
    await _say(api, name, "/start")
    picker = None
    for _ in range(50):  # the folder scan at start stores the topics
        picker = await _say(api, name, "/topics", show=False)
        if len(picker.buttons()) > 2:
            break
        await asyncio.sleep(0.1)
    assert picker is not None
    _show("bot", picker)
    choice = next(
        (b for b in picker.buttons() if b["text"].removeprefix("✅ ") == "AI"), picker.buttons()[0]
    )
    print(f"{name} › taps [{choice['text']}]")
    await api.press_button(READER_ID, picker.message_id, choice["callback_data"])
    _show("bot", await api.wait_for_edit(READER_ID, picker.message_id, timeout=WAIT), edited=True)
    digest = await _say(api, name, "/digest")
    buttons = [b for b in digest.buttons() if str(b.get("callback_data", "")).startswith("st:")]
    # Open the story card of an entry with several sources ("🗞 N sources" under it), if any.
    covered = [
        block.split(".", 1)[0]
        for block in digest.plain_text.split("\n\n")
        if "🗞 " in block and block.split(".", 1)[0].isdigit()
    ]
    chosen = next((b for b in buttons if covered and b["text"].endswith(f" {covered[0]}")), None)
    chosen = chosen or (buttons[0] if buttons else None)
    if chosen is not None:
        label, story = chosen["text"], chosen["callback_data"]
        print(f"{name} › taps [{label}]")
        await api.press_button(READER_ID, digest.message_id, story)
        _show("bot", await api.wait_for_edit(READER_ID, digest.message_id, timeout=WAIT),
              edited=True)  # fmt: skip
    await _say(api, name, "/time 07:30")
    await _say(api, name, "/settings")


async def _say(api: Any, name: str, text: str, *, show: bool = True) -> Any:
    if show:
        print(f"{name} › {text}")
    await api.send_text(READER_ID, text)
    try:
        reply = await api.wait_for_message(READER_ID, timeout=WAIT)
    except TimeoutError:
        raise DemoFailed(f"the bot did not answer {text!r} within {WAIT:.0f} s") from None
    if show:
        _show("bot", reply)
    return reply


def _show(who: str, message: Any, *, edited: bool = False) -> None:
    label = f"{who} ‹ " + ("(edits its message) " if edited else "")
    lines = []
    for paragraph in message.plain_text.splitlines() or [""]:
        lines += textwrap.wrap(paragraph, 88) or [""]
    print(label + lines[0])
    for line in lines[1:]:
        print(" " * len(f"{who} ‹ ") + line)
    buttons = [b["text"] for b in message.buttons()]
    if buttons:
        print(" " * len(f"{who} ‹ ") + " ".join(f"[{b}]" for b in buttons))
    print()
