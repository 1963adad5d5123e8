"""Story cards: a digest entry's 🗞 opens its story in place, ◀ Back restores the digest.

The card is the digest message edited: the story's title, sources and all its stored
coverage, newest first, with [👍] [👎] [Why this?] and ◀ Back (votes: :mod:`bot.chat.votes`).
Back renders the message again from what its outbox row keeps
(:class:`digest.parts.DigestPart`), so it looks as it did, buttons included.

Every press names its story or outbox row; both are checked against the message pressed
on (its outbox row, by chat and message id): a forged or stale press gets the "out of
date" pop-up. In a group anyone may open a card and go back (the message changes for
everyone, as a shared digest should); "Why this?" answers the presser alone, in a
pop-up. A channel's digests carry no buttons (a tap would change the post for all).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlite_utils import Database
from telegram import CallbackQuery, LinkPreviewOptions, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest

from bot.chat.following import follow_button_for
from bot.chat.related import related_for_article
from bot.chat.replies import NO_PREVIEW, answer_stale, edit
from bot.chat.target import IN_A_CHANNEL
from bot.context import BotContext
from bot.i18n import N_, _, current_translator
from bot.markup import inline_markup
from digest.assemble import Entry, provider_key
from digest.callback_data import CallbackData
from digest.callbacks import StoryBack, StoryOpen, StoryWhy
from digest.explain import StoryFactors, explain_story
from digest.model import Candidate, RelatedLink
from digest.parts import DigestPart
from digest.render import (
    render_part,
)
from digest.story_card import (
    StoryCard,
    card_items,
    card_sources,
    render_story_card,
    story_card_buttons,
)
from storage.articles import article_by_id, articles_by_ids
from storage.db import utcnow
from storage.readers import get_reader
from storage.stories import SentDigest, digest_of_message, sent_digest
from storage.topics import topics_by_ids
from storage.votes import vote_on, weights_of

_LOGGER = logging.getLogger(__name__)
UNCHANGEABLE = N_("This digest can no longer be changed; /digest sends a new one.")
ButtonT = TypeVar("ButtonT", bound=CallbackData)


@dataclass(frozen=True, slots=True)
class OpenedStory:
    """A story of a sent digest message, as its card shows it."""

    digest: SentDigest
    card: StoryCard
    vote: int  # the subscription's vote on it


def story_on_message(
    db: Database, chat_id: int, message_id: int, article_id: int
) -> tuple[SentDigest, Candidate] | None:
    """The digest message pressed on and its story ``article_id`` (None: not one of its
    entries, or no longer stored)."""
    sent = digest_of_message(db, chat_id, message_id)
    if sent is None or article_id not in sent.part.leads:
        return None
    lead = article_by_id(db, article_id)
    return None if lead is None else (sent, lead)


def coverage_of(db: Database, lead: Candidate) -> tuple[RelatedLink, ...]:
    """All stored coverage of the lead's story (as /related finds it)."""
    return related_for_article(db, lead).items


def open_story(db: Database, chat_id: int, message_id: int, article_id: int) -> OpenedStory | None:
    found = story_on_message(db, chat_id, message_id, article_id)
    if found is None:
        return None
    sent, lead = found
    card = StoryCard(lead, coverage_of(db, lead))
    return OpenedStory(sent, card, vote_on(db, chat_id, article_id))


def entries_of(db: Database, part: DigestPart) -> list[Entry | None]:
    """The part's entries read back (None where the lead is no longer stored)."""
    by_id = {c.id: c for c in articles_by_ids(db, part.article_ids)}
    entries: list[Entry | None] = []
    for ids in part.entries:
        lead = by_id.get(ids[0])
        also = tuple(by_id[a] for a in ids[1:] if a in by_id)
        entries.append(None if lead is None else Entry(lead, also))
    return entries


def why_story(
    db: Database, chat_id: int, message_id: int, article_id: int, now: datetime
) -> StoryFactors | None:
    found = story_on_message(db, chat_id, message_id, article_id)
    if found is None:
        return None
    _, lead = found
    items = card_items(StoryCard(lead, coverage_of(db, lead)))
    weights = weights_of(db, chat_id, now)
    key = provider_key(lead.provider) if lead.provider else ""
    return StoryFactors(
        topics=tuple(t.name for t in topics_by_ids(db, lead.topic_ids)),
        quality=lead.quality,
        heat=lead.heat,
        sources=card_sources(items),
        age=now - lead.published_at,
        topic_factor=weights.topic_factor(lead.topic_ids) if weights else 1.0,
        provider=lead.provider,
        provider_factor=weights.provider_factor(key) if weights else 1.0,
        own_vote=vote_on(db, chat_id, article_id),
    )


