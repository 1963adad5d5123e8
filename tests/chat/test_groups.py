"""Handlers in groups: who may change a group's settings, and which subscription a button
names (bot.chat.target), against the offline Bot API's getChatMember answers."""

from __future__ import annotations

from datetime import time

import pytest
from sqlite_utils import Database

from bot.chat.rights import MEMBER_TTL, MemberCache
from bot.chat.target import (
    GROUP_ADMINS_ONLY,
    GROUP_UNSUBSCRIBED,
    IN_A_CHANNEL,
    NOT_YOURS,
)
from storage.db import utcnow
from storage.readers import ChatKind, get_reader
from storage.subscriptions import drop_chat, subscribe
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
    store_articles(
        db, article("An AI story", "https://example.com/ai", ["AI"], now=utcnow()), at=utcnow()
    )
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
    assert answer.callback_data[0] == f"tp:{GROUP}:0"
    # The zone question, as buttons for an admin to tap (a location is a private chat's).
    assert f"zs:{GROUP}:0" in answer.callback_data and f"zq:{GROUP}" not in answer.callback_data
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
    commands = (
        "/start", "/topics", "/time 09:00", "/timezone Asia/Tokyo", "/include ai",
        "/exclude sport", "/quiet 22:00-07:00", "/pause 7d", "/resume", "/stop",
    )  # fmt: skip
    for command in commands:
        answer = await offline.reply(MEMBER, command, chat=NEWSROOM)
        assert answer.text == GROUP_ADMINS_ONLY, command
    picker = await offline.reply(ADMIN, "/topics", chat=NEWSROOM)
    ai = topic_id(db, "AI")
    assert f"tt:{GROUP}:{ai}:0" in picker.callback_data
    # Every button of the picker and of every /settings screen, an admin's on screen.
    home = await offline.reply(ADMIN, "/settings", chat=NEWSROOM)
    screens = [(picker.result["message_id"], picker.callback_data)]
    for data in home.callback_data:
        opened = await offline.reply(ADMIN, "/settings", chat=NEWSROOM)
        await offline.press(ADMIN, opened.result["message_id"], data, chat_id=GROUP)
        shown = offline.message(GROUP, opened.result["message_id"])
        keyboard = shown.get("reply_markup", {}).get("inline_keyboard", [])
        screens.append(
            (opened.result["message_id"], [b["callback_data"] for r in keyboard for b in r])
        )
    pressed = 0
    for message_id, buttons in screens:
        for data in buttons:
            note, calls = await offline.press(MEMBER, message_id, data, chat_id=GROUP)
            assert (note.params["text"], note.params["show_alert"]) == (GROUP_ADMINS_ONLY, True)
            assert [c.method for c in calls] == ["answerCallbackQuery"], data
            pressed += 1
    assert pressed > 40  # topics, times, days, zones, keywords, quiet, shape, pause, prompts
    assert reader(db, GROUP) == before
    assert count(db, "SELECT count(*) FROM reader_topics") == 0
    assert count(db, "SELECT count(*) FROM prompts") == 0  # no question asked for them


