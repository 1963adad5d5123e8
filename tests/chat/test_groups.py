"""Handlers in groups: who may change a group's settings, and which subscription a button
names (bot.chat.target), against the offline Bot API's getChatMember answers."""

from __future__ import annotations

from datetime import time

import pytest
from sqlite_utils import Database

from bot.chat.rights import MEMBER_TTL, MemberCache
from bot.chat.target import (
    GROUP_ADMINS_ONLY,
    GROUP_NOT_SUBSCRIBED,
    IN_A_CHANNEL,
    NOT_YOURS,
)
from storage.db import utcnow
from storage.readers import ChatKind, get_reader, subscribe
from tests.botapi.rules import bad_request
from tests.chat.harness import (
    CHANNEL,
    DEFAULT_TIME,
    GROUP,
    OTHER,
    READER,
    Offline,
    count,
    group,
    reader,
)
from tests.factories import article, store_articles, topic_id

ADMIN = 601
MEMBER = 602
NEWSROOM = group()


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticking(offline: Offline) -> FakeMonotonic:
    """The member cache's clock, moved by the test."""
    clock = FakeMonotonic()
    offline.services.members = MemberCache(clock=clock)
    return clock


@pytest.fixture
async def subscribed(offline: Offline, db: Database) -> Offline:
    """A supergroup subscribed by its administrator, with a topic picker message."""
    store_articles(db, article("An AI story", "https://example.com/ai", ["AI"]), at=utcnow())
    offline.request.members[(GROUP, ADMIN)] = "administrator"
    offline.request.members[(GROUP, MEMBER)] = "member"
    await offline.reply(ADMIN, "/start", chat=NEWSROOM)
    return offline


def member_checks(offline: Offline) -> list[tuple[int, int]]:
    return [
        (int(c.params["chat_id"]), int(c.params["user_id"]))
        for c in offline.request.calls_to("getChatMember")
    ]


async def test_an_admin_subscribes_the_group(offline: Offline, db: Database) -> None:
    offline.request.members[(GROUP, ADMIN)] = "creator"
    answer = await offline.reply(ADMIN, "/start", chat=NEWSROOM)
    found = reader(db, GROUP)
    assert (found.kind, found.title, found.status) == (ChatKind.SUPERGROUP, "Newsroom", "active")
    assert (found.user_id, found.thread_id) == (None, None)
    assert answer.text.startswith("Subscribed: this group gets one digest")
    assert answer.callback_data == [f"tp:{GROUP}:0"]
    assert get_reader(db, ADMIN) is None  # the admin did not subscribe themself
    assert member_checks(offline) == [(GROUP, ADMIN)]


async def test_a_member_cannot_subscribe_the_group(offline: Offline, db: Database) -> None:
    answer = await offline.reply(MEMBER, "/start", chat=NEWSROOM)
    assert answer.text == GROUP_ADMINS_ONLY
    assert get_reader(db, GROUP) is None


async def test_a_member_is_refused_every_setting_and_nothing_changes(
    subscribed: Offline, db: Database
) -> None:
    offline = subscribed
    before = reader(db, GROUP)
    for command in ("/start", "/topics", "/time 09:00", "/timezone Asia/Tokyo", "/stop"):
        answer = await offline.reply(MEMBER, command, chat=NEWSROOM)
        assert answer.text == GROUP_ADMINS_ONLY, command
    picker = await offline.reply(ADMIN, "/topics", chat=NEWSROOM)
    ai = topic_id(db, "AI")
    for data in picker.callback_data:
        note, calls = await offline.press(MEMBER, picker.result["message_id"], data, chat_id=GROUP)
        assert (note.params["text"], note.params["show_alert"]) == (GROUP_ADMINS_ONLY, True)
        assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert f"tt:{GROUP}:{ai}:0" in picker.callback_data
    assert reader(db, GROUP) == before
    assert count(db, "SELECT count(*) FROM reader_topics") == 0


async def test_everyone_may_read_the_digest_related_settings_and_help(
    subscribed: Offline, db: Database
) -> None:
    offline = subscribed
    help_text = (await offline.reply(MEMBER, "/help", chat=NEWSROOM)).text
    assert "<b>Administrators</b>" in help_text and "/channels" not in help_text
    settings = await offline.reply(MEMBER, "/settings", chat=NEWSROOM)
    assert "Daily digest: 07:15" in settings.text
    related = await offline.reply(MEMBER, "/related AI story", chat=NEWSROOM)
    assert related.text.startswith("<b>Related coverage")
    calls = await offline.send(MEMBER, "/digest", chat=NEWSROOM)
    assert calls == []  # queued in the outbox for the group
    assert count(db, "SELECT count(*) FROM outbox WHERE chat_id = ?", [GROUP]) == 1
    # Reading needs no rights: only the admin's /start asked Telegram.
    assert member_checks(offline) == [(GROUP, ADMIN)]


