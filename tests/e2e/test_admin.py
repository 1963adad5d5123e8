"""Admin features end to end: /breaking (preview, Send, Cancel), `newsdigest breaking`, /stats.

The real Application runs against the Bot API stand-in over HTTP; readers are simulated
users who /start and pick topics with the real keyboards. Facts the chat cannot show
(push rows, outbox states) are read from the bot's SQLite file.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import main as cli_main
from bot.settings import Settings
from tests.botapi import Call, FakeBotApi, SentMessage
from tests.e2e.harness import (
    ADMIN_ID,
    db_value,
    make_settings,
    run_job,
    running_bot,
    start_reader,
    write_article,
)
from tests.waiting import until as wait_until

# The world every test starts from: three articles on three topics, and readers of each kind.
SEED_URL = (
    "https://www.euronews.com/my-europe/2023/06/14/meps-endorse-blanket-ban-on-facial-"
    "recognition-in-public-spaces-rejecting-targeted-exempti"
)
SEED_MARK = "MEPs endorse"  # in the seed article's title (topics: Computer Vision, AI)
SECOND_AI_TITLE = "Second AI story"
PRIVACY_TITLE = "Privacy rules tighten"

AI_READER = 101  # topic AI: matches the seed article
PRIVACY_READER = 102  # topic Privacy only: does not match it
ALL_READER = 103  # no topic chosen: matches everything
STOPPED_READER = 104  # topic AI, then /stop
BLOCKED_READER = 105  # topic AI, then blocked the bot (the bot saw the update)
SILENT_BLOCKER = 106  # blocks the bot without the bot being told
ACTIVE = (AI_READER, PRIVACY_READER, ALL_READER)
WAIT = 8.0  # generous per-step timeout; every wait ends as soon as its condition holds


@dataclass
class World:
    api: FakeBotApi
    settings: Settings
    application: Any

    async def scan_now(self) -> None:
        """Run the bot's folder-scan job once, now, and wait for it to finish.

        The world's scan interval is an hour, so no scan runs behind the tests' back:
        every scan writes (``last_scan_at``) on the bot's second connection, and a
        handler's read-then-write transaction that meets that write fails at once with
        "database is locked" (a deferred BEGIN), which would make these tests flaky for
        a reason they are not about. (Nor does the job's own first run come at start:
        ``first=0.0`` is already past when the scheduler starts, so it waits an interval.)
        """
        await run_job(self.application, "scan")

    def db_value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """One value from the bot's database, on a short-lived connection of our own."""
        return db_value(self.settings, sql, params)


@asynccontextmanager
async def admin_world(tmp_path: Path) -> AsyncIterator[World]:
    async with FakeBotApi() as api:
        # A digest time an hour ago: no scheduled digest can fall inside the test.
        hour = (datetime.now(UTC).hour - 1) % 24
        settings = make_settings(  # the seed article, plus the two below
            api, tmp_path, digest_time=dtime(hour, 0), scan_interval=3600.0
        )
        articles = settings.articles_dir
        write_article(articles, "second_ai.md", title=SECOND_AI_TITLE,
                      url="https://example.com/ai-2", topics=("AI",))  # fmt: skip
        write_article(articles, "privacy.md", title=PRIVACY_TITLE,
                      url="https://example.com/privacy", topics=("Privacy",))  # fmt: skip
        async with running_bot(settings) as application:
            world = World(api, settings, application)
            await world.scan_now()
            assert world.db_value("SELECT count(*) FROM topics") == 3
            await start_reader(api, AI_READER, ["AI"])
            await start_reader(api, PRIVACY_READER, ["Privacy"])
            await start_reader(api, ALL_READER)
            await start_reader(api, STOPPED_READER, ["AI"])
            await api.send_text(STOPPED_READER, "/stop")
            await api.wait_for_message(STOPPED_READER, lambda m: "unsubscribed" in m.plain_text)
            await start_reader(api, BLOCKED_READER, ["AI"])
            api.block(BLOCKED_READER)
            await wait_until(
                lambda: (
                    world.db_value("SELECT status FROM readers WHERE chat_id = ?", [BLOCKED_READER])
                    == "blocked"
                ),
                "the bot to see the block",
            )
            yield world
            assert api.unanswered_callback_queries() == []


def breaking_messages(api: FakeBotApi, uid: int, mark: str) -> list[SentMessage]:
    return [m for m in api.messages(uid) if mark in m.plain_text]


