"""The commands (:mod:`bot.commands`) as Telegram shows them: the menus (private chats,
groups, each admin's own chat, in every supported language) and the /help texts that
teach them, one example each.

Every command here has a handler (``bot.app.register_handlers``) and a line in the /help
text of its chat kind; a test checks the three agree, in every language.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from telegram.error import TelegramError
from telegram.ext import ExtBot

from bot.commands import ADMIN, GROUP_ADMINS, GROUP_EVERYONE, PRIVATE, Command
from bot.i18n import SOURCE_LANGUAGE, SUPPORTED_LANGUAGES, Translator, translator
from digest.html import escape

_LOGGER = logging.getLogger(__name__)
MENU_CALLS_AT_ONCE = 8


def menu(commands: Sequence[Command], texts: Translator) -> list[BotCommand]:
    return [BotCommand(c.name, texts.gettext(c.menu)) for c in commands]


def reader_menu(texts: Translator) -> list[BotCommand]:
    return menu(PRIVATE, texts)


def group_menu(texts: Translator) -> list[BotCommand]:
    return menu(GROUP_EVERYONE + GROUP_ADMINS, texts)


def admin_menu(texts: Translator) -> list[BotCommand]:
    return menu(PRIVATE + ADMIN, texts)


def _lines(commands: Sequence[Command], texts: Translator) -> list[str]:
    return [
        f"<code>{escape(texts.gettext(c.example))}</code> — {escape(texts.gettext(c.explains))}"
        for c in commands
    ]


def private_help(texts: Translator, *, admin: bool = False) -> str:
    """/help in a private chat: every command with one example (admins: theirs too)."""
    parts = [
        texts.gettext("<b>newsdigest</b> sends you digests of the news in your topics."),
        texts.gettext("Each line is an example to send as it is, and what it does:"),
        "\n".join(_lines(PRIVATE, texts)),
    ]
    if admin:
        parts.append(texts.gettext("<b>Admin</b>") + "\n" + "\n".join(_lines(ADMIN, texts)))
    return "\n\n".join(parts)


def admin_help(texts: Translator) -> str:
    """The admin section of /help alone."""
    return texts.gettext("<b>Admin</b>") + "\n" + "\n".join(_lines(ADMIN, texts))


def group_help(texts: Translator) -> str:
    """/help in a group: what everyone may send, then what its administrators may."""
    return "\n\n".join(
        [
            texts.gettext("<b>newsdigest</b> posts digests of the news in this group's topics."),
            texts.gettext("<b>Everyone</b>") + "\n" + "\n".join(_lines(GROUP_EVERYONE, texts)),
            texts.gettext("<b>Administrators</b>") + "\n" + "\n".join(_lines(GROUP_ADMINS, texts)),
        ]
    )


def menus(admins: Collection[int]) -> list[tuple[list[BotCommand], BotCommandScope, str | None]]:
    """Every (menu, scope, language_code) to set: each language, plus the default (None,
    English) for users whose Telegram language is none of them."""
    languages: list[str | None] = [None, *(x for x in SUPPORTED_LANGUAGES if x != SOURCE_LANGUAGE)]
    found: list[tuple[list[BotCommand], BotCommandScope, str | None]] = []
    for language in languages:
        texts = translator(language)
        found.append((reader_menu(texts), BotCommandScopeAllPrivateChats(), language))
        found.append((group_menu(texts), BotCommandScopeAllGroupChats(), language))
        found.extend((admin_menu(texts), BotCommandScopeChat(a), language) for a in admins)
    return found


async def register_commands(bot: ExtBot[None], admins: Collection[int]) -> None:
    """The command menus; admins get theirs in their own chats. Failure is not fatal.

    A few at a time, not one after another: every language multiplies the calls, and
    start-up waits for them."""
    limit = asyncio.Semaphore(MENU_CALLS_AT_ONCE)

    async def one(commands: list[BotCommand], scope: BotCommandScope, language: str | None) -> None:
        async with limit:
            try:
                await bot.set_my_commands(commands, scope=scope, language_code=language)
            except TelegramError as exc:
                _LOGGER.warning(
                    "command menu not set (%s, %s): %s",
                    scope.type,
                    language or "default",
                    exc.message,
                )

    await asyncio.gather(*(one(*found) for found in menus(admins)))
