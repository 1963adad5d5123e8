"""The command menus Telegram shows: private chats, groups, and each admin's own chat.

Every command here has a handler (``bot.app.register_handlers``) and a line in the /help
text of its chat kind; a test checks the three agree.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from telegram.error import TelegramError
from telegram.ext import ExtBot

_LOGGER = logging.getLogger(__name__)

READER_COMMANDS = [
    BotCommand("start", "Subscribe to the digest"),
    BotCommand("settings", "Every setting, with buttons"),
    BotCommand("topics", "Choose your topics"),
    BotCommand("digest", "What is new for you, now"),
    BotCommand("related", "Other coverage of a story: /related <link or words>"),
    BotCommand("following", "Stories you follow (🔔), with unfollow buttons"),
    BotCommand("time", "When digests come: /time 07:30 19:00, /time weekdays 7:30"),
    BotCommand("timezone", "Your time zone: /timezone berlin"),
    BotCommand("include", 'Only stories with these words: /include word "a phrase"'),
    BotCommand("exclude", "Never stories with these words: /exclude word"),
    BotCommand("keywords", "Your keywords, with remove buttons"),
    BotCommand("sources", "Sources you muted"),
    BotCommand("quiet", "Quiet hours for breaking news: /quiet 22:00-07:00"),
    BotCommand("pause", "No digests for a while: /pause 7d or /pause 2027-01-10"),
    BotCommand("resume", "End a pause"),
    BotCommand("channels", "Digests in a channel you run"),
    BotCommand("stop", "Unsubscribe"),
    BotCommand("help", "What I can do"),
]
GROUP_COMMANDS = [
    BotCommand("digest", "What is new, now"),
    BotCommand("related", "Other coverage of a story: /related <link or words>"),
    BotCommand("following", "Stories the group follows (admins follow and unfollow)"),
    BotCommand("settings", "This group's settings"),
    BotCommand("keywords", "The group's keyword filters"),
    BotCommand("sources", "Sources the group muted"),
    BotCommand("help", "What I can do here"),
    BotCommand("start", "Admins: subscribe this group (in a forum: to this topic)"),
    BotCommand("topics", "Admins: choose the group's topics"),
    BotCommand("time", "Admins: when digests come: /time 07:30 19:00"),
    BotCommand("timezone", "Admins: the group's time zone: /timezone berlin"),
    BotCommand("include", 'Admins: only stories with these words: /include word "a phrase"'),
    BotCommand("exclude", "Admins: never stories with these words: /exclude word"),
    BotCommand("quiet", "Admins: quiet hours for breaking news: /quiet 22:00-07:00"),
    BotCommand("pause", "Admins: no digests for a while: /pause 7d"),
    BotCommand("resume", "Admins: end a pause"),
    BotCommand("stop", "Admins: no more digests here"),
]
ADMIN_COMMANDS = [
    BotCommand("breaking", "Push an item now: /breaking <link or text>"),
    BotCommand("stats", "Readers, groups, channels, articles, outbox, last scan"),
]


async def register_commands(bot: ExtBot[None], admins: Collection[int]) -> None:
    """The command menus; admins get theirs in their own chats. Failure is not fatal."""
    try:
        await bot.set_my_commands(READER_COMMANDS, scope=BotCommandScopeAllPrivateChats())
        await bot.set_my_commands(GROUP_COMMANDS, scope=BotCommandScopeAllGroupChats())
        for admin_id in admins:
            try:
                await bot.set_my_commands(
                    READER_COMMANDS + ADMIN_COMMANDS, scope=BotCommandScopeChat(admin_id)
                )
            except TelegramError as exc:
                _LOGGER.warning("admin %s command menu not set: %s", admin_id, exc.message)
    except TelegramError as exc:
        _LOGGER.warning("command menu not registered: %s", exc.message)