def sends_to(api: FakeBotApi, uid: int, mark: str = "") -> list[Call]:
    """sendMessage calls to ``uid`` (whatever their outcome) whose text contains ``mark``."""
    return [
        c
        for c in api.calls
        if c.method == "sendMessage"
        and c.params.get("chat_id") == uid
        and mark in str(c.params.get("text"))
    ]


async def breaking(api: FakeBotApi, target: str) -> tuple[SentMessage, SentMessage, int]:
    """Admin sends /breaking; returns (preview, confirmation, push id)."""
    await api.send_text(ADMIN_ID, f"/breaking {target}")
    preview = await api.wait_for_message(ADMIN_ID, timeout=WAIT)
    confirm = await api.wait_for_message(ADMIN_ID, timeout=WAIT)
    send, cancel = confirm.callback_data()
    push_id = int(send.removeprefix("push:send:"))
    assert (send, cancel) == (f"push:send:{push_id}", f"push:cancel:{push_id}")
    return preview, confirm, push_id


async def settle(api: FakeBotApi) -> None:
    """Wait until every earlier update has been handled: updates are handled in order,
    so once the admin's /help is answered, the button handlers before it have finished."""
    await api.send_text(ADMIN_ID, "/help")
    await api.wait_for_message(ADMIN_ID, lambda m: "/breaking" in m.plain_text, timeout=WAIT)


async def wait_done(api: FakeBotApi, confirm: SentMessage) -> str:
    """The confirmation message's final text once the push has finished."""
    await api.wait_for_edit(
        ADMIN_ID, confirm.message_id, lambda m: m.plain_text.startswith("Done:"), timeout=WAIT
    )
    await settle(api)
    return confirm.plain_text


async def test_non_admins_are_refused(tmp_path: Path) -> None:
    async with admin_world(tmp_path) as world:
        api = world.api
        before = {uid: len(api.messages(uid)) for uid in (*ACTIVE, ADMIN_ID)}
        for command in (f"/breaking {SEED_URL}", "/breaking Free text for all", "/stats"):
            await api.send_text(AI_READER, command)
            reply = await api.wait_for_message(AI_READER, timeout=WAIT)
            assert "not allowed" in reply.plain_text, command
        await settle(api)  # anything the refused commands could have queued is now queued
        assert world.db_value("SELECT count(*) FROM pushes") == 0
        assert world.db_value("SELECT count(*) FROM outbox") == 0
        assert len(api.messages(AI_READER)) == before[AI_READER] + 3
        for uid in (PRIVACY_READER, ALL_READER):
            assert len(api.messages(uid)) == before[uid]
        # Only the /help answer: no preview, and no error report either.
        assert len(api.messages(ADMIN_ID)) == before[ADMIN_ID] + 1
        assert api.errors == []


async def test_article_push_reaches_matching_readers_once(tmp_path: Path) -> None:
    async with admin_world(tmp_path) as world:
        api = world.api
        preview, confirm, push_id = await breaking(api, SEED_URL)
        assert SEED_MARK in preview.plain_text
        # Only the AI reader and the reader with no topics; stopped and blocked ones are out.
        assert "readers of this article's topics: 2" in confirm.plain_text
        assert [b["text"] for b in confirm.buttons()] == ["Send", "Cancel"]

        # A double tap: both presses reach the bot before it has removed the buttons.
        first = await api.press_button(ADMIN_ID, confirm.message_id, f"push:send:{push_id}")
        second = await api.press_button(ADMIN_ID, confirm.message_id, f"push:send:{push_id}")
        assert await wait_done(api, confirm) == "Done: 2 sent, 0 failed (of 2)."
        assert confirm.buttons() == []
        assert api.callback_answers[first].get("text") == "Sending to 2 readers"
        assert api.callback_answers[second].get("text") == "Already sent or cancelled"
        assert world.db_value("SELECT count(*) FROM outbox WHERE push_id = ?", [push_id]) == 2

        for uid in (AI_READER, ALL_READER):
            [got] = breaking_messages(api, uid, SEED_MARK)
            assert got.text == preview.text  # the preview is exactly what readers get
            assert len(sends_to(api, uid, SEED_MARK)) == 1  # no retry behind our back either
        for uid in (PRIVACY_READER, STOPPED_READER, BLOCKED_READER):
            assert breaking_messages(api, uid, SEED_MARK) == []

        # The push counts as delivered: the next /digest brings the other AI story only.
        await api.send_text(AI_READER, "/digest")
        digest = await api.wait_for_message(
            AI_READER, lambda m: SECOND_AI_TITLE in m.plain_text, timeout=WAIT
        )
        assert SEED_MARK not in digest.plain_text
        assert len(breaking_messages(api, AI_READER, SEED_MARK)) == 1
        assert api.errors == []


