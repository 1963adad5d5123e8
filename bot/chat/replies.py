"""Sending answers to readers: HTML, no link previews, never a crash on a stale message.

In a forum supergroup an answer goes to the topic (message thread) it answers.
"""

from __future__ import annotations

import logging

from telegram import (
    CallbackQuery,
    ForceReply,
    LinkPreviewOptions,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.context import BotContext
from bot.i18n import N_, _
from bot.markup import inline_markup
from digest.keyboard import Keyboard

_LOGGER = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
NOT_ALLOWED = N_("Sorry, not allowed: this command is for the newsroom's admins.")
# Forged, malformed or stale callback data: a pop-up, never a traceback or an admin report.
STALE_BUTTON = N_("This button is out of date.")


async def answer(
    update: Update,
    text: str,
    keyboard: Keyboard = (),
    *,
    reply_to: int | None = None,
    reply_keyboard: ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply | None = None,
) -> Message | None:
    """Reply in the chat (and forum topic) the update came from (HTML already escaped by
    the caller). ``reply_to``: a message id to answer as a reply to, e.g. the digest whose
    button was pressed in a group; ``reply_keyboard`` (a reply keyboard, its removal, or
    a ForceReply prompt) instead of an inline ``keyboard``."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(
        text,
        parse_mode=ParseMode.HTML,
        reply_markup=reply_keyboard or inline_markup(keyboard),
        link_preview_options=NO_PREVIEW,
        message_thread_id=thread_of(update),
        reply_parameters=(
            None
            if reply_to is None
            else ReplyParameters(reply_to, allow_sending_without_reply=True)
        ),
    )


def thread_of(update: Update) -> int | None:
    """The forum topic the update came from (None: not in a topic)."""
    message = update.effective_message
    if isinstance(message, Message) and message.is_topic_message:
        return message.message_thread_id
    return None


async def edit(message: Message, text: str, keyboard: Keyboard = ()) -> None:
    """Edit in place, skipping an edit that would change nothing (Telegram answers 400)."""
    markup = inline_markup(keyboard)
    if message.text_html == text and message.reply_markup == markup:
        return
    try:
        await message.edit_text(
            text, parse_mode=ParseMode.HTML, reply_markup=markup, link_preview_options=NO_PREVIEW
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise
        _LOGGER.debug("edit skipped: message not modified")


async def answer_stale(query: CallbackQuery, note: str = STALE_BUTTON) -> None:
    """The answer to a button whose data is malformed or names what no longer exists."""
    await query.answer(_(note), show_alert=True)


def is_admin(update: Update, context: BotContext) -> bool:
    """The sender is one of the configured admins (checked on the server, every time)."""
    user = update.effective_user
    return user is not None and user.id in context.settings.admins
