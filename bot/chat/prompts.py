"""Text a settings screen asks for: a button sends a ForceReply prompt, and the user's next
message is the answer, applied to the subscription the button named.

The pending prompt is kept per user in the database (``storage.prompts``) for
``PROMPT_TTL``, so it works for any subscription (a channel managed from a private
chat) and survives a restart; the answer goes through :func:`bot.chat.target.editing`
like a button press (a group's non-admin is refused). A command instead of an answer
simply runs the command. In a group only a reply to the bot can answer (with privacy
mode on it sees nothing else), and text that answers no question is left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import ForceReply, Update
from telegram.constants import ChatType

from bot.chat import cadence, keywords, quiet, zones
from bot.chat.replies import answer, answer_stale
from bot.chat.target import editing
from bot.context import BotContext
from bot.i18n import N_, _
from digest.html import escape
from digest.settings_callbacks import Prompt, PromptButton
from storage.controls import KeywordKind
from storage.db import utcnow
from storage.prompts import PROMPT_TTL, set_prompt, take_prompt

_LOGGER = logging.getLogger(__name__)
UNKNOWN = N_("I did not understand that. /help lists what I can do.")

Apply = Callable[[Update, BotContext, str, int], Awaitable[object]]

QUESTIONS: dict[Prompt, tuple[str, str]] = {
    Prompt.INCLUDE: (
        N_("Send the words to include; put a phrase in quotes."),
        N_('climate "interest rates"'),
    ),
    Prompt.EXCLUDE: (N_("Send the words to exclude; put a phrase in quotes."), N_("football")),
    Prompt.TIME: (N_("Send up to 4 times, and the days if not every day."), "07:30 19:00"),
    Prompt.ZONE: (N_("Send your city or time zone (or share your location)."), N_("Berlin")),
    Prompt.QUIET: (N_("Send your quiet hours."), "22:00-07:00"),
    Prompt.PAUSE: (N_("Pause until when? A duration or a date."), "2027-01-10"),
}


async def _include(update: Update, context: BotContext, text: str, chat: int) -> None:
    await keywords.change_keywords(update, context, KeywordKind.INCLUDE, text, chat)


async def _exclude(update: Update, context: BotContext, text: str, chat: int) -> None:
    await keywords.change_keywords(update, context, KeywordKind.EXCLUDE, text, chat)


async def _time(update: Update, context: BotContext, text: str, chat: int) -> None:
    await cadence.change_times(update, context, text.split() or ["?"], chat)


APPLY: dict[Prompt, Apply] = {
    Prompt.INCLUDE: _include,
    Prompt.EXCLUDE: _exclude,
    Prompt.TIME: _time,
    Prompt.ZONE: zones.change_zone,
    Prompt.QUIET: lambda u, c, t, chat: quiet.change_quiet(u, c, t or "?", chat),
    Prompt.PAUSE: lambda u, c, t, chat: cadence.change_pause(u, c, t or "?", chat),
}


async def ask(update: Update, context: BotContext, prompt: Prompt, chat_id: int) -> None:
    """Keep ``prompt`` pending for the user and send its ForceReply question."""
    user = update.effective_user
    if user is None:
        return
    now = utcnow()
    await context.services.db.run(set_prompt, user.id, chat_id, prompt.value, now + PROMPT_TTL, now)
    question, example = (_(text) for text in QUESTIONS[prompt])
    await answer(
        update,
        _("{question} For example: <code>{example}</code>").format(
            question=question, example=escape(example)
        ),
        reply_keyboard=ForceReply(input_field_placeholder=example),
    )


async def on_prompt_button(update: Update, context: BotContext) -> None:
    """pr:<prompt>:<chat>: ask for text to apply to subscription ``chat``."""
    query = update.callback_query
    if query is None:
        return
    pressed = PromptButton.decode(query.data)
    if pressed is None:
        await answer_stale(query)
        return
    reader = await editing(update, context, pressed.chat_id)
    if reader is None:
        return
    await query.answer()
    await ask(update, context, pressed.prompt, reader.chat_id)


async def on_text(update: Update, context: BotContext) -> None:
    """Plain text: the answer to the user's pending prompt, else (in a private chat) a
    pointer to /help."""
    user, message, chat = update.effective_user, update.effective_message, update.effective_chat
    shared = chat is not None and chat.type != ChatType.PRIVATE
    if shared and not _replies_to_me(update, context):
        return
    pending = None
    if user is not None:
        only = chat.id if shared and chat is not None else None
        pending = await context.services.db.run(take_prompt, user.id, utcnow(), chat_id=only)
    if pending is None or message is None or message.text is None:
        if not shared:
            await answer(update, _(UNKNOWN))
        return
    try:
        prompt = Prompt(pending.kind)
    except ValueError:
        await answer(update, _(UNKNOWN))
        return
    _LOGGER.info("user %s answered prompt %s for %s", pending.user_id, prompt, pending.chat_id)
    await APPLY[prompt](update, context, message.text, pending.chat_id)


def _replies_to_me(update: Update, context: BotContext) -> bool:
    message = update.effective_message
    replied = message.reply_to_message if message is not None else None
    author = replied.from_user if replied is not None else None
    return author is not None and author.id == context.bot.id


async def on_location(update: Update, context: BotContext) -> None:
    """A shared location sets the zone: of the pending zone prompt's subscription, or the
    user's own."""
    user = update.effective_user
    pending = await context.services.db.run(take_prompt, user.id, utcnow()) if user else None
    chat_id = pending.chat_id if pending is not None and pending.kind == Prompt.ZONE else None
    await zones.apply_location(update, context, chat_id)
