"""The Bot API stand-in's groups, forum topics and channels, driven by a real PTB ``Bot``.

What the bot relies on must behave like Telegram: who may post where (and the error
wording when not), getChatMember and getChatAdministrators, privacy mode, anonymous
admins, my_chat_member, forwarded channel posts and the chat picker's chat_shared.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import (
    Bot,
    ChatAdministratorRights,
    ChatMemberAdministrator,
    ChatMemberLeft,
    ChatMemberOwner,
    KeyboardButton,
    KeyboardButtonRequestChat,
    MessageOriginChannel,
    ReplyKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.error import BadRequest, Forbidden

from tests.botapi import FakeBotApi

OWNER, ADMIN, MEMBER, OUTSIDER = 11, 12, 13, 14
GROUP = -4100
FORUM = -1_004_100_000_001
CHANNEL = -1_004_200_000_002


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        for uid in (OWNER, ADMIN, MEMBER, OUTSIDER):
            server.add_user(uid, f"User {uid}")
        server.add_group(GROUP, "Team", admins=[OWNER, ADMIN])
        server.set_member(GROUP, MEMBER, "member")
        server.add_group(FORUM, "Forum", admins=[OWNER], forum=True)
        server.add_channel(CHANNEL, "Tech News", admins=[OWNER, ADMIN], username="technews")
        yield server


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(token=api.token, base_url=f"{api.base_url}/bot") as client:
        yield client


async def updates(bot: Bot) -> list[Update]:
    found = await bot.get_updates(timeout=0)
    if found:
        await bot.get_updates(offset=found[-1].update_id + 1, timeout=0)
    return list(found)


async def test_members_and_administrators_as_telegram_gives_them(bot: Bot, api: FakeBotApi) -> None:
    owner = await bot.get_chat_member(GROUP, OWNER)
    assert isinstance(owner, ChatMemberOwner)
    admin = await bot.get_chat_member(GROUP, ADMIN)
    assert isinstance(admin, ChatMemberAdministrator) and admin.can_manage_chat
    assert (await bot.get_chat_member(GROUP, MEMBER)).status == "member"
    assert isinstance(await bot.get_chat_member(GROUP, OUTSIDER), ChatMemberLeft)
    assert {m.user.id for m in await bot.get_chat_administrators(GROUP)} == {OWNER, ADMIN}
    in_channel = await bot.get_chat_member(CHANNEL, ADMIN)
    assert isinstance(in_channel, ChatMemberAdministrator) and in_channel.can_post_messages
    me = await bot.get_chat_member(CHANNEL, bot.id)
    assert isinstance(me, ChatMemberAdministrator) and me.can_post_messages
    with pytest.raises(BadRequest, match="User not found"):
        await bot.get_chat_member(GROUP, 999_999)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.get_chat_member(-555, OWNER)


async def test_a_bot_outside_a_channel_learns_nothing_of_its_members(
    bot: Bot, api: FakeBotApi
) -> None:
    api.set_bot_status(CHANNEL, "member")
    with pytest.raises(BadRequest, match="Member list is inaccessible"):
        await bot.get_chat_member(CHANNEL, ADMIN)
    assert (await bot.get_chat_member(CHANNEL, bot.id)).status == "member"  # itself: yes
    api.set_bot_status(CHANNEL, "kicked")
    with pytest.raises(Forbidden, match="bot was kicked from the channel chat"):
        await bot.get_chat_member(CHANNEL, ADMIN)
    # A public channel is found by its @username even so; a private one is not.
    assert (await bot.get_chat("@TechNews")).id == CHANNEL
    api.add_channel(-1_004_300_000_003, "Hidden", bot=None)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.get_chat(-1_004_300_000_003)


@pytest.mark.parametrize(
    ("status", "rights", "error", "message"),
    [
        ("administrator", {"can_post_messages": False}, BadRequest, "need administrator rights"),
        ("member", {}, BadRequest, "need administrator rights in the channel chat"),
        ("left", {}, Forbidden, "bot is not a member of the channel chat"),
        ("kicked", {}, Forbidden, "bot was kicked from the channel chat"),
    ],
)
async def test_the_bot_posts_in_a_channel_only_as_an_admin_with_post_messages(
    bot: Bot,
    api: FakeBotApi,
    status: str,
    rights: dict[str, bool],
    error: type[Exception],
    message: str,
) -> None:
    posted = await bot.send_message(CHANNEL, "first post")
    assert posted.sender_chat is not None and posted.sender_chat.id == CHANNEL
    api.set_bot_status(CHANNEL, status, **rights)
    shown = message.capitalize() if error is BadRequest else message  # as PTB words it
    with pytest.raises(error, match=shown):
        await bot.send_message(CHANNEL, "second post")
    assert [m.text for m in api.messages(CHANNEL)] == ["first post"]


async def test_a_group_refuses_a_removed_or_muted_bot(bot: Bot, api: FakeBotApi) -> None:
    await bot.send_message(GROUP, "hello")
    api.set_bot_status(GROUP, "restricted")
    with pytest.raises(BadRequest, match="Not enough rights to send text messages"):
        await bot.send_message(GROUP, "muted")
    api.set_bot_status(GROUP, "left")
    with pytest.raises(Forbidden, match="bot is not a member of the group chat"):
        await bot.send_message(GROUP, "gone")


async def test_my_chat_member_tells_the_bot_of_each_change(bot: Bot, api: FakeBotApi) -> None:
    api.set_bot_status(CHANNEL, "member", by=ADMIN)
    api.set_bot_status(CHANNEL, "left", by=ADMIN)
    api.set_bot_status(CHANNEL, "administrator", can_post_messages=True)
    changes = [u.my_chat_member for u in await updates(bot)]
    assert [(c.old_chat_member.status, c.new_chat_member.status) for c in changes if c] == [
        ("administrator", "member"),
        ("member", "left"),
        ("left", "administrator"),
    ]
    assert changes[0] is not None and changes[0].from_user.id == ADMIN
    assert changes[2] is not None and changes[2].from_user.id == OWNER  # by default: the owner
    assert changes[0].chat.type == "channel" and changes[0].chat.title == "Tech News"


async def test_forum_topics_take_sends_and_refuse_unknown_threads(
    bot: Bot, api: FakeBotApi
) -> None:
    news = api.add_topic(FORUM, "News")
    sent = await bot.send_message(FORUM, "in the topic", message_thread_id=news)
    assert (sent.message_thread_id, sent.is_topic_message) == (news, True)
    assert api.messages(FORUM)[-1].thread_id == news
    reply = await bot.send_message(FORUM, "a reply", reply_parameters=ReplyParameters(sent.id))
    assert reply.message_thread_id == news  # a reply lands in its message's topic
    assert reply.reply_to_message is not None and reply.reply_to_message.id == sent.id
    api.delete_topic(FORUM, news)
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(FORUM, "gone", message_thread_id=news)
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(GROUP, "no forum", message_thread_id=news)
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(FORUM, "x", reply_parameters=ReplyParameters(9999))
    lenient = ReplyParameters(9999, allow_sending_without_reply=True)
    assert (await bot.send_message(FORUM, "x", reply_parameters=lenient)).reply_to_message is None


async def test_privacy_mode_shows_the_bot_commands_for_it_and_replies_to_it(
    bot: Bot, api: FakeBotApi
) -> None:
    ours = await bot.send_message(GROUP, "the bot's message")
    assert await api.send_group_text(GROUP, MEMBER, "just chatting") is None
    assert await api.send_group_text(GROUP, MEMBER, "/start@otherbot") is None
    assert await api.send_group_text(GROUP, MEMBER, "/digest") is not None
    assert await api.send_group_text(GROUP, MEMBER, "/digest@NewsDigest_Bot") is not None
    assert await api.send_group_text(GROUP, MEMBER, "thanks", reply_to=ours.id) is not None
    api.set_bot_status(GROUP, "administrator")  # an admin bot sees everything
    assert await api.send_group_text(GROUP, MEMBER, "/start@otherbot") is not None
    messages = [u.message for u in await updates(bot) if u.message]
    assert [m.text for m in messages] == [
        "/digest",
        "/digest@NewsDigest_Bot",
        "thanks",
        "/start@otherbot",
    ]
    assert messages[2].reply_to_message is not None
    assert messages[2].reply_to_message.id == ours.id


async def test_an_anonymous_admin_writes_as_the_group(bot: Bot, api: FakeBotApi) -> None:
    topic = api.add_topic(FORUM, "Desk")
    await api.send_group_text(FORUM, OWNER, "/time 09:00", anonymous=True, thread_id=topic)
    [update] = await updates(bot)
    message = update.message
    assert message is not None and message.sender_chat is not None
    assert message.sender_chat.id == FORUM
    assert message.from_user is not None and message.from_user.username == "GroupAnonymousBot"
    assert (message.message_thread_id, message.is_topic_message) == (topic, True)
    assert message.chat.is_forum
    with pytest.raises(AssertionError, match="no admin"):
        await api.send_group_text(GROUP, MEMBER, "/stop", anonymous=True)


async def test_a_forwarded_channel_post_names_its_channel(bot: Bot, api: FakeBotApi) -> None:
    await api.forward_channel_post(MEMBER, CHANNEL)
    [update] = await updates(bot)
    assert update.message is not None
    origin = update.message.forward_origin
    assert isinstance(origin, MessageOriginChannel) and origin.chat.id == CHANNEL


def picker(bot_can_post: bool = True) -> ReplyKeyboardMarkup:
    rights = ChatAdministratorRights(*(False,) * 11, can_post_messages=True)
    request = KeyboardButtonRequestChat(
        7,
        chat_is_channel=True,
        user_administrator_rights=rights,
        bot_administrator_rights=rights if bot_can_post else None,
        request_title=True,
    )
    return ReplyKeyboardMarkup([[KeyboardButton("Choose", request_chat=request)]])


async def test_the_chat_picker_shares_an_allowed_chat_and_grants_the_bot_its_rights(
    bot: Bot, api: FakeBotApi
) -> None:
    await api.send_text(OWNER, "/channels")
    await api.send_text(MEMBER, "/channels")
    await updates(bot)
    with pytest.raises(AssertionError, match="no chat picker"):
        await api.share_chat(OWNER, 7, CHANNEL)
    await bot.send_message(OWNER, "pick one", reply_markup=picker())
    await bot.send_message(MEMBER, "pick one", reply_markup=picker())
    api.set_bot_status(CHANNEL, "left")
    await updates(bot)

    with pytest.raises(AssertionError, match="may not pick"):
        await api.share_chat(MEMBER, 7, CHANNEL)  # Telegram lists the user's channels only
    with pytest.raises(AssertionError):
        await api.share_chat(OWNER, 7, GROUP)  # a group, where a channel was asked for
    await api.share_chat(OWNER, 7, CHANNEL)
    promoted, shared = await updates(bot)
    assert promoted.my_chat_member is not None
    assert promoted.my_chat_member.new_chat_member.status == "administrator"
    assert shared.message is not None and shared.message.chat_shared is not None
    assert (shared.message.chat_shared.request_id, shared.message.chat_shared.chat_id) == (
        7,
        CHANNEL,
    )
    assert shared.message.chat_shared.title == "Tech News"
    assert (await bot.send_message(CHANNEL, "now I may post")).chat.id == CHANNEL


async def test_a_migrated_group_keeps_its_members(bot: Bot, api: FakeBotApi) -> None:
    api.migrate_group(GROUP, -1_004_100_000_099)
    assert (await bot.get_chat_member(-1_004_100_000_099, ADMIN)).status == "administrator"
    assert (await bot.get_chat_member(-1_004_100_000_099, MEMBER)).status == "member"