async def pressed_on(query: CallbackQuery, update: Update) -> Message | None:
    """The digest message a story button was pressed on; None (after a pop-up) in a
    channel or when the message is out of reach."""
    chat = update.effective_chat
    if chat is not None and chat.type == ChatType.CHANNEL:
        await query.answer(_(IN_A_CHANNEL), show_alert=True)
        return None
    message = query.message
    if chat is None or not isinstance(message, Message):
        await answer_stale(query)
        return None
    return message


async def pressed_story_button(
    update: Update, button: type[ButtonT]
) -> tuple[CallbackQuery, ButtonT, Message] | None:
    """The query, its decoded ``button`` and the digest message it was pressed on; None
    (after a pop-up) for data ``button`` does not accept, in a channel, or out of reach."""
    query = update.callback_query
    if query is None:
        return None
    pressed = button.decode(query.data)
    if pressed is None:
        await answer_stale(query)
        return None
    message = await pressed_on(query, update)
    if message is None:
        return None
    return query, pressed, message


async def _zone_of(context: BotContext, chat_id: int) -> ZoneInfo:
    reader = await context.services.db.run(get_reader, chat_id)
    return reader.zone if reader is not None else context.settings.timezone


async def on_story_open(update: Update, context: BotContext) -> None:
    """🗞 under a digest entry: the digest message becomes the story's card."""
    found = await pressed_story_button(update, StoryOpen)
    if found is None:
        return
    query, pressed, message = found
    chat_id = message.chat.id
    opened = await context.services.db.run(
        open_story, chat_id, message.message_id, pressed.article_id
    )
    if opened is None:
        await answer_stale(query)
        return
    zone = await _zone_of(context, chat_id)
    texts = current_translator()
    text = render_story_card(opened.card, tz=zone, texts=texts)
    follow = await follow_button_for(context, chat_id, pressed.article_id)
    keyboard = story_card_buttons(
        pressed.article_id, opened.digest.outbox_id, vote=opened.vote, follow=follow, texts=texts
    )
    try:
        await edit(message, text, keyboard)
    except BadRequest as exc:
        _LOGGER.info("chat %s: story card not shown: %s", chat_id, exc.message)
        await answer_stale(query, UNCHANGEABLE)
        return
    await query.answer()


async def on_story_back(update: Update, context: BotContext) -> None:
    """◀ Back on a story card: the digest message as it was."""
    found = await pressed_story_button(update, StoryBack)
    if found is None:
        return
    query, pressed, message = found
    db = context.services.db
    sent = await db.run(sent_digest, pressed.outbox_id)
    if sent is None or (sent.chat_id, sent.message_id) != (message.chat.id, message.message_id):
        await answer_stale(query)
        return
    entries = await db.run(entries_of, sent.part)
    zone = await _zone_of(context, sent.chat_id)
    again = render_part(
        sent.part,
        entries,
        tz=zone,
        now=sent.rendered_at,
        preview_url=sent.preview_url,
        texts=current_translator(),
    )
    preview = LinkPreviewOptions(url=again.preview_url) if again.preview_url else NO_PREVIEW
    try:
        await message.edit_text(
            again.text,
            parse_mode=ParseMode.HTML,
            reply_markup=inline_markup(again.buttons),
            link_preview_options=preview,
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            _LOGGER.info("chat %s: digest not restored: %s", sent.chat_id, exc.message)
            await answer_stale(query, UNCHANGEABLE)
            return
    await query.answer()


async def on_story_why(update: Update, context: BotContext) -> None:
    """ "Why this?" on a card: the factors of the story's place, to the presser alone."""
    found = await pressed_story_button(update, StoryWhy)
    if found is None:
        return
    query, pressed, message = found
    factors = await context.services.db.run(
        why_story, message.chat.id, message.message_id, pressed.article_id, utcnow()
    )
    if factors is None:
        await answer_stale(query)
        return
    await query.answer(explain_story(factors, texts=current_translator()), show_alert=True)