async def test_an_admin_changes_each_setting_and_stops(subscribed: Offline, db: Database) -> None:
    offline = subscribed
    picker = await offline.reply(ADMIN, "/topics", chat=NEWSROOM)
    ai = topic_id(db, "AI")
    note, _ = await offline.press(
        ADMIN, picker.result["message_id"], f"tt:{GROUP}:{ai}:0", chat_id=GROUP
    )
    assert note.params.get("text") == "Added"
    await offline.reply(ADMIN, "/time 09:00", chat=NEWSROOM)
    await offline.reply(ADMIN, "/timezone Asia/Tokyo", chat=NEWSROOM)
    found = reader(db, GROUP)
    assert (found.topic_ids, found.digest_time, found.zone.key) == (
        frozenset({ai}),
        time(9, 0),
        "Asia/Tokyo",
    )
    stop = await offline.reply(ADMIN, "/stop", chat=NEWSROOM)
    assert "no more digests in this group" in stop.text
    assert reader(db, GROUP).status == "stopped"
    again = await offline.reply(MEMBER, "/digest", chat=NEWSROOM)
    assert again.text == GROUP_NOT_SUBSCRIBED


async def test_an_anonymous_admin_writes_as_the_group(subscribed: Offline, db: Database) -> None:
    offline = subscribed
    checks = len(member_checks(offline))
    answer = await offline.reply(0, "/time 09:30", chat=NEWSROOM, anonymous=True)
    assert answer.text.startswith("Done")
    assert reader(db, GROUP).digest_time == time(9, 30)
    assert len(member_checks(offline)) == checks  # Telegram vouches for it: no lookup


async def test_someone_posting_as_another_chat_is_no_anonymous_admin(
    subscribed: Offline, db: Database
) -> None:
    offline = subscribed
    elsewhere = group(-1009999, "A channel", kind="channel")
    message = {
        "message_id": 77,
        "date": 0,
        "chat": NEWSROOM,
        "from": {"id": 136817688, "is_bot": True, "first_name": "Channel"},
        "sender_chat": elsewhere,
        "text": "/time 05:00",
        "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
    }
    calls = await offline.process({"message": message})
    assert [c.text for c in calls if c.method == "sendMessage"] == [GROUP_ADMINS_ONLY]
    assert reader(db, GROUP).digest_time == time.fromisoformat(DEFAULT_TIME)


async def test_admin_answers_are_kept_a_minute_then_asked_again(
    offline: Offline, db: Database, ticking: FakeMonotonic
) -> None:
    offline.request.members[(GROUP, ADMIN)] = "administrator"
    await offline.reply(ADMIN, "/start", chat=NEWSROOM)
    await offline.reply(ADMIN, "/time 09:00", chat=NEWSROOM)
    assert member_checks(offline) == [(GROUP, ADMIN)]
    # Demoted: within the minute Telegram's last word holds, after it the new one.
    offline.request.members[(GROUP, ADMIN)] = "member"
    ticking.now += MEMBER_TTL - 1
    assert (await offline.reply(ADMIN, "/time 10:00", chat=NEWSROOM)).text.startswith("Done")
    ticking.now += 2
    assert (await offline.reply(ADMIN, "/time 11:00", chat=NEWSROOM)).text == GROUP_ADMINS_ONLY
    assert reader(db, GROUP).digest_time == time(10, 0)
    assert member_checks(offline) == [(GROUP, ADMIN)] * 2


async def test_commands_for_another_bot_are_ignored(offline: Offline, db: Database) -> None:
    offline.request.members[(GROUP, ADMIN)] = "administrator"
    assert await offline.send(ADMIN, "/start@otherbot", chat=NEWSROOM) == []
    assert get_reader(db, GROUP) is None
    answer = await offline.reply(ADMIN, "/start@newsdigest_bot", chat=NEWSROOM)
    assert answer.text.startswith("Subscribed")


async def test_other_group_messages_get_no_answer(subscribed: Offline) -> None:
    assert await subscribed.send(MEMBER, "hello everyone", chat=NEWSROOM) == []
    assert await subscribed.send(MEMBER, "/frobnicate", chat=NEWSROOM) == []


async def test_a_forum_digest_goes_to_the_topic_of_the_last_start(
    offline: Offline, db: Database
) -> None:
    forum = group(forum=True)
    offline.request.members[(GROUP, ADMIN)] = "administrator"
    first = await offline.reply(ADMIN, "/start", chat=forum, thread_id=12)
    assert first.params["message_thread_id"] == 12  # the answer is in the topic too
    assert "in this topic" in first.text
    assert reader(db, GROUP).thread_id == 12
    moved = await offline.reply(ADMIN, "/start", chat=forum, thread_id=40)
    assert moved.text.startswith("Moved: the daily digest now comes to this topic")
    assert reader(db, GROUP).thread_id == 40
    general = await offline.reply(ADMIN, "/start", chat=forum)
    assert "General topic" in general.text and "message_thread_id" not in general.params
    assert reader(db, GROUP).thread_id is None


