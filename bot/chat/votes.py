"""👍 / 👎 on a story card: the subscription's ranking leans towards or away from the story.

A vote is kept per subscription and story (:mod:`storage.votes`) and shifts the weight of
the story's topics and provider in that subscription's own digests, bounded and fading
over 30 days (:mod:`digest.votes`). The same vote again takes it back.

Groups: the group's digest is one ranking for everyone, so a vote there counts for the
group, and only its administrators' votes count (as only they change its settings); a
member's tap is answered with why it did not count, and nothing is stored. A member who
wants their own taste counted votes on their private digest. Channels have no buttons.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database
from telegram import Update
from telegram.error import BadRequest

from bot.chat.following import follow_button_for
from bot.chat.replies import answer_stale
from bot.chat.rights import RightsUnknown, membership
from bot.chat.stories import pressed_story_button, story_on_message
from bot.chat.target import GROUP_TYPES, RIGHTS_UNKNOWN, reading
from bot.context import BotContext
from bot.i18n import N_, _, current_translator
from bot.markup import inline_markup
from digest.assemble import provider_key
from digest.callbacks import StoryVote
from digest.html import clean
from digest.story_card import (
    story_card_buttons,
)
from storage.db import utcnow
from storage.topics import topics_by_ids
from storage.votes import cast_vote

_LOGGER = logging.getLogger(__name__)
GROUP_ADMINS_VOTE = N_(
    "In a group only its administrators' votes shape its digest, so yours was not counted. "
    "Vote on your own digest in a private chat with me."
)


@dataclass(frozen=True, slots=True)
class VoteCast:
    outbox_id: int  # the card's digest message (for its buttons)
    vote: int  # now stored: +1, -1, 0 (taken back)
    topics: tuple[str, ...]
    provider: str


def vote_on_story(
    db: Database,
    chat_id: int,
    message_id: int,
    article_id: int,
    value: int,
    user_id: int | None,
    now: datetime,
) -> VoteCast | None:
    """Record the vote on a story of the digest message pressed on (None: stale)."""
    found = story_on_message(db, chat_id, message_id, article_id)
    if found is None:
        return None
    sent, lead = found
    stored = cast_vote(
        db,
        chat_id,
        article_id,
        value,
        user_id=user_id,
        provider_key=provider_key(lead.provider) if lead.provider else "",
        topic_ids=lead.topic_ids,
        now=now,
    )
    topics = tuple(t.name for t in topics_by_ids(db, lead.topic_ids))
    return VoteCast(sent.outbox_id, stored, topics, lead.provider)


def vote_note(cast: VoteCast) -> str:
    """The pop-up after a vote (plain text, ≤ 200 characters), in the update's language."""
    if not cast.vote:
        return _("Vote taken back.")
    about = ", ".join(clean(name, 40) for name in (*cast.topics[:3], cast.provider) if name)
    if cast.vote > 0:
        note = (
            _("👍 Noted: more stories like this ({about}).")
            if about
            else _("👍 Noted: more stories like this.")
        )
    else:
        note = (
            _("👎 Noted: fewer stories like this ({about}).")
            if about
            else _("👎 Noted: fewer stories like this.")
        )
    return note.format(about=about)[:200]


async def on_vote_button(update: Update, context: BotContext) -> None:
    """sv:<up|down>:<article id> on a story card."""
    found = await pressed_story_button(update, StoryVote)
    if found is None:
        return
    query, pressed, message = found
    chat, user = message.chat, update.effective_user
    if chat.type in GROUP_TYPES:
        if user is None:
            await answer_stale(query)
            return
        try:
            member = await membership(
                context.bot, context.services.members, chat.id, user.id, chat.type
            )
        except RightsUnknown:
            await query.answer(_(RIGHTS_UNKNOWN), show_alert=True)
            return
        if not member.is_admin:
            await query.answer(_(GROUP_ADMINS_VOTE), show_alert=True)
            return
    if await reading(update, context) is None:  # not subscribed (a pop-up said so)
        return
    cast = await context.services.db.run(
        vote_on_story,
        chat.id,
        message.message_id,
        pressed.article_id,
        pressed.value.sign,
        user.id if user is not None else None,
        utcnow(),
    )
    if cast is None:
        await answer_stale(query)
        return
    _LOGGER.info("chat %s: vote %+d on story %s", chat.id, cast.vote, pressed.article_id)
    await query.answer(vote_note(cast))
    follow = await follow_button_for(context, chat.id, pressed.article_id)
    keyboard = story_card_buttons(
        pressed.article_id,
        cast.outbox_id,
        vote=cast.vote,
        follow=follow,
        texts=current_translator(),
    )
    try:
        await message.edit_reply_markup(inline_markup(keyboard))
    except BadRequest as exc:  # the vote is stored; only its ✓ mark is not shown
        _LOGGER.info("chat %s: vote mark not shown: %s", chat.id, exc.message)
