"""The command menus Telegram shows, the handlers and the /help texts agree, in every
language: every command offered has a handler and a line in its chat kind's help, and
every command handled is offered somewhere; each language gets its own menus, per scope."""

from __future__ import annotations

import re

import pytest
from telegram import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats
from telegram.ext import ApplicationBuilder, CommandHandler

import bot.app as bot_app
from bot.command_menus import (
    admin_help,
    admin_menu,
    group_help,
    group_menu,
    menus,
    private_help,
    reader_menu,
)
from bot.i18n import SUPPORTED_LANGUAGES, translator


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


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_offered_command_is_handled_and_every_handled_one_offered(language: str) -> None:
    texts = translator(language)
    offered = {*_names(reader_menu(texts)), *_names(group_menu(texts)), *_names(admin_menu(texts))}
    assert offered == _handled()


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_each_menu_matches_its_help_text(language: str) -> None:
    texts = translator(language)
    assert set(_names(reader_menu(texts))) <= _in_help(private_help(texts))
    assert set(_names(group_menu(texts))) <= _in_help(group_help(texts))
    admin_only = set(_names(admin_menu(texts))) - set(_names(reader_menu(texts)))
    assert admin_only <= _in_help(admin_help(texts))
    assert admin_only <= _in_help(private_help(texts, admin=True))
    assert not admin_only & _in_help(private_help(texts))


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_menus_have_no_repeats_and_fit_telegrams_limits(language: str) -> None:
    texts = translator(language)
    for menu in (reader_menu(texts), group_menu(texts), admin_menu(texts)):
        names = _names(menu)
        assert len(names) == len(set(names)) <= 100
        for command in menu:
            assert re.fullmatch(r"[a-z0-9_]{1,32}", command.command)
            assert 1 <= len(command.description) <= 256


def test_help_teaches_one_example_per_command() -> None:
    texts = translator("en")
    lines = private_help(texts).splitlines()
    for name in _names(reader_menu(texts)):
        example = [line for line in lines if re.match(rf"<code>/{name}[ <]", line)]
        assert len(example) == 1, name
        assert " — " in example[0]


def test_menus_are_set_per_language_and_scope() -> None:
    found = menus([42])
    languages = {language for _, _, language in found}
    assert languages == {None, *(x for x in SUPPORTED_LANGUAGES if x != "en")}
    for language in languages:
        scopes = [type(scope) for _, scope, lang in found if lang == language]
        assert BotCommandScopeAllPrivateChats in scopes
        assert BotCommandScopeAllGroupChats in scopes
        assert len(scopes) == 3  # and the one admin's own chat
    russian = next(m for m, s, lang in found if lang == "ru" and s.type == "all_private_chats")
    english = next(m for m, s, lang in found if lang is None and s.type == "all_private_chats")
    assert _names(russian) == _names(english)
