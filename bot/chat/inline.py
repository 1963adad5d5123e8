"""Inline mode: ``@<botname> words`` in any chat offers matching stored stories.

Each result's message is the story card (:func:`digest.inline.render_card`). A query's
stories are found once on the DB thread and kept a minute per normalised query
(``services.inline``); its pages are slices of them, named by ``next_offset``. Dates are
in the bot's zone (NEWSDIGEST_TIMEZONE); the card's own words are in the querier's
Telegram language (the message they send). Our cache holds the stories, the same in every
language, so its key stays the query alone; Telegram's cache is keyed by the query text
only, so the answer is ``is_personal``: otherwise a Russian querier could be served the
German card someone else got for the same words.
"""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.context import BotContext, InlineCache
from bot.db_thread import DbThread
from bot.i18n import translator
from digest.inline import CACHE_SECONDS, InlineResult, inline_result, page_of, parse_offset
from digest.texts import SOURCE_TEXTS, Texts
from storage.inline_search import MAX_QUERY_CHARS, inline_key, inline_stories

_LOGGER = logging.getLogger(__name__)


def result_article(result: InlineResult) -> InlineQueryResultArticle:
    return InlineQueryResultArticle(
        id=result.id,
        title=result.title,
        description=result.description or None,
        input_message_content=InputTextMessageContent(result.card, parse_mode=ParseMode.HTML),
    )


async def on_inline_query(update: Update, context: BotContext) -> None:
    """Answer an inline query with one page of stories (the top stories for no words)."""
    query = update.inline_query
    if query is None:
        return
    services = context.services
    results, next_offset = await find_results(
        services.db,
        services.inline,
        query.query,
        query.offset,
        now=services.clock(),
        zone=services.settings.timezone,
        texts=translator(query.from_user.language_code),
    )
    try:
        await query.answer(
            results, cache_time=CACHE_SECONDS, is_personal=True, next_offset=next_offset
        )
    except BadRequest as exc:  # answered too late (over ~10 s): the user has moved on
        _LOGGER.info("inline query %s not answered: %s", query.id, exc.message)
        return
    _LOGGER.debug("inline query %s: %d results", query.id, len(results))


async def find_results(
    db: DbThread,
    cache: InlineCache,
    text: str,
    offset: str,
    *,
    now: datetime,
    zone: tzinfo,
    texts: Texts = SOURCE_TEXTS,
) -> tuple[list[InlineQueryResultArticle], str]:
    """One page of results for ``text`` at ``offset``, and the next page's offset; the
    cards' own words in ``texts``' language."""
    text = text[:MAX_QUERY_CHARS]
    key = inline_key(text)
    stories = cache.get(key)
    if stories is None:
        stories = await db.run(inline_stories, text, now)
        cache.put(key, stories)
    page, next_offset = page_of(stories, parse_offset(offset))
    results = [result_article(inline_result(story, tz=zone, texts=texts)) for story in page]
    return results, next_offset
