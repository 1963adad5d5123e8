"""The bot's language: chosen for each update before any handler runs, and /language.

A chat's stored language wins (a reader's own choice; in a group, its administrators');
else the Telegram language of whoever sent the update ("de-AT" → German; a language we
do not speak → English). /start stores the sender's language for a new subscription, so
the digests, which no update carries, come in it too.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from telegram import Update
from telegram.constants import ChatType

from bot.chat.replies import answer_stale
from bot.chat.screens import Screen, show
from bot.chat.target import editing, marked
from bot.context import BotContext
from bot.i18n import LANGUAGE_NAMES, SUPPORTED_LANGUAGES, _, current_language, supported_language
from digest.callbacks import LanguageCode, LanguagePick
from digest.keyboard import Button
from storage.db import utcnow
from storage.reader_settings import language_of, remember_language, set_language
from storage.readers import Reader

_LOGGER = logging.getLogger(__name__)


def update_language(stored: str | None, update: Update) -> str:
    """The language to answer ``update`` in: the chat's stored one, else the sender's."""
    if stored:
        return supported_language(stored)
    user = update.effective_user
    return supported_language(user.language_code if user else None)


async def set_update_language(update: object, context: BotContext) -> None:
    """Registered before every other handler (group -1): sets ``current_language``."""
    if not isinstance(update, Update):
        return
    chat = update.effective_chat
    stored = await context.services.db.run(language_of, chat.id) if chat is not None else None
    language = update_language(stored, update)
    current_language.set(language)
    if stored is None and chat is not None and chat.type == ChatType.PRIVATE:
        # A reader subscribed before languages were stored: from now on, theirs.
        await context.services.db.run(remember_language, chat.id, language, utcnow())


def language_screen(reader: Reader) -> Screen:
    chosen = supported_language(reader.language)
    where = (
        _("<b>Language</b>\nThe language I write in here: {language}.")
        if reader.is_group
        else _("<b>Language</b>\nThe language I write in: {language}.")
    )
    text = where.format(language=LANGUAGE_NAMES[chosen])
    note = _("Article text is shown as its source wrote it.")
    buttons: list[Button] = [
        LanguagePick(LanguageCode(code), reader.chat_id).button(
            ("✅ " if code == chosen else "") + LANGUAGE_NAMES[code]
        )
        for code in SUPPORTED_LANGUAGES
    ]
    keyboard = (tuple(buttons[:2]), tuple(buttons[2:]))
    return marked(reader, f"{text}\n{note}"), keyboard


async def cmd_language(update: Update, context: BotContext) -> None:
    """/language: a button per language (in a group, its administrators change it)."""
    reader = await editing(update, context)
    if reader is not None:
        await show(update, language_screen(reader))


async def on_language_button(update: Update, context: BotContext) -> None:
    """lang:<code>:<chat>: the bot's language for that subscription."""
    query = update.callback_query
    if query is None:
        return
    pressed = LanguagePick.decode(query.data)
    if pressed is None:
        await answer_stale(query)
        return
    reader = await editing(update, context, pressed.chat_id)
    if reader is None:
        return
    language = pressed.language.value
    await context.services.db.run(set_language, reader.chat_id, language, utcnow())
    _LOGGER.info("chat %s: language %s", reader.chat_id, language)
    if reader.chat_id == (update.effective_chat.id if update.effective_chat else None):
        current_language.set(language)  # this answer already in the new language
    await query.answer(_("Language: {language}").format(language=LANGUAGE_NAMES[language]))
    await show(update, language_screen(_with_language(reader, language)))


def _with_language(reader: Reader, language: str) -> Reader:
    return replace(reader, language=language)
