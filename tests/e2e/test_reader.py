"""Readers' conversations, end to end: the real Application over HTTP against the stand-in."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from bot.settings import Settings
from tests.botapi import FakeBotApi, SentMessage
from tests.e2e.harness import ADMIN_ID, make_settings, running_bot, write_article

READER = 101
SEED_URL = (
    "https://www.euronews.com/my-europe/2023/06/14/"
    "meps-endorse-blanket-ban-on-facial-recognition-in-public-spaces-rejecting-targeted-exempti"
)


def _articles(settings: Settings) -> None:
    folder = settings.articles_dir
    write_article(folder, "ai-1.md", title="Robots learn to fold laundry", url="https://a.example/robots",
                  topics=["AI", "Robotics"], quality=80)  # fmt: skip
    write_article(folder, "cooking.md", title="A better way to bake sourdough bread",
                  url="https://c.example/bread", topics=["Cooking"], quality=90)  # fmt: skip
    write_article(folder, "ai-2.md", title="Chip makers race to build AI accelerators",
                  url="https://b.example/chips", topics=["AI", "Semiconductors"], quality=60,
                  provider=("B Wire", "b.example"), related=[("Robots learn to fold laundry", "https://a.example/robots", "A")])  # fmt: skip


async def _command(api: FakeBotApi, text: str, user: int = READER) -> SentMessage:
    await api.send_text(user, text)
    return await api.wait_for_message(user)


async def _wait_for_topics(api: FakeBotApi, names: set[str], user: int = READER) -> SentMessage:
    """Ask /topics until the folder scan has stored every topic in ``names``."""
    for _ in range(50):
        picker = await _command(api, "/topics", user)
        labels = {b["text"].removeprefix("✅ ") for b in picker.buttons()}
        if names <= labels:
            return picker
        await asyncio.sleep(0.2)
    raise AssertionError(f"topics {names} never appeared")


def _button(message: SentMessage, label: str) -> str:
    for button in message.buttons():
        if button["text"].removeprefix("✅ ") == label:
            return str(button["callback_data"])
    raise AssertionError(f"no button {label!r} in {message.buttons()}")


async def test_reader_conversation(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        settings = make_settings(api, tmp_path)
        _articles(settings)
        async with running_bot(settings):
            greeting = await _command(api, "/start")
            assert "/topics" in greeting.plain_text
            assert f"tp:{READER}:0" in greeting.callback_data()

            picker = await _wait_for_topics(api, {"AI", "Cooking", "Robotics"})
            assert all(len(d.encode()) <= 64 for d in picker.callback_data())
            await api.press_button(READER, picker.message_id, _button(picker, "AI"))
            edited = await api.wait_for_edit(READER, picker.message_id)
            assert "✅ AI" in [b["text"] for b in edited.buttons()]
            assert "Selected: AI" in edited.plain_text

            # The digest holds only AI stories; the two linked ones are one entry.
            await api.send_text(READER, "/digest")
            digest = await api.wait_for_message(READER)
            assert "Robots learn to fold laundry" in digest.plain_text
            # The linked story is folded into the first entry: its sources line links it.
            assert "Chip makers race" not in digest.plain_text
            assert '🗞 2 sources · Example News, <a href="https://b.example/chips">B Wire</a>' in (
                digest.text
            )
            assert "sourdough" not in digest.plain_text
            assert "facial recognition" in digest.plain_text.lower()  # the seed is tagged AI
            assert not any(d.startswith("rel:") for d in digest.callback_data())

            again = await _command(api, "/digest")
            assert "Nothing new since" in again.plain_text

            # 🗞 opens the entry's story card in place: all its coverage, newest first.
            story = next(d for d in digest.callback_data() if d.startswith("st:"))
            await api.press_button(READER, digest.message_id, story)
            card = await api.wait_for_edit(READER, digest.message_id)
            assert card.plain_text.startswith("🗞 Robots learn to fold laundry")
            assert "Chip makers race to build AI accelerators — B Wire" in card.plain_text
            data = card.callback_data()
            why = next(d for d in data if d.startswith("sw:"))
            query = await api.press_button(READER, digest.message_id, why)
            for _ in range(50):
                if query in api.callback_answers:
                    break
                await asyncio.sleep(0.05)
            assert "quality 80" in api.callback_answers[query]["text"]
            up = next(d for d in data if d.startswith("sv:up:"))
            await api.press_button(READER, digest.message_id, up)
            voted = await api.wait_for_edit(READER, digest.message_id)
            assert "👍 ✓" in [b["text"] for b in voted.buttons()]
            # ◀ Back: the digest as it was.
            back = next(d for d in data if d.startswith("sb:"))
            await api.press_button(READER, digest.message_id, back)
            restored = await api.wait_for_edit(READER, digest.message_id)
            assert restored.text == digest.text
            assert restored.callback_data() == digest.callback_data()
            for _ in range(50):  # the press is answered just after the edit
                if not api.unanswered_callback_queries():
                    break
                await asyncio.sleep(0.05)

            assert api.unanswered_callback_queries() == []
            assert api.errors == []


async def test_related_lookups(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        settings = make_settings(api, tmp_path)
        _articles(settings)
        async with running_bot(settings):
            await _command(api, "/start")
            await _wait_for_topics(api, {"AI"})

            by_url = await _command(api, f"/related {SEED_URL}")
            assert "NY Schools Awaiting Decision on Facial Recognition" in by_url.plain_text
            assert "Government Technology" in by_url.plain_text
            assert 'href="https://www.govtech.com/' in by_url.text

            linked = await _command(api, "/related https://a.example/robots")
            assert "Chip makers race to build AI accelerators" in linked.plain_text

            words = await _command(api, "/related sourdough bread")
            assert "A better way to bake sourdough bread" in words.plain_text

            nothing = await _command(api, "/related zzyzx qqqq")
            assert "Nothing matches" in nothing.plain_text

            unknown = await _command(api, "/related https://unknown.example/story")
            assert "no article stored" in unknown.plain_text

            usage = await _command(api, "/related")
            assert "/related" in usage.plain_text
            assert api.errors == []


async def test_settings_validation_stop_and_restart(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        settings = make_settings(api, tmp_path)
        _articles(settings)
        async with running_bot(settings):
            await _command(api, "/start")
            picker = await _wait_for_topics(api, {"Cooking"})
            await api.press_button(READER, picker.message_id, _button(picker, "Cooking"))
            await api.wait_for_edit(READER, picker.message_id)

            bad_time = await _command(api, "/time 25:99")
            assert (
                "not a time of day" in bad_time.plain_text and "/time 07:30" in bad_time.plain_text
            )
            assert "07:30" in (await _command(api, "/time 07:30")).plain_text
            bad_zone = await _command(api, "/timezone Mars/Base")
            assert "not a time zone" in bad_zone.plain_text
            assert "Europe/Berlin" in (await _command(api, "/timezone Europe/Berlin")).plain_text

            stopped = await _command(api, "/stop")
            assert "unsubscribed" in stopped.plain_text
            assert "/start" in (await _command(api, "/digest")).plain_text
            back = await _command(api, "/start")
            assert "Welcome back" in back.plain_text and "07:30" in back.plain_text

            assert "/help" in (await _command(api, "/frobnicate")).plain_text
            assert "/help" in (await _command(api, "hello bot")).plain_text
            help_text = (await _command(api, "/help")).plain_text
            assert "/topics" in help_text and "/breaking" not in help_text
            assert "/breaking" in (await _command(api, "/help", ADMIN_ID)).plain_text

        # The command menu was registered, admins with their own scope.
        assert any(c["command"] == "topics" for c in api.commands["all_private_chats"])
        assert any(c["command"] == "breaking" for c in api.commands[f"chat:{ADMIN_ID}"])
        # ... in every language too: a Russian client shows Russian descriptions.
        russian = {c["command"]: c["description"] for c in api.commands["all_private_chats|ru"]}
        assert russian["stop"] == "Отписаться"
        assert any(c["command"] == "breaking" for c in api.commands[f"chat:{ADMIN_ID}|de"])
        assert "language" in {c["command"] for c in api.commands["all_group_chats|es"]}

        # A restart on the same database keeps everything.
        async with running_bot(settings):
            shown = (await _command(api, "/settings")).plain_text
            assert "Cooking" in shown
            assert "07:30, every day (Europe/Berlin)" in shown
        # The stopped bot's last long poll is ended by the new one with 409, as Telegram does.
        assert [e for e in api.errors if e.method != "getUpdates"] == []


async def test_block_and_unblock_update_the_reader(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        settings = make_settings(api, tmp_path)
        async with running_bot(settings):
            await _command(api, "/start")
            api.block(READER)
            for _ in range(50):
                stats = await _command(api, "/stats", ADMIN_ID)
                if "0 active, 0 stopped, 1 blocked" in stats.plain_text:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(stats.plain_text)
            api.unblock(READER)
            for _ in range(50):
                stats = await _command(api, "/stats", ADMIN_ID)
                if "1 active, 0 stopped, 0 blocked" in stats.plain_text:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(stats.plain_text)


async def test_unsubscribed_chat_gets_a_pointer_to_start(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        settings = make_settings(api, tmp_path)
        async with running_bot(settings):
            for command in ("/topics", "/digest", "/time 08:00", "/timezone UTC", "/settings"):
                reply = await _command(api, command)
                assert "/start" in reply.plain_text, command


async def test_the_folder_is_scanned_at_start_not_an_interval_later(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        settings = replace(make_settings(api, tmp_path), scan_interval=3600.0)
        _articles(settings)
        async with running_bot(settings):
            await _command(api, "/start")
            picker = await _wait_for_topics(api, {"AI", "Cooking"})
            assert "Selected: none" in picker.plain_text
