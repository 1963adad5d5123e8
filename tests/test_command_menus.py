"""The command menus Telegram shows, the handlers and the /help texts agree: every command
offered has a handler and a line in its chat kind's help, and every command handled is
offered somewhere."""

from __future__ import annotations

import re

from telegram import BotCommand
from telegram.ext import ApplicationBuilder, CommandHandler

import bot.app as bot_app
from bot.chat.groups import GROUP_HELP
from bot.chat.readers import ADMIN_HELP, HELP_TEXT
from bot.command_menus import ADMIN_COMMANDS, GROUP_COMMANDS, READER_COMMANDS


def _handled() -> set[str]:
    application = ApplicationBuilder().token("123456:MENUS-token").build()
    bot_app.register_handlers(application)  # type: ignore[arg-type]
    return {
        command
        for handlers in application.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }


def _in_help(text: str) -> set[str]:
    return set(re.findall(r"(?<![<\w])/([a-z]+)", text))  # not "</b>"


def _names(menu: list[BotCommand]) -> list[str]:
    return [c.command for c in menu]


def test_every_offered_command_is_handled_and_every_handled_one_offered() -> None:
    handled = _handled()
    offered = {*_names(READER_COMMANDS), *_names(GROUP_COMMANDS), *_names(ADMIN_COMMANDS)}
    assert offered == handled


def test_each_menu_matches_its_help_text() -> None:
    assert set(_names(READER_COMMANDS)) == _in_help(HELP_TEXT)
    assert set(_names(GROUP_COMMANDS)) == _in_help(GROUP_HELP)
    assert set(_names(ADMIN_COMMANDS)) == _in_help(ADMIN_HELP)


def test_menus_have_no_repeats_and_fit_telegrams_limits() -> None:
    for menu in (READER_COMMANDS, GROUP_COMMANDS, READER_COMMANDS + ADMIN_COMMANDS):
        names = _names(menu)
        assert len(names) == len(set(names)) <= 100
        for command in menu:
            assert re.fullmatch(r"[a-z0-9_]{1,32}", command.command)
            assert 1 <= len(command.description) <= 256
