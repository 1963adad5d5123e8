"""Handlers: Help, fallbacks, blocking the bot, and groups and channels adding, removing or
demoting it (my_chat_member); a group upgraded to a supergroup."""

from __future__ import annotations

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlite_utils import Database

from storage.db import utcnow
from storage.outbox import delivered_to, enqueue, outbox_counts
from storage.readers import ChatKind, ReaderStatus, get_reader
from storage.subscriptions import paused_subscriptions, set_status, subscribe
from storage.topics import toggle_topic
from tests.chat.harness import ADMIN_ID, CHANNEL, GROUP, OTHER, READER, Offline, group, reader
from tests.factories import article, outgoing, store_articles, topic_id


async def test_help_shows_admin_commands_to_admins_only(offline: Offline) -> None:
    reader_help = await offline.reply(READER, "/help")
    admin_help = await offline.reply(ADMIN_ID, "/help")
    assert "/topics" in reader_help.text and "/breaking" not in reader_help.text
    assert "/breaking" in admin_help.text and "/stats" in admin_help.text


@pytest.mark.parametrize("text", ["hello there", "/frobnicate", "/start2"])
async def test_unknown_text_points_to_help(offline: Offline, db: Database, text: str) -> None:
    answer = await offline.reply(READER, text)
    assert answer.text == "I did not understand that. /help lists what I can do."
    assert get_reader(db, READER) is None


async def test_blocking_the_bot_marks_the_reader_blocked_and_drops_the_queue(
    offline: Offline, db: Database
) -> None:
    store_articles(
        db,
        article("One", "https://example.com/1", now=utcnow()),
        article("Two", "https://example.com/2", now=utcnow()),
        at=utcnow(),
    )
    await offline.start(READER)
    await offline.send(READER, "/digest")
    queued = outbox_counts(db)["pending"]
    assert queued >= 1 and delivered_to(db, READER)

    assert await offline.member_change(READER, "member", "kicked") == []
    assert reader(db).status == "blocked"
    counts = outbox_counts(db)
    assert (counts["pending"], counts["dropped"], counts["sent"]) == (0, queued, 0)
    assert delivered_to(db, READER) == set()  # the articles can reach them again later

    await offline.member_change(READER, "kicked", "member")
    assert reader(db).status == "active"


async def test_a_block_from_an_unknown_chat_changes_nothing(offline: Offline, db: Database) -> None:
    assert await offline.member_change(OTHER, "member", "kicked") == []
    assert get_reader(db, OTHER) is None


# -- groups and channels ---------------------------------------------------------------------


def _subscribe_shared(db: Database, chat_id: int, kind: ChatKind) -> None:
    subscribe(
        db,
        chat_id,
        user_id=None,
        first_name="",
        username=None,
        default_time=time(8, 0),
        default_zone=ZoneInfo("UTC"),
        now=utcnow() - timedelta(days=3),
        kind=kind,
        title="Tech",
    )


async def test_a_channel_that_removes_the_bot_is_paused_and_resumes_when_it_is_back(
    offline: Offline, db: Database
) -> None:
    _subscribe_shared(db, CHANNEL, ChatKind.CHANNEL)
    enqueue(db, [outgoing(CHANNEL, "queued digest")], utcnow())
    channel = group(CHANNEL, "Tech", kind="channel")

    assert await offline.bot_status(channel, "administrator", "kicked") == []
    paused = reader(db, CHANNEL)
    assert paused.status == "blocked"
    assert paused.paused_reason == "the bot was banned from the channel"
    assert outbox_counts(db)["dropped"] == 1 and outbox_counts(db)["pending"] == 0
    assert paused_subscriptions(db)[0].reason == "the bot was banned from the channel"

    before = utcnow()
    await offline.bot_status(channel, "left", "administrator", can_post_messages=True)
    back = reader(db, CHANNEL)
    assert (back.status, back.paused_reason) == ("active", None)
    # The next digest is the next 08:00 from now, not a catch-up for the days away.
    assert back.next_digest_at is not None and before < back.next_digest_at


@pytest.mark.parametrize(
    ("new", "rights", "reason"),
    [
        ("member", {}, "the bot is no longer an administrator of the channel with “Post messages”"),
        (
            "administrator",
            {"can_post_messages": False},
            "the bot is no longer an administrator of the channel with “Post messages”",
        ),
        ("left", {}, "the bot was removed from the channel"),
    ],
)
async def test_a_channel_that_demotes_the_bot_is_paused(
    offline: Offline, db: Database, new: str, rights: dict[str, bool], reason: str
) -> None:
    _subscribe_shared(db, CHANNEL, ChatKind.CHANNEL)
    channel = group(CHANNEL, "Tech", kind="channel")
    await offline.bot_status(channel, "administrator", new, **rights)
    assert (reader(db, CHANNEL).status, reader(db, CHANNEL).paused_reason) == ("blocked", reason)


async def test_a_group_says_hello_when_the_bot_joins_and_pauses_when_it_leaves(
    offline: Offline, db: Database
) -> None:
    newsroom = group(GROUP)
    [hello] = await offline.bot_status(newsroom, "left", "member")
    assert hello.chat_id == GROUP and "An administrator sends /start" in hello.text
    assert get_reader(db, GROUP) is None  # joining subscribes nothing

    _subscribe_shared(db, GROUP, ChatKind.SUPERGROUP)
    assert await offline.bot_status(newsroom, "member", "left") == []
    assert reader(db, GROUP).paused_reason == "the bot was removed from the group"
    assert await offline.bot_status(newsroom, "left", "member") == []  # back: no hello
    assert reader(db, GROUP).status == "active"
    # Promoted or demoted between member and admin, a group's bot may post all along.
    await offline.bot_status(newsroom, "member", "administrator")
    await offline.bot_status(newsroom, "administrator", "member")
    assert reader(db, GROUP).status == "active"


async def test_a_stopped_group_stays_stopped_when_the_bot_is_removed_and_back(
    offline: Offline, db: Database
) -> None:
    _subscribe_shared(db, GROUP, ChatKind.SUPERGROUP)
    set_status(db, GROUP, ReaderStatus.STOPPED, utcnow())
    newsroom = group(GROUP)
    await offline.bot_status(newsroom, "member", "kicked")
    await offline.bot_status(newsroom, "kicked", "member")
    assert reader(db, GROUP).status == "stopped"


async def test_a_group_upgraded_to_a_supergroup_keeps_its_subscription(
    offline: Offline, db: Database
) -> None:
    old, new = -4012, -1004012
    _subscribe_shared(db, old, ChatKind.GROUP)
    store_articles(db, article("An AI story", "https://e.com/ai", ["AI"]))
    ai = topic_id(db, "AI")
    assert toggle_topic(db, old, ai) is True
    service = {"message_id": 5, "date": 0, "from": {"id": 1, "is_bot": False, "first_name": "A"}}
    await offline.process(
        {"message": {**service, "chat": group(old, kind="group"), "migrate_to_chat_id": new}}
    )
    moved = reader(db, new)
    assert (moved.kind, moved.title, moved.topic_ids) == (ChatKind.SUPERGROUP, "Tech", {ai})
    assert get_reader(db, old) is None
    # Telegram's second service message, in the new chat, changes nothing more.
    await offline.process({"message": {**service, "chat": group(new), "migrate_from_chat_id": old}})
    assert reader(db, new) == moved