async def test_everyone_may_read_the_digest_related_settings_and_help(
    subscribed: Offline, db: Database
) -> None:
    offline = subscribed
    help_text = (await offline.reply(MEMBER, "/help", chat=NEWSROOM)).text
    assert "<b>Administrators</b>" in help_text and "/channels" not in help_text
    settings = await offline.reply(MEMBER, "/settings", chat=NEWSROOM)
    assert "Digests: 07:15, every day" in settings.text
    assert "This group's settings" in settings.text and "so:topics" in settings.callback_data[0]
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
    await offline.reply(ADMIN, "/time 09:00 18:00", chat=NEWSROOM)
    await offline.reply(ADMIN, "/timezone tokyo", chat=NEWSROOM)
    await offline.reply(ADMIN, '/exclude "transfer window"', chat=NEWSROOM)
    await offline.reply(ADMIN, "/quiet 22:00-07:00 hold", chat=NEWSROOM)
    await offline.reply(ADMIN, "/pause 3d", chat=NEWSROOM)
    found = reader(db, GROUP)
    assert (found.topic_ids, found.schedule.times, found.zone.key) == (
        frozenset({ai}),
        (time(9, 0), time(18, 0)),
        "Asia/Tokyo",
    )
    assert [t.text for t in found.keywords.exclude] == ["transfer window"]
    assert found.quiet is not None and found.quiet.mode == "hold"
    assert found.is_paused(utcnow())
    # A settings screen's button, pressed by the admin in the group.
    home = await offline.reply(ADMIN, "/settings", chat=NEWSROOM)
    await offline.press(ADMIN, home.result["message_id"], f"so:shape:{GROUP}", chat_id=GROUP)
    await offline.press(ADMIN, home.result["message_id"], f"sz:{GROUP}:5", chat_id=GROUP)
    assert reader(db, GROUP).shape.size == 5
    await offline.reply(ADMIN, "/resume", chat=NEWSROOM)
    assert not reader(db, GROUP).is_paused(utcnow())
    stop = await offline.reply(ADMIN, "/stop", chat=NEWSROOM)
    assert "no more digests in this group" in stop.text
    assert reader(db, GROUP).status == "stopped"
    again = await offline.reply(MEMBER, "/digest", chat=NEWSROOM)
    assert again.text == GROUP_UNSUBSCRIBED
    shown = await offline.reply(MEMBER, "/settings", chat=NEWSROOM)
    assert "unsubscribed — an administrator sends /start" in shown.text
    assert shown.callback_data == []


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
    forged = (
        f"tt:{OTHER}:{ai}:0", f"tt:{GROUP}:{ai}:0", f"ct:{GROUP}:60", f"td:{GROUP}",
        f"set:{GROUP}", f"so:keywords:{GROUP}", f"pr:inc:{GROUP}", f"kc:{GROUP}", f"zs:{GROUP}:0",
        f"qs:{GROUP}:1", f"sz:{GROUP}:5", f"pa:{GROUP}:7", f"ms:{GROUP}", f"chan:stop:{GROUP}",
    )  # fmt: skip
    for data in forged:
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
    note, calls = await offline.press(READER, message_id, f"ct:{CHANNEL}:420", on_keyboard=False)
    assert note.params["text"] == "07:00 and 08:00, every day"
    assert reader(db, CHANNEL).schedule.times == (time(7, 0), time(8, 0))
    [screen] = [c for c in calls if c.method == "editMessageText"]
    assert screen.text.startswith("<b>Settings for 📢 Tech &lt;News&gt;</b>")
    assert f"set:{CHANNEL}" in screen.callback_data  # Back: the channel's settings
    assert reader(db, READER).schedule.times == (time.fromisoformat(DEFAULT_TIME),)

    await offline.reply(OTHER, "/start")
    other_message = offline.request.sent(OTHER)[-1].result["message_id"]
    for data in (f"ct:{CHANNEL}:60", f"set:{CHANNEL}", f"pr:zone:{CHANNEL}"):
        note, calls = await offline.press(OTHER, other_message, data, on_keyboard=False)
        assert (
            note.params["text"] == "Only administrators of 📢 Tech <News> can change its settings."
        )  # plain: a pop-up
    assert reader(db, CHANNEL).schedule.times == (time(7, 0), time(8, 0))
    # A reader's own chat id is no channel: forging it gets "not yours", not a lookup.
    note, _ = await offline.press(OTHER, other_message, f"ct:{READER}:60", on_keyboard=False)
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
        READER, own.result["message_id"], f"set:{CHANNEL}", on_keyboard=False
    )
    assert note.params["text"] == (
        "I cannot see who administers 📢 Tech: I am not its administrator any more. "
        "Make me one again (with “Post messages”), then try again."
    )