async def test_a_button_naming_another_chat_is_refused(subscribed: Offline, db: Database) -> None:
    offline = subscribed
    own = await offline.reply(READER, "/start")
    message_id = own.result["message_id"]
    ai = topic_id(db, "AI")
    for data in (f"tt:{OTHER}:{ai}:0", f"tt:{GROUP}:{ai}:0", f"st:{GROUP}:60", f"td:{GROUP}"):
        note, calls = await offline.press(READER, message_id, data, on_keyboard=False)
        assert note.params["text"] == NOT_YOURS, data
        assert [c.method for c in calls] == ["answerCallbackQuery"]
    # ...and in a group, a button naming the reader's own chat.
    picker = await offline.reply(ADMIN, "/topics", chat=NEWSROOM)
    note, _ = await offline.press(
        ADMIN, picker.result["message_id"], f"tt:{READER}:{ai}:0", on_keyboard=False, chat_id=GROUP
    )
    assert note.params["text"] == NOT_YOURS
    assert count(db, "SELECT count(*) FROM reader_topics") == 0


def _channel(db: Database, title: str = "Tech <News>") -> None:
    subscribe(
        db,
        CHANNEL,
        user_id=None,
        first_name="",
        username=None,
        default_time=time(8, 0),
        default_zone=reader(db, READER).zone,
        now=utcnow(),
        kind=ChatKind.CHANNEL,
        title=title,
    )


async def test_a_channel_is_changed_from_a_private_chat_by_its_admins_only(
    offline: Offline, db: Database
) -> None:
    own = await offline.reply(READER, "/start")
    _channel(db)
    message_id = own.result["message_id"]
    offline.request.members[(CHANNEL, READER)] = "administrator"
    offline.request.members[(CHANNEL, OTHER)] = "member"
    note, calls = await offline.press(READER, message_id, f"st:{CHANNEL}:420", on_keyboard=False)
    assert note.params["text"] == "Digest at 07:00 (Europe/Berlin)"
    assert reader(db, CHANNEL).digest_time == time(7, 0)
    [screen] = [c for c in calls if c.method == "editMessageText"]
    assert screen.text.startswith("<b>Settings for 📢 Tech &lt;News&gt;</b>")
    assert f"tp:{CHANNEL}:0" in screen.callback_data

    await offline.reply(OTHER, "/start")
    other_message = offline.request.sent(OTHER)[-1].result["message_id"]
    note, calls = await offline.press(OTHER, other_message, f"st:{CHANNEL}:60", on_keyboard=False)
    assert (
        note.params["text"] == "Only administrators of 📢 Tech <News> can change its settings."
    )  # plain: a pop-up
    assert reader(db, CHANNEL).digest_time == time(7, 0)
    # A reader's own chat id is no channel: forging it gets "not yours", not a lookup.
    note, _ = await offline.press(OTHER, other_message, f"st:{READER}:60", on_keyboard=False)
    assert note.params["text"] == NOT_YOURS


async def test_buttons_under_a_channel_post_change_nothing(offline: Offline, db: Database) -> None:
    await offline.reply(READER, "/start")
    _channel(db)
    ai_message = {
        "message_id": 9,
        "date": 0,
        "chat": group(CHANNEL, "Tech", kind="channel"),
        "sender_chat": group(CHANNEL, "Tech", kind="channel"),
        "text": "Digest",
    }
    offline.request.messages[(CHANNEL, 9)] = ai_message
    for data in ("digest:more", "rel:1", f"tp:{CHANNEL}:0"):
        note, calls = await offline.press(READER, 9, data, on_keyboard=False, chat_id=CHANNEL)
        assert note.params["text"] == IN_A_CHANNEL, data
        assert [c.method for c in calls] == ["answerCallbackQuery"]
    assert count(db, "SELECT count(*) FROM outbox") == 0


async def test_a_channel_that_removed_the_bot_says_what_to_fix(
    offline: Offline, db: Database
) -> None:
    own = await offline.reply(READER, "/start")
    _channel(db, "Tech")
    offline.request.members[(CHANNEL, READER)] = bad_request("member list is inaccessible")
    note, _ = await offline.press(
        READER, own.result["message_id"], f"chan:open:{CHANNEL}", on_keyboard=False
    )
    assert note.params["text"] == (
        "I cannot see who administers 📢 Tech: I am not its administrator any more. "
        "Make me one again (with “Post messages”), then try again."
    )
