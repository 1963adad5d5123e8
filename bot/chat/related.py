"""/related <link or words> and the 🔗 buttons under digest entries.

In a group a 🔗 pressed by anyone is answered in the group, as a reply to the digest it
was pressed under; a channel's digests carry no buttons (see ``digest_messages``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlite_utils import Database
from telegram import Message, Update
from telegram.constants import ChatType

from bot.chat.following import follow_row
from bot.chat.replies import answer, answer_stale, thread_of
from bot.chat.target import IN_A_CHANNEL
from bot.context import BotContext
from bot.i18n import N_, _, current_translator
from digest.callbacks import RelatedStory
from digest.cluster import titles_match
from digest.html import escape
from digest.keyboard import Keyboard
from digest.model import Candidate, RelatedLink
from digest.render import render_related
from digest.urls import is_http_url
from storage.articles import article_by_id, article_by_url, articles_by_ids
from storage.db import utcnow
from storage.outbox import PRIORITY_ANSWER, MessageKind, OutgoingMessage, enqueue
from storage.readers import get_reader
from storage.search import frontmatter_related, linked_articles, search, similar, title_matches

_LOGGER = logging.getLogger(__name__)
MAX_ITEMS = 15
USAGE = N_(
    "Send a stored article's link or a few words, e.g.\n"
    "<code>/related https://example.com/story</code>\n<code>/related facial recognition</code>"
)


@dataclass(frozen=True, slots=True)
class RelatedAnswer:
    heading: str
    items: tuple[RelatedLink, ...]
    found: bool  # False: the link is not stored or nothing matched
    article_id: int | None = None  # the story's lead, when the answer is about one article


def related_for_article(db: Database, article: Candidate) -> RelatedAnswer:
    """The file's own related list, stored articles on the same story, else the nearest by FTS."""
    same_story = linked_articles(db, article) + [
        c
        for c in articles_by_ids(db, title_matches(db, article))
        if titles_match(c.title, article.title)
    ]
    seen = {article.url}
    items: list[RelatedLink] = []
    for link in [*frontmatter_related(db, article.id), *(c.as_related_link() for c in same_story)]:
        if link.url not in seen:  # normalised: one line per story
            seen.add(link.url)
            items.append(link)
    if not items:
        items = [c.as_related_link() for c in similar(db, article, limit=5)]
    return RelatedAnswer(article.title, tuple(items[:MAX_ITEMS]), True, article.id)


def find_related(db: Database, text: str) -> RelatedAnswer:
    query = text.strip()
    if is_http_url(query):
        article = article_by_url(db, query)
        if article is None:
            return RelatedAnswer(query, (), False)
        return related_for_article(db, article)
    results = search(db, query, limit=MAX_ITEMS)
    return RelatedAnswer(query, tuple(c.as_related_link() for c in results), bool(results))


def related_by_id(db: Database, article_id: int) -> RelatedAnswer | None:
    article = article_by_id(db, article_id)
    return None if article is None else related_for_article(db, article)


async def _reader_zone(update: Update, context: BotContext) -> ZoneInfo:
    chat = update.effective_chat
    reader = await context.services.db.run(get_reader, chat.id) if chat else None
    return reader.zone if reader else context.settings.timezone


async def _send(
    update: Update, context: BotContext, result: RelatedAnswer, reply_to: int | None = None
) -> None:
    zone = await _reader_zone(update, context)
    texts = render_related(result.heading, result.items, tz=zone, texts=current_translator())
    chat = update.effective_chat
    keyboard: Keyboard = ()  # under the last message
    if chat is not None and result.article_id is not None:
        keyboard = (await follow_row(context, chat.id, result.article_id),)  # 🔔 / 🔕
    if len(texts) == 1 or chat is None:
        for n, text in enumerate(texts, 1):
            await answer(update, text, keyboard if n == len(texts) else (), reply_to=reply_to)
        return
    # Several messages to one chat go through the outbox: paced like every send (about one
    # a second after a burst of three), while the bot goes on answering everyone else.
    thread = thread_of(update)
    queued = [
        OutgoingMessage(
            chat.id,
            text,
            MessageKind.ANSWER,
            PRIORITY_ANSWER,
            keyboard=keyboard if n == len(texts) else (),
            thread_id=thread,
        )
        for n, text in enumerate(texts, 1)
    ]
    await context.services.db.run(enqueue, queued, utcnow())
    context.services.sender.wake()


async def cmd_related(update: Update, context: BotContext) -> None:
    """/related <webUrl or words>: other coverage of a story, or a full-text search."""
    text = " ".join(context.args or []).strip()
    if not text:
        await answer(update, _("Which story?") + " " + _(USAGE))
        return
    result = await context.services.db.run(find_related, text[:500])
    chat = update.effective_chat
    _LOGGER.info("reader %s: /related, %d items", chat.id if chat else "-", len(result.items))
    if not result.found:
        if is_http_url(text):
            reply = _(
                "I have no article stored at that link. Try a few words from its title "
                "instead, e.g. <code>/related facial recognition ban</code>."
            )
        else:
            reply = _(
                "Nothing matches “{words}”. Try fewer or other words, or paste a stored "
                "article's link."
            ).format(words=escape(text[:100]))
        await answer(update, reply)
        return
    await _send(update, context, result)


async def on_related_button(update: Update, context: BotContext) -> None:
    """rel:<article id> under a digest entry: the same answer as /related <its link>."""
    query = update.callback_query
    if query is None:
        return
    pressed = RelatedStory.decode(query.data)
    if pressed is None:
        await answer_stale(query)
        return
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.CHANNEL:
        await query.answer(_(IN_A_CHANNEL), show_alert=True)  # an old keyboard: never post there
        return
    result = await context.services.db.run(related_by_id, pressed.article_id)
    if result is None:
        await answer_stale(query, N_("That story is no longer stored."))
        return
    await query.answer()
    digest = query.message  # in a group: answer under it, so the thread stays readable
    reply_to = (
        digest.message_id if chat.type != ChatType.PRIVATE and isinstance(digest, Message) else None
    )
    await _send(update, context, result, reply_to)
