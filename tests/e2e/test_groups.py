"""Groups, supergroups and forum topics as subscribers, end to end against the stand-in.

The real Application polls the stand-in, whose groups keep Telegram's rules: privacy
mode (the bot sees commands for it and replies to it), administrators answered by
getChatMember, anonymous admins writing as the group, forum topics that sends must name.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.chat.target import GROUP_ADMINS_ONLY
from storage.readers import ChatKind
from tests.botapi import FakeBotApi
from tests.clock import ManualClock
from tests.e2e.chats import WAIT, in_group, settle, subscription
from tests.e2e.harness import db_value, make_settings, run_job, running_bot, write_article
from tests.waiting import until

OWNER, MEMBER, OTHER_MEMBER = 301, 302, 303
GROUP = -1_003_000_000_001
FORUM = -1_003_000_000_002
BASIC = -3003  # a basic group, before its upgrade


def _digest(text: str) -> bool:
    return text.startswith("Digest ·")


async def test_a_member_is_refused_every_setting_and_an_anonymous_admin_changes_one(
    tmp_path: Path,
) -> None:
    async with FakeBotApi() as api:
        api.add_group(GROUP, "Team", admins=[OWNER])
        api.set_member(GROUP, MEMBER, "member")
        settings = make_settings(api, tmp_path)
        async with running_bot(settings):
            hello = await in_group(api, GROUP, OWNER, "/start")
            assert hello.plain_text.startswith("Subscribed: this group gets one digest")
            await until(lambda: db_value(settings, "SELECT count(*) FROM topics"), "a scan")
            picker = await in_group(api, GROUP, OWNER, "/topics")
            before = subscription(settings, GROUP)
            assert before is not None and before.kind == ChatKind.SUPERGROUP

            commands = ("/start", "/topics", "/time 09:00", "/timezone Asia/Tokyo", "/stop",
                        "/include ai", "/quiet 22-7", "/pause 2d")  # fmt: skip
            for command in commands:
                refusal = await in_group(api, GROUP, MEMBER, command)
                assert refusal.plain_text == GROUP_ADMINS_ONLY, command
            # Reading is for everyone: /settings and /help answer the member...
            shown = await in_group(api, GROUP, MEMBER, "/settings")
            assert "Digests: 08:00, every day (UTC)" in shown.plain_text
            # ...but no button of the picker or the settings screen does a thing for them.
            presses = [
                await api.press_button(MEMBER, message.message_id, data, chat_id=GROUP)
                for message in (picker, shown)
                for data in message.callback_data()
            ]
            await settle(api, MEMBER)
            for query in presses:
                answer = api.callback_answers[query]
                assert (answer.get("text"), answer.get("show_alert")) == (GROUP_ADMINS_ONLY, True)
            assert picker.edits == 0 and shown.edits == 0
            assert subscription(settings, GROUP) == before

            done = await in_group(api, GROUP, OWNER, "/time 09:30", anonymous=True)
            assert done.plain_text.startswith("Done: your digests come at 09:30, every day")
            after = subscription(settings, GROUP)
            assert after is not None and f"{after.digest_time:%H:%M}" == "09:30"

            # An admin's typed answer to a settings prompt: a reply to the bot's question.
            await api.press_button(OWNER, shown.message_id, f"so:keywords:{GROUP}", chat_id=GROUP)
            words = await api.wait_for_edit(GROUP, shown.message_id, timeout=WAIT)
            include = next(d for d in words.callback_data() if d.startswith("pr:inc:"))
            await api.press_button(OWNER, shown.message_id, include, chat_id=GROUP)
            question = await api.wait_for_message(GROUP, timeout=WAIT)
            assert question.reply_markup is not None and question.reply_markup["force_reply"]
            # A member's reply to it is no answer of theirs (no question was asked of them).
            await api.send_group_text(GROUP, MEMBER, "football", reply_to=question.message_id)
            await api.send_group_text(GROUP, OWNER, "climate", reply_to=question.message_id)
            added = await api.wait_for_message(GROUP, timeout=WAIT)
            assert added.plain_text.startswith("Only stories matching: “climate” — added.")
            after = subscription(settings, GROUP)
            assert after is not None and [t.text for t in after.keywords.include] == ["climate"]

            # Commands for another bot are not ours, even when the bot sees them (as admin).
            api.set_bot_status(GROUP, "administrator", by=OWNER)
            assert await api.send_group_text(GROUP, OWNER, "/stop@otherbot") is not None
            assert await api.send_group_text(GROUP, MEMBER, "good morning") is not None
            await in_group(api, GROUP, OWNER, "/help")
            assert subscription(settings, GROUP) == after
            assert [m.plain_text for m in api.messages(GROUP)][-1].startswith("newsdigest")
            assert api.errors == []
            assert api.unanswered_callback_queries() == []


async def test_a_forum_topic_gets_its_digest_and_start_in_another_topic_moves_it(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with FakeBotApi() as api:
        api.add_group(FORUM, "Forum", admins=[OWNER], forum=True)
        news, chat = api.add_topic(FORUM, "News"), api.add_topic(FORUM, "Chat")
        settings = make_settings(api, tmp_path)
        write_article(settings.articles_dir, "one.md", title="First forum story",
                      url="https://f.example/1", topics=["AI"])  # fmt: skip
        async with running_bot(settings, clock=clock) as application:
            await run_job(application, "scan")
            hello = await in_group(api, FORUM, OWNER, "/start", thread_id=news)
            assert hello.thread_id == news and "in this topic" in hello.plain_text
            target = (clock() + timedelta(minutes=10)).replace(second=0, microsecond=0)
            done = await in_group(api, FORUM, OWNER, f"/time {target:%H:%M}", thread_id=news)
            assert done.thread_id == news

            clock.set(target)
            digest = await api.wait_for_message(FORUM, lambda m: _digest(m.plain_text), timeout=10)
            assert digest.thread_id == news and "First forum story" in digest.plain_text

            moved = await in_group(api, FORUM, OWNER, "/start", thread_id=chat)
            assert moved.plain_text.startswith("Moved: the daily digest now comes to this topic")
            assert moved.thread_id == chat
            write_article(settings.articles_dir, "two.md", title="Second forum story",
                          url="https://f.example/2", topics=["AI"])  # fmt: skip
            clock.advance(minutes=1)  # ingested after the last digest, by the bot's clock
            await run_job(application, "scan")
            clock.set(target + timedelta(days=1))
            second = await api.wait_for_message(FORUM, lambda m: _digest(m.plain_text), timeout=10)
            assert second.thread_id == chat and "Second forum story" in second.plain_text

            # The topic is deleted: that send fails once and goes to General, as what follows.
            api.delete_topic(FORUM, chat)
            write_article(settings.articles_dir, "three.md", title="Third forum story",
                          url="https://f.example/3", topics=["AI"])  # fmt: skip
            clock.advance(minutes=1)
            await run_job(application, "scan")
            clock.set(target + timedelta(days=2))
            general = await api.wait_for_message(FORUM, lambda m: _digest(m.plain_text), timeout=10)
            assert general.thread_id is None and "Third forum story" in general.plain_text
            assert [c.description for c in api.errors] == ["Bad Request: message thread not found"]
            found = subscription(settings, FORUM)
            assert found is not None and found.thread_id is None
            await until(
                lambda: (
                    db_value(settings, "SELECT count(*) FROM outbox WHERE status != 'sent'") == 0
                ),
                "every digest recorded as sent",
            )


async def test_a_group_upgraded_to_a_supergroup_keeps_its_subscription(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        api.add_group(BASIC, "Book club", admins=[OWNER])
        settings = make_settings(api, tmp_path)
        async with running_bot(settings):
            await in_group(api, BASIC, OWNER, "/start")
            await in_group(api, BASIC, OWNER, "/time 06:45")
            await in_group(api, BASIC, OWNER, "/timezone Europe/Paris")
            old = subscription(settings, BASIC)
            assert old is not None and old.kind == ChatKind.GROUP

            api.migrate_group(BASIC, GROUP)
            moved = await until(lambda: subscription(settings, GROUP), "the subscription to move")
            assert subscription(settings, BASIC) is None
            assert (moved.kind, moved.title, moved.status) == (
                ChatKind.SUPERGROUP,
                "Book club",
                "active",
            )
            assert (moved.digest_time, moved.zone, moved.next_digest_at) == (
                old.digest_time,
                old.zone,
                old.next_digest_at,
            )
            # Its administrators still change it, in the supergroup now.
            done = await in_group(api, GROUP, OWNER, "/time 07:00")
            assert done.plain_text.startswith("Done: your digests come at 07:00, every day")
            assert api.errors == []


async def test_a_digest_to_a_group_upgraded_unseen_follows_it_to_the_supergroup(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with FakeBotApi() as api:
        api.add_group(BASIC, "Book club", admins=[OWNER])
        settings = make_settings(api, tmp_path)
        async with running_bot(settings, clock=clock):
            await in_group(api, BASIC, OWNER, "/start")
            target = (clock() + timedelta(minutes=10)).replace(second=0, microsecond=0)
            await in_group(api, BASIC, OWNER, f"/time {target:%H:%M}")
            api.migrate_group(BASIC, GROUP)
            api.clear_updates()  # the bot never sees the service messages
            clock.set(target)
            digest = await api.wait_for_message(GROUP, lambda m: _digest(m.plain_text), timeout=10)
            assert "facial recognition" in digest.plain_text.lower()  # the seed article
            moved = await until(lambda: subscription(settings, GROUP), "the subscription to move")
            assert moved.kind == ChatKind.SUPERGROUP and subscription(settings, BASIC) is None
            assert [c.description for c in api.errors] == [
                "Bad Request: group chat was upgraded to a supergroup chat"
            ]


async def test_a_story_card_opened_in_a_group_changes_the_shared_digest(
    tmp_path: Path,
) -> None:
    async with FakeBotApi() as api:
        api.add_group(GROUP, "Team", admins=[OWNER])
        settings = make_settings(api, tmp_path)
        async with running_bot(settings):
            await in_group(api, GROUP, OWNER, "/start")
            await until(lambda: subscription(settings, GROUP), "the subscription")
            api.set_member(GROUP, MEMBER, "member")
            api.set_member(GROUP, OTHER_MEMBER, "member")
            await api.send_group_text(GROUP, MEMBER, "/digest")
            digest = await api.wait_for_message(
                GROUP, lambda m: _digest(m.plain_text), timeout=WAIT
            )
            story = next(d for d in digest.callback_data() if d.startswith("st:"))

            # Anyone opens the card: the group's digest message itself becomes it.
            await api.press_button(OTHER_MEMBER, digest.message_id, story, chat_id=GROUP)
            card = await api.wait_for_edit(GROUP, digest.message_id, timeout=WAIT)
            assert card.plain_text.startswith("🗞 ")
            vote = next(d for d in card.callback_data() if d.startswith("sv:up:"))
            query = await api.press_button(OTHER_MEMBER, digest.message_id, vote, chat_id=GROUP)
            await until(lambda: query in api.callback_answers, "the vote's answer")
            # A member's vote does not count for the group.
            assert "only its administrators" in api.callback_answers[query]["text"]
            assert api.messages(OTHER_MEMBER) == []  # nothing went to the presser's own chat
            assert api.errors == []
