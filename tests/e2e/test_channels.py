"""Channels as subscribers, managed from a private chat, end to end against the stand-in.

The stand-in's channels let the bot post only as an administrator with "Post messages",
answer getChatMember like Telegram (a channel's member list is closed to a bot that is no
admin), and send my_chat_member when the bot is added, demoted or removed. /stats and
/breaking see groups and channels next to private readers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from bot.chat.channels import CHANNEL_REQUEST
from tests.botapi import FakeBotApi, SentMessage
from tests.clock import ManualClock
from tests.e2e.chats import (
    WAIT,
    button,
    edited,
    in_group,
    next_offered_hour,
    set_only_time,
    settle,
    subscription,
)
from tests.e2e.harness import (
    ADMIN_ID,
    db_value,
    make_settings,
    run_job,
    running_bot,
    start_reader,
    write_article,
)
from tests.waiting import until

EDITOR, STRANGER, READER = 401, 402, 403
CHANNEL = -1_004_000_000_001
OTHER_CHANNEL = -1_004_000_000_002
GROUP = -1_004_000_000_003


def _digest(message: SentMessage) -> bool:
    return message.plain_text.startswith("Digest ·")


async def _say(api: FakeBotApi, user_id: int, text: str) -> SentMessage:
    await api.send_text(user_id, text)
    return await api.wait_for_message(user_id, timeout=WAIT)


async def test_adding_a_channel_is_refused_with_what_to_fix(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        api.add_channel(CHANNEL, "Tech News", admins=[EDITOR], username="technews")
        api.add_channel(OTHER_CHANNEL, "Side Project", admins=[EDITOR], username="side",
                        bot="member")  # fmt: skip
        api.add_group(GROUP, "Team", admins=[EDITOR], username="teamchat")
        api.add_user(STRANGER, "Stranger")
        settings = make_settings(api, tmp_path)
        async with running_bot(settings):
            refused = await _say(api, STRANGER, "/channels @technews")
            assert refused.plain_text.startswith("Only administrators of 📢 Tech News can add it")
            assert "Ask an administrator of the channel" in refused.plain_text

            not_admin = await _say(api, EDITOR, "@side")
            assert not_admin.plain_text.startswith("I am not an administrator of 📢 Side Project")
            assert "Add Admin, choose @newsdigest_bot" in not_admin.plain_text
            assert "“Post messages”" in not_admin.plain_text

            api.set_bot_status(OTHER_CHANNEL, "administrator", can_post_messages=False)
            await api.forward_channel_post(EDITOR, OTHER_CHANNEL)
            no_post = await api.wait_for_message(EDITOR, timeout=WAIT)
            assert "but may not post there" in no_post.plain_text
            assert "turn on “Post messages”" in no_post.plain_text

            unknown = await _say(api, EDITOR, "/channels @nosuchchannel")
            assert unknown.plain_text.startswith("I cannot find the channel @nosuchchannel")
            a_group = await _say(api, EDITOR, "/channels @teamchat")
            assert (
                a_group.plain_text
                == "Team is a group, not a channel: add me to it and send /start there."
            )

            # The editor fixes the rights and tries again: asked afresh, not from the cache.
            api.set_bot_status(OTHER_CHANNEL, "administrator", can_post_messages=True)
            added = await _say(api, EDITOR, "@side")
            assert added.plain_text.startswith("Added: it gets one digest of the news a day")
            assert (
                db_value(settings, "SELECT count(*) FROM readers WHERE chat_kind = 'channel'") == 1
            )
            assert subscription(settings, CHANNEL) is None
            # Telegram refused only the lookup of the channel that does not exist.
            assert [(c.method, c.description) for c in api.errors] == [
                ("getChat", "Bad Request: chat not found")
            ]


async def _add_with_picker(api: FakeBotApi, user_id: int, channel: int) -> SentMessage:
    """/channels, then the chat picker: the bot's answer (the channel's screen)."""
    steps = await _say(api, user_id, "/channels")
    assert steps.plain_text.startswith("Add a channel")
    assert steps.reply_markup is not None
    [[picker]] = steps.reply_markup["keyboard"]
    assert picker["request_chat"]["chat_is_channel"] is True
    await api.share_chat(user_id, CHANNEL_REQUEST, channel)
    return await api.wait_for_message(user_id, timeout=WAIT)


async def test_an_admin_adds_a_channel_and_its_digest_comes_at_its_time(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with FakeBotApi() as api:
        api.add_channel(CHANNEL, "Tech <News>", admins=[EDITOR], bot=None)
        settings = make_settings(api, tmp_path)
        write_article(settings.articles_dir, "ai.md", title="Channel AI story",
                      url="https://c.example/ai", topics=["AI"])  # fmt: skip
        write_article(settings.articles_dir, "cook.md", title="Channel cooking story",
                      url="https://c.example/cook", topics=["Cooking"])  # fmt: skip
        async with running_bot(settings, clock=clock) as application:
            await run_job(application, "scan")
            screen = await _add_with_picker(api, EDITOR, CHANNEL)
            assert "Settings for 📢 Tech <News>" in screen.plain_text
            assert screen.plain_text.startswith("Added")
            found = subscription(settings, CHANNEL)
            assert found is not None and (found.kind, found.title) == ("channel", "Tech <News>")

            # Its topics, through the reader's own picker, marked with the channel's name.
            await api.press_button(EDITOR, screen.message_id, button(screen, "🗂 Topics"))
            picker = await edited(api, EDITOR, screen.message_id)
            assert picker.plain_text.startswith("Settings for 📢 Tech <News>\n\nPick your topics")
            await api.press_button(EDITOR, screen.message_id, button(picker, "AI"))
            picker = await edited(api, EDITOR, screen.message_id)
            await api.press_button(EDITOR, screen.message_id, button(picker, "Done"))
            screen = await edited(api, EDITOR, screen.message_id)
            assert screen.plain_text.startswith("Settings for 📢 Tech <News>\nStatus: subscribed")
            assert "\nTopics: AI\n" in screen.plain_text

            # Its time, from the times screen's buttons: the next one it offers.
            label, due = next_offered_hour(clock())
            screen = await set_only_time(api, EDITOR, screen, label)
            assert f"Digests: {label}, every day (UTC)" in screen.plain_text
            # Its keywords, typed in the private chat: the prompt names the channel.
            await api.press_button(EDITOR, screen.message_id, button(screen, "🔎 Keywords"))
            words = await edited(api, EDITOR, screen.message_id)
            await api.press_button(EDITOR, screen.message_id, button(words, "+ Exclude…"))
            question = await api.wait_for_message(EDITOR, timeout=WAIT)
            assert question.reply_markup is not None and question.reply_markup["force_reply"]
            noted = await _say(api, EDITOR, "gossip")
            assert noted.plain_text.startswith("Settings for 📢 Tech <News>")
            found = subscription(settings, CHANNEL)
            assert found is not None and [t.text for t in found.keywords.exclude] == ["gossip"]
            mine = subscription(settings, EDITOR)
            assert mine is None or not mine.keywords  # the editor's own chat is untouched

            clock.set(due - timedelta(seconds=1))
            await run_job(application, "digest-tick")
            assert [m for m in api.messages(CHANNEL) if _digest(m)] == []
            clock.set(due)
            digest = await api.wait_for_message(CHANNEL, _digest, timeout=10)
            assert "Channel AI story" in digest.plain_text
            assert "cooking" not in digest.plain_text.lower()
            assert digest.buttons() == []  # a reader's tap must not post into the channel

            listing = await _say(api, EDITOR, "/channels")
            assert "📢 Tech <News>: subscribed" in listing.plain_text
            assert button(listing, "📢 Tech <News>") == f"set:{CHANNEL}"
            assert api.errors == []
            assert api.unanswered_callback_queries() == []


async def test_a_channel_that_kicks_the_bot_is_paused_without_403_loops_and_resumes(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with FakeBotApi() as api:
        api.add_channel(CHANNEL, "Tech News", admins=[EDITOR])
        settings = make_settings(api, tmp_path)
        async with running_bot(settings, clock=clock) as application:
            await api.forward_channel_post(EDITOR, CHANNEL)
            screen = await api.wait_for_message(EDITOR, timeout=WAIT)
            label, due = next_offered_hour(clock())
            await set_only_time(api, EDITOR, screen, label)

            # Kicked while the bot listens: paused at once, nothing tried at digest time.
            api.set_bot_status(CHANNEL, "kicked", by=EDITOR)
            await until(
                lambda: (s := subscription(settings, CHANNEL)) and s.status == "blocked",
                "the bot to pause the channel",
            )
            clock.set(due)
            await run_job(application, "digest-tick")
            await settle(api, EDITOR)
            await api.send_text(ADMIN_ID, "/stats")
            stats = await api.wait_for_message(ADMIN_ID, timeout=WAIT)
            assert "Channels: 0 active, 0 stopped, 1 paused" in stats.plain_text
            assert (
                f"📢 Tech News ({CHANNEL}) paused: the bot was banned from the channel"
                in stats.plain_text
            )

            # Added back: it resumes with its settings, at its next time.
            api.set_bot_status(CHANNEL, "administrator", by=EDITOR, can_post_messages=True)
            back = await until(
                lambda: (s := subscription(settings, CHANNEL)) and s.status == "active" and s,
                "the channel to resume",
            )
            assert back.next_digest_at is not None and back.next_digest_at > datetime.now(UTC)
            assert f"{back.digest_time:%H:%M}" == label
            clock.set(back.next_digest_at)
            await api.wait_for_message(CHANNEL, _digest, timeout=10)

            # Kicked unseen: one 403 on the next digest pauses it; later ticks try nothing.
            api.set_bot_status(CHANNEL, "kicked", by=EDITOR)
            api.clear_updates()
            write_article(settings.articles_dir, "later.md", title="A later story",
                          url="https://c.example/later", topics=["AI"])  # fmt: skip
            clock.advance(minutes=1)
            await run_job(application, "scan")
            clock.set(back.next_digest_at + timedelta(days=1))
            await until(
                lambda: (s := subscription(settings, CHANNEL)) and s.status == "blocked",
                "the 403 to pause the channel",
            )
            for day in (2, 3):
                clock.set(back.next_digest_at + timedelta(days=day))
                await run_job(application, "digest-tick")
            await settle(api, EDITOR)
            refused = [c for c in api.errors if c.params.get("chat_id") == CHANNEL]
            assert [c.status for c in refused] == [403]
            paused = subscription(settings, CHANNEL)
            assert paused is not None
            assert paused.paused_reason == "Forbidden: bot was kicked from the channel chat"


async def test_stats_count_kinds_apart_and_breaking_reaches_matching_groups_and_channels(
    tmp_path: Path,
) -> None:
    async with FakeBotApi() as api:
        api.add_channel(CHANNEL, "AI Channel", admins=[EDITOR], username="aichannel")
        api.add_channel(OTHER_CHANNEL, "Cooking Channel", admins=[EDITOR], username="cook")
        api.add_group(GROUP, "AI forum", admins=[EDITOR], forum=True)
        desk = api.add_topic(GROUP, "Desk")
        hour = (datetime.now(UTC).hour - 1) % 24  # no scheduled digest during the test
        settings = make_settings(api, tmp_path, digest_time=dtime(hour, 0))
        write_article(settings.articles_dir, "cook.md", title="Cooking news",
                      url="https://c.example/cook", topics=["Cooking"])  # fmt: skip
        async with running_bot(settings) as application:
            await run_job(application, "scan")
            await start_reader(api, READER, ["AI"])
            await in_group(api, GROUP, EDITOR, "/start", thread_id=desk)
            for name, channel in (("@aichannel", CHANNEL), ("@cook", OTHER_CHANNEL)):
                added = await _say(api, EDITOR, name)
                await api.press_button(EDITOR, added.message_id, button(added, "🗂 Topics"))
                picker = await api.wait_for_edit(EDITOR, added.message_id, timeout=WAIT)
                topic = "AI" if channel == CHANNEL else "Cooking"
                await api.press_button(EDITOR, added.message_id, button(picker, topic))
                await api.wait_for_edit(EDITOR, added.message_id, timeout=WAIT)
            picker = await in_group(api, GROUP, EDITOR, "/topics", thread_id=desk)
            await api.press_button(EDITOR, picker.message_id, button(picker, "AI"), chat_id=GROUP)
            await api.wait_for_edit(GROUP, picker.message_id, timeout=WAIT)

            await api.send_text(ADMIN_ID, "/breaking https://www.euronews.com/my-europe/2023/06/14/"
                                "meps-endorse-blanket-ban-on-facial-recognition-in-public-spaces-"
                                "rejecting-targeted-exempti")  # fmt: skip
            await api.wait_for_message(ADMIN_ID, timeout=WAIT)
            confirm = await api.wait_for_message(ADMIN_ID, timeout=WAIT)
            assert "readers of this article's topics: 3" in confirm.plain_text
            send = confirm.callback_data()[0]
            await api.press_button(ADMIN_ID, confirm.message_id, send)
            for chat in (READER, CHANNEL, GROUP):
                alert = await api.wait_for_message(
                    chat, lambda m: m.plain_text.startswith("🔴 Breaking"), timeout=WAIT
                )
                assert alert.thread_id == (desk if chat == GROUP else None)
            assert not [m for m in api.messages(OTHER_CHANNEL) if "Breaking" in m.plain_text]

            api.set_bot_status(OTHER_CHANNEL, "member", by=EDITOR)  # demoted: paused
            await until(
                lambda: (s := subscription(settings, OTHER_CHANNEL)) and s.status == "blocked",
                "the demotion to pause the channel",
            )
            await api.send_text(ADMIN_ID, "/stats")
            stats = await api.wait_for_message(
                ADMIN_ID, lambda m: m.plain_text.startswith("newsdigest stats"), timeout=WAIT
            )
            lines = stats.plain_text.splitlines()
            assert "Readers: 1 active, 0 stopped, 0 blocked" in lines
            assert "Groups: 1 active, 0 stopped, 0 paused" in lines
            assert "Channels: 1 active, 0 stopped, 1 paused" in lines
            assert (
                f"  • 📢 Cooking Channel ({OTHER_CHANNEL}) paused: the bot is no longer an "
                "administrator of the channel with “Post messages”"
            ) in lines
            assert api.errors == []
