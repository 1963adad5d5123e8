"""Following a story: 🔔 Follow / 🔕 Unfollow on a story's view and on updates, /following.

A follow belongs to the chat it was made in: a reader's private chat, or a group, where
only its administrators follow and unfollow (everyone may list). Channels are out of
scope: their posts carry no buttons, and follows for a channel are not managed from its
admin's private chat. The updates themselves are queued by the follow job
(:mod:`bot.delivery.follow_updates`).
"""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.error import BadRequest

from bot.chat.replies import answer, answer_stale, edit
from bot.chat.target import editing, reading
from bot.context import BotContext
from bot.i18n import N_, _, current_translator, ngettext
from digest.callbacks import FollowingUnfollow, FollowStory, FollowVerb
from digest.follow import MAX_FOLLOWS
from digest.follow_messages import follow_button, render_following, toggled
from digest.keyboard import Button, Keyboard
from storage.db import utcnow
from storage.follows import (
    FollowOutcome,
    follow_story,
    followed_stories,
    is_following,
    unfollow_story,
)

_LOGGER = logging.getLogger(__name__)
FOLLOWED = N_("🔔 Following: I tell you when other sources cover this story.")
UNFOLLOWED = N_("🔕 Unfollowed.")
STORY_GONE = N_("That story is no longer stored.")


def full_note() -> str:
    return ngettext(
        "You follow {n} story already: unfollow one in /following first.",
        "You follow {n} stories already: unfollow one in /following first.",
        MAX_FOLLOWS,
    ).format(n=MAX_FOLLOWS)


async def follow_button_for(context: BotContext, chat_id: int, article_id: int) -> Button:
    """The 🔔 / 🔕 button for a story in ``chat_id``, as it stands, in the update's language."""
    following = await context.services.db.run(is_following, chat_id, article_id)
    return follow_button(article_id, following=following, texts=current_translator())


async def follow_row(context: BotContext, chat_id: int, article_id: int) -> tuple[Button, ...]:
    """The 🔔 / 🔕 button row for a story's view in ``chat_id``."""
    return (await follow_button_for(context, chat_id, article_id),)


async def cmd_following(update: Update, context: BotContext) -> None:
    """/following: the stories this chat follows, each with a 🔕 button."""
    reader = await reading(update, context)
    if reader is None:
        return
    stories = await context.services.db.run(followed_stories, reader.chat_id)
    text, keyboard = render_following(stories, tz=reader.zone, texts=current_translator())
    await answer(update, text, keyboard)


def _keyboard_of(message: Message) -> Keyboard:
    markup = message.reply_markup
    if markup is None:
        return ()
    return tuple(
        tuple(
            Button(b.text, b.callback_data)
            for b in row
            if isinstance(b.callback_data, str) and b.callback_data
        )
        for row in markup.inline_keyboard
    )


async def on_follow_button(update: Update, context: BotContext) -> None:
    """fo:on|off:<article id>: follow or unfollow; the button turns into the other one."""
    query = update.callback_query
    if query is None:
        return
    pressed = FollowStory.decode(query.data)
    if pressed is None:
        await answer_stale(query)
        return
    reader = await editing(update, context)  # in a group: its administrators only
    if reader is None:
        return
    db = context.services.db
    if pressed.verb == FollowVerb.ON:
        outcome = await db.run(follow_story, reader.chat_id, pressed.article_id, utcnow())
        if outcome == FollowOutcome.GONE:
            await answer_stale(query, STORY_GONE)
            return
        if outcome == FollowOutcome.FULL:
            await query.answer(full_note(), show_alert=True)
            return
        await query.answer(_(FOLLOWED))
    else:
        if not await db.run(unfollow_story, reader.chat_id, pressed.article_id):
            await answer_stale(query)  # forged, or unfollowed elsewhere already
            return
        await query.answer(_(UNFOLLOWED))
    _LOGGER.info("chat %s: %s story %s", reader.chat_id, pressed.verb, pressed.article_id)
    message = query.message
    if isinstance(message, Message) and message.text_html:
        try:
            await edit(
                message,
                message.text_html,
                toggled(_keyboard_of(message), pressed, current_translator()),
            )
        except BadRequest as exc:  # too old to edit, or deleted: the follow stands
            _LOGGER.info("follow button not turned: %s", exc.message)


async def on_following_button(update: Update, context: BotContext) -> None:
    """fl:<article id> on the /following list: unfollow, and show the list again in place."""
    query = update.callback_query
    if query is None:
        return
    pressed = FollowingUnfollow.decode(query.data)
    if pressed is None:
        await answer_stale(query)
        return
    reader = await editing(update, context)
    if reader is None:
        return
    db = context.services.db
    if not await db.run(unfollow_story, reader.chat_id, pressed.article_id):
        await answer_stale(query)
        return
    await query.answer(_(UNFOLLOWED))
    _LOGGER.info("chat %s: unfollowed story %s", reader.chat_id, pressed.article_id)
    stories = await db.run(followed_stories, reader.chat_id)
    text, keyboard = render_following(stories, tz=reader.zone, texts=current_translator())
    if isinstance(query.message, Message):
        await edit(query.message, text, keyboard)