async def test_a_channels_settings_screen_shows_its_state_and_stops_and_resumes(
    offline: Offline, db: Database
) -> None:
    own = await offline.reply(READER, "/start")
    _channel(db, "Tech")
    offline.request.members[(CHANNEL, READER)] = "administrator"
    message_id = own.result["message_id"]
    await offline.press(READER, message_id, f"set:{CHANNEL}", on_keyboard=False)
    home = offline.message(READER, message_id)
    assert home["text"].startswith("Settings for 📢 Tech\nStatus: subscribed")
    buttons = [b["callback_data"] for row in home["reply_markup"]["inline_keyboard"] for b in row]
    assert f"so:pause:{CHANNEL}" in buttons and buttons[-1] == f"chan:stop:{CHANNEL}"

    # Its own /pause, from the pause screen: still subscribed, paused until a date.
    await offline.press(READER, message_id, f"so:pause:{CHANNEL}")
    await offline.press(READER, message_id, f"pa:{CHANNEL}:3")
    await offline.press(READER, message_id, f"set:{CHANNEL}")
    assert "Status: paused until" in offline.message(READER, message_id)["text"]
    assert reader(db, CHANNEL).status == "active" and reader(db, CHANNEL).paused_until

    note, _ = await offline.press(READER, message_id, f"chan:stop:{CHANNEL}")
    assert note.params["text"] == "Stopped: no more digests there"
    stopped = offline.message(READER, message_id)
    assert "Status: stopped (Resume below)" in stopped["text"]
    assert "Next digest: none (stopped)" in stopped["text"]
    assert [b["callback_data"] for row in stopped["reply_markup"]["inline_keyboard"]
            for b in row] == [f"chan:resume:{CHANNEL}"]  # fmt: skip
    # A settings button of the stopped channel (an old screen) is refused, saying why.
    note, _ = await offline.press(READER, message_id, f"pa:{CHANNEL}:0", on_keyboard=False)
    assert note.params["text"] == "📢 Tech is stopped: Resume it on its /channels screen."

    note, _ = await offline.press(READER, message_id, f"chan:resume:{CHANNEL}")
    assert note.params["text"] == "Resumed"
    found = reader(db, CHANNEL)
    assert found.status == "active" and found.paused_until is not None  # its pause kept
    # A reader's own chat cannot be stopped with a channel's button (it has /stop).
    note, _ = await offline.press(READER, message_id, f"chan:stop:{READER}", on_keyboard=False)
    assert note.params["text"] == "This button is out of date."
    assert reader(db, READER).status == "active"

    # The bot is removed from the channel: the screen says so, and what to fix.
    drop_chat(db, CHANNEL, "the bot was removed from the channel", utcnow())
    await offline.press(READER, message_id, f"set:{CHANNEL}", on_keyboard=False)
    paused = offline.message(READER, message_id)["text"]
    assert (
        "Status: paused: the bot was removed from the channel. Make me an administrator" in paused
    )
    assert "Next digest: none (paused)" in paused


async def test_a_groups_question_is_answered_by_the_admin_who_was_asked_in_the_group(
    subscribed: Offline, db: Database
) -> None:
    offline = subscribed
    await offline.start(MEMBER)  # the member's own zone question is pending, privately
    home = await offline.reply(ADMIN, "/settings", chat=NEWSROOM)
    await offline.press(ADMIN, home.result["message_id"], f"so:keywords:{GROUP}", chat_id=GROUP)
    _, calls = await offline.press(
        ADMIN, home.result["message_id"], f"pr:inc:{GROUP}", chat_id=GROUP
    )
    [question] = [c for c in calls if c.method == "sendMessage"]
    assert question.chat_id == GROUP and question.params["reply_markup"]["force_reply"]
    asked = offline.request.messages[(GROUP, question.result["message_id"])]
    # The member's reply answers nothing here, and keeps their own question for later.
    assert await offline.send(MEMBER, "Tokyo", chat=NEWSROOM, reply_to=asked) == []
    assert reader(db, MEMBER).zone.key == "Europe/Berlin"
    assert count(db, "SELECT count(*) FROM prompts WHERE user_id = ?", [MEMBER]) == 1
    # The admin's text that is no reply to the bot is not taken either.
    assert await offline.send(ADMIN, "climate", chat=NEWSROOM) == []
    added = await offline.reply(ADMIN, "climate", chat=NEWSROOM, reply_to=asked)
    assert added.text.startswith("Only stories matching: “climate” — added.")
    assert [t.text for t in reader(db, GROUP).keywords.include] == ["climate"]
    assert get_reader(db, ADMIN) is None  # the admin's own chat was never subscribed
