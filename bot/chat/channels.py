"""/channels: the channels a user runs through the bot, and adding one (private chats).

A channel cannot send commands, so its administrators manage it here. A channel is added
by its @username, by forwarding one of its posts, or with Telegram's chat picker (a
reply-keyboard button that lists only channels where the user may add the bot as an
administrator; the choice comes back as a ``chat_shared`` service message). Adding asks
Telegram, fresh, that the bot may post there and that the user administers it; the
refusal says exactly what to fix.
"""

from __future__ import annotations

import logging
import re

from telegram import (
    ChatAdministratorRights,
    KeyboardButton,
    KeyboardButtonRequestChat,
    MessageOriginChannel,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.chat.replies import answer, answer_stale
from bot.chat.rights import RightsUnknown, membership
from bot.chat.settings_menu import show_home, status_text
from bot.chat.target import RIGHTS_UNKNOWN
from bot.context import BotContext
from bot.i18n import N_, _, current_language
from digest.callbacks import ChannelsAdd
from digest.html import escape
from digest.settings_callbacks import SettingsHome
from storage.db import utcnow
from storage.readers import ChatKind, ReaderStatus, get_reader
from storage.subscriptions import add_manager, managed_channels, subscribe

_LOGGER = logging.getLogger(__name__)
CHANNEL_REQUEST = 1  # request_id of the chat-picker button; chat_shared names it back
USERNAME = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")  # a public chat's @username
PICKER_LABEL = N_("📢 Choose a channel")


def add_help(bot_username: str) -> str:
    return _(
        "<b>Add a channel</b>\n"
        "1. Make me (@{bot}) an administrator of the channel, with the right to “Post "
        "messages”.\n"
        "2. Tap “{picker}” below, forward me any post of the channel, or send its @username."
    ).format(bot=escape(bot_username), picker=_(PICKER_LABEL))


def picker() -> ReplyKeyboardMarkup:
    """Telegram's chat picker: channels where the user and the bot may post."""
    posting = ChatAdministratorRights(
        is_anonymous=False,
        can_manage_chat=False,
        can_delete_messages=False,
        can_manage_video_chats=False,
        can_restrict_members=False,
        can_promote_members=False,
        can_change_info=False,
        can_invite_users=False,
        can_post_stories=False,
        can_edit_stories=False,
        can_delete_stories=False,
        can_post_messages=True,
    )
    request = KeyboardButtonRequestChat(
        request_id=CHANNEL_REQUEST,
        chat_is_channel=True,
        user_administrator_rights=posting,
        bot_administrator_rights=posting,
        request_title=True,
        request_username=True,
    )
    return ReplyKeyboardMarkup(
        [[KeyboardButton(_(PICKER_LABEL), request_chat=request)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


async def cmd_channels(update: Update, context: BotContext) -> None:
    """/channels: your channels, one button each; /channels @name adds one."""
    user = update.effective_user
    if user is None:
        return
    if context.args:
        await add_channel(update, context, context.args[0])
        return
    channels = await context.services.db.run(managed_channels, user.id)
    if not channels:
        await answer(update, add_help(context.bot.username), reply_keyboard=picker())
        return
    now = utcnow()
    lines = [f"• 📢 {escape(c.title or str(c.chat_id))}: {status_text(c, now)}" for c in channels]
    keyboard = (
        *((SettingsHome(c.chat_id).button(f"📢 {c.title or c.chat_id}"),) for c in channels),
        (ChannelsAdd().button(_("➕ Add a channel")),),
    )
    text = (
        _("<b>Your channels</b>")
        + "\n"
        + "\n".join(lines)
        + "\n\n"
        + _("Tap one for its settings.")
    )
    await answer(update, text, keyboard)


async def on_add_button(update: Update, context: BotContext) -> None:
    """/channels' "Add a channel": the steps, with the chat-picker button."""
    query = update.callback_query
    if query is None:
        return
    if ChannelsAdd.decode(query.data) is None:
        await answer_stale(query)
        return
    await query.answer()
    await answer(update, add_help(context.bot.username), reply_keyboard=picker())


async def on_username(update: Update, context: BotContext) -> None:
    """A bare @username in a private chat: add that channel."""
    message = update.effective_message
    if message is not None and message.text:
        await add_channel(update, context, message.text.strip())


async def on_forwarded(update: Update, context: BotContext) -> None:
    """A forwarded post: add the channel it came from."""
    message = update.effective_message
    if message is None:
        return
    origin = message.forward_origin
    if not isinstance(origin, MessageOriginChannel):
        await answer(
            update,
            _(
                "That was not forwarded from a channel. To add a channel, forward one of its "
                "posts, send its @username or use /channels."
            ),
        )
        return
    await add_channel(update, context, origin.chat.id)


async def on_chat_shared(update: Update, context: BotContext) -> None:
    """The chat picker's answer: add the channel chosen."""
    message = update.effective_message
    shared = message.chat_shared if message is not None else None
    if shared is None or shared.request_id != CHANNEL_REQUEST:
        return
    await add_channel(update, context, shared.chat_id)


async def add_channel(update: Update, context: BotContext, ref: int | str) -> None:
    """Check with Telegram, then subscribe the channel and make the user its manager."""
    user = update.effective_user
    if user is None:
        return
    bot = context.bot
    shown = escape(str(ref))
    try:
        chat = await bot.get_chat(ref)
    except (BadRequest, Forbidden):
        await answer(
            update,
            _(
                "I cannot find the channel {channel}. Check the @username; for a private "
                "channel, make me its administrator first, then forward me one of its posts."
            ).format(channel=shown),
        )
        return
    except TelegramError:
        await answer(update, _(RIGHTS_UNKNOWN))
        return
    title = escape(chat.title or str(chat.id))
    if chat.type != ChatType.CHANNEL:
        what = (
            _("{chat} is a person, not a channel.")
            if chat.type == ChatType.PRIVATE
            else _("{chat} is a group, not a channel: add me to it and send /start there.")
        )
        await answer(update, what.format(chat=title or shown))
        return
    cache = context.services.members
    cache.forget(chat.id)  # the user may just have fixed what we asked for: ask afresh
    try:
        me = await membership(bot, cache, chat.id, bot.id, ChatType.CHANNEL)
        # A channel's member list is closed to a bot that is no admin: ask only then.
        them = (
            await membership(bot, cache, chat.id, user.id, ChatType.CHANNEL)
            if me.is_admin
            else None
        )
    except RightsUnknown:
        await answer(update, _(RIGHTS_UNKNOWN))
        return
    if not me.is_admin:
        await answer(
            update,
            _(
                "I am not an administrator of 📢 {channel}, so I cannot post there. Fix: in the "
                "channel, open Administrators → Add Admin, choose @{bot} and leave “Post "
                "messages” on. Then send me the channel again."
            ).format(channel=title, bot=escape(bot.username)),
        )
        return
    if not me.can_post:
        await answer(
            update,
            _(
                "I am an administrator of 📢 {channel} but may not post there. Fix: in the "
                "channel's Administrators, open @{bot} and turn on “Post messages”. Then send "
                "me the channel again."
            ).format(channel=title, bot=escape(bot.username)),
        )
        return
    if them is None or not them.is_admin:
        _LOGGER.info("user %s refused: not an administrator of channel %s", user.id, chat.id)
        await answer(
            update,
            _(
                "Only administrators of 📢 {channel} can add it, and Telegram says you are not "
                "one. Ask an administrator of the channel to add it here, or to make you one."
            ).format(channel=title),
        )
        return
    await _subscribe(update, context, chat.id, chat.title or "", chat.username, user.id)


async def _subscribe(
    update: Update,
    context: BotContext,
    chat_id: int,
    title: str,
    username: str | None,
    user_id: int,
) -> None:
    store, now = context.services.db, utcnow()
    before = await store.run(get_reader, chat_id)
    reader, is_new = await store.run(
        subscribe,
        chat_id,
        user_id=None,
        first_name="",
        username=username,
        default_time=context.settings.digest_time,
        default_zone=context.settings.timezone,
        now=now,
        kind=ChatKind.CHANNEL,
        title=title,
        language=current_language.get(),  # the adding administrator's, until /language
    )
    await store.run(add_manager, chat_id, user_id, now)
    _LOGGER.info("channel %s added by %s (new: %s)", chat_id, user_id, is_new)
    if is_new:
        note = _("Added: it gets one digest of the news a day. Pick its topics and times below.")
    elif before is not None and before.status == ReaderStatus.ACTIVE:
        note = _("It is subscribed already; you can change its settings here and in /channels.")
    else:
        note = _("Welcome back: its digests resume with the settings it had.")
    await show_home(update, context, reader, note)