async def test_cancel_sends_nothing(tmp_path: Path) -> None:
    async with admin_world(tmp_path) as world:
        api = world.api
        _, confirm, push_id = await breaking(api, SEED_URL)
        cancel = await api.press_button(ADMIN_ID, confirm.message_id, f"push:cancel:{push_id}")
        # Send pressed right behind Cancel, before the buttons are gone: it must not send.
        late = await api.press_button(ADMIN_ID, confirm.message_id, f"push:send:{push_id}")
        await api.wait_for_edit(
            ADMIN_ID, confirm.message_id, lambda m: "Cancelled" in m.plain_text, timeout=WAIT
        )
        await settle(api)
        assert confirm.plain_text == "Cancelled: nothing was sent."
        assert confirm.buttons() == []
        assert api.callback_answers[cancel].get("text") == "Cancelled"
        assert api.callback_answers[late].get("text") == "Already sent or cancelled"
        assert world.db_value("SELECT status FROM pushes WHERE id = ?", [push_id]) == "cancelled"
        assert world.db_value("SELECT count(*) FROM outbox") == 0
        for uid in ACTIVE:
            assert breaking_messages(api, uid, SEED_MARK) == []

        # Control for the "counts as delivered" check above: undelivered, it is in the digest.
        await api.send_text(AI_READER, "/digest")
        digest = await api.wait_for_message(
            AI_READER, lambda m: SECOND_AI_TITLE in m.plain_text, timeout=WAIT
        )
        assert SEED_MARK in digest.plain_text
        assert api.errors == []


async def test_free_text_push_is_escaped_and_linked(tmp_path: Path) -> None:
    async with admin_world(tmp_path) as world:
        api = world.api
        text = "Big news <b>not html</b> see https://example.com/x."
        preview, confirm, push_id = await breaking(api, text)
        assert "every active reader: 3" in confirm.plain_text
        await api.press_button(ADMIN_ID, confirm.message_id, f"push:send:{push_id}")
        assert await wait_done(api, confirm) == "Done: 3 sent, 0 failed (of 3)."
        for uid in ACTIVE:
            [got] = breaking_messages(api, uid, "Big news")
            assert got.text == preview.text
            # The tags arrive as the characters the admin typed, not as formatting.
            assert "Big news <b>not html</b> see https://example.com/x." in got.plain_text
            bold = [e["length"] for e in got.entities if e["type"] == "bold"]
            assert bold == [len("Breaking")]  # only the bot's own header is bold
            links = [e["url"] for e in got.entities if e["type"] == "text_link"]
            assert links == ["https://example.com/x"]  # the full stop is not part of the URL
        for uid in (STOPPED_READER, BLOCKED_READER):
            assert breaking_messages(api, uid, "Big news") == []
        assert api.errors == []  # the stand-in refuses malformed HTML


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[Settings], None]:
    """The CLI reads its settings from the environment (and ./.env): give it the bot's."""

    def apply(settings: Settings) -> None:
        for name in list(os.environ):
            if name.startswith(("NEWSDIGEST_", "TELEGRAM_")):
                monkeypatch.delenv(name)
        monkeypatch.chdir(tmp_path)  # no stray .env from the checkout
        monkeypatch.setenv("NEWSDIGEST_DB", str(settings.db_path))
        monkeypatch.setenv("NEWSDIGEST_ARTICLES", str(settings.articles_dir))
        monkeypatch.setenv("NEWSDIGEST_TIMEZONE", "UTC")

    return apply


async def test_cli_breaking_is_delivered_by_the_running_bot(
    tmp_path: Path, cli_env: Callable[[Settings], None], capsys: pytest.CaptureFixture[str]
) -> None:
    async with admin_world(tmp_path) as world:
        api = world.api
        cli_env(world.settings)
        incoming = tmp_path / "incoming"
        incoming.mkdir()
        path = write_article(incoming, "flash.md", title="Privacy flash from the pipeline",
                             url="https://example.com/flash", topics=("Privacy",))  # fmt: skip

        code = await asyncio.to_thread(cli_main, ["breaking", str(path)])
        out = capsys.readouterr().out
        assert code == 0
        assert "queued for 2 readers" in out  # the Privacy reader and the one with no topics

        for uid in (PRIVACY_READER, ALL_READER):
            await api.wait_for_message(uid, lambda m: "Privacy flash" in m.plain_text, timeout=WAIT)
        await wait_until(
            lambda: (
                world.db_value(
                    "SELECT count(*) FROM outbox WHERE kind = 'breaking' AND status = 'sent'"
                )
                == 2
            ),
            "both messages recorded as sent",
        )
        assert world.db_value("SELECT count(*) FROM outbox") == 2
        for uid in (PRIVACY_READER, ALL_READER):
            assert len(breaking_messages(api, uid, "Privacy flash")) == 1
        assert breaking_messages(api, AI_READER, "Privacy flash") == []

        bad = incoming / "bad.md"
        bad.write_text("---\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
        assert await asyncio.to_thread(cli_main, ["breaking", str(bad)]) == 1
        assert "rejected" in capsys.readouterr().err
        assert await asyncio.to_thread(cli_main, ["breaking", "no such thing"]) == 2
        assert "neither an article file nor an http(s) URL" in capsys.readouterr().err
        assert world.db_value("SELECT count(*) FROM pushes") == 1
        assert api.errors == []


async def test_reader_who_blocked_is_tried_once_then_counted(tmp_path: Path) -> None:
    async with admin_world(tmp_path) as world:
        api = world.api
        await start_reader(api, SILENT_BLOCKER)
        api.block(SILENT_BLOCKER)
        api.clear_updates()  # the bot never hears of it: only the 403 can tell it

        _, confirm, push_id = await breaking(api, "First alert for everyone")
        assert "every active reader: 4" in confirm.plain_text
        await api.press_button(ADMIN_ID, confirm.message_id, f"push:send:{push_id}")
        assert await wait_done(api, confirm) == "Done: 3 sent, 1 failed (of 4)."

        _, confirm, push_id = await breaking(api, "Second alert for everyone")
        assert "every active reader: 3" in confirm.plain_text
        await api.press_button(ADMIN_ID, confirm.message_id, f"push:send:{push_id}")
        assert await wait_done(api, confirm) == "Done: 3 sent, 0 failed (of 3)."

        # Its /start answer, then the first push's 403; nothing after that.
        welcome, tried = sends_to(api, SILENT_BLOCKER)
        assert (welcome.status, tried.status) == (200, 403)
        assert "First alert" in tried.params["text"]
        await api.send_text(ADMIN_ID, "/stats")
        stats = await api.wait_for_message(ADMIN_ID, timeout=WAIT)
        assert "Readers: 3 active, 1 stopped, 2 blocked" in stats.plain_text
        assert "Outbox: 0 pending, 6 sent, 0 failed, 1 dropped, 0 expired" in stats.plain_text
        assert api.errors == [tried]


async def test_stats_figures(tmp_path: Path) -> None:
    async with admin_world(tmp_path) as world:
        api = world.api
        write_article(
            world.settings.articles_dir, "broken.md", "---\ntitle: [unclosed\n---\nbody\n"
        )
        await world.scan_now()
        assert world.db_value("SELECT count(*) FROM rejected_files") == 1

        # One of the two readers' messages is refused by Telegram: recorded as failed.
        _, confirm, push_id = await breaking(api, SEED_URL)
        api.fail_next("sendMessage", status=400, description="Bad Request: message is too long")
        await api.press_button(ADMIN_ID, confirm.message_id, f"push:send:{push_id}")
        assert await wait_done(api, confirm) == "Done: 1 sent, 1 failed (of 2)."

        await api.send_text(ADMIN_ID, "/stats")
        stats = await api.wait_for_message(ADMIN_ID, timeout=WAIT)
        lines = stats.plain_text.splitlines()
        assert "Readers: 3 active, 1 stopped, 1 blocked" in lines
        assert "Articles: 3 · topics: 3" in lines  # seed, second AI, privacy; AI, CV, Privacy
        assert "Files rejected: 1" in lines
        assert any("broken.md" in line for line in lines)
        assert "Outbox: 0 pending, 1 sent, 1 failed, 0 dropped, 0 expired" in lines
        assert [c.description for c in api.errors] == ["Bad Request: message is too long"]
