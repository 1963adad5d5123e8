"""/digest and the "More" button: the reader's digest, now, through the outbox."""

from __future__ import annotations

import logging

from telegram import Update

from bot.chat.readers import format_local
from bot.chat.replies import answer, answer_stale
from bot.chat.target import reading
from bot.context import BotContext
from bot.delivery.pool_cache import queue_on_demand
from bot.i18n import _, current_translator
from digest.callbacks import DigestMore
from digest.explain import explain_nothing
from storage.db import utcnow
from storage.readers import Reader

_LOGGER = logging.getLogger(__name__)


async def send_digest_now(update: Update, context: BotContext) -> None:
    reader = await reading(update, context)
    if reader is not None:
        await _queue_now(update, context, reader)


async def _queue_now(update: Update, context: BotContext, reader: Reader) -> None:
    now = utcnow()
    services = context.services
    result = await queue_on_demand(
        services.db, services.pools, reader, now, max_age=context.settings.max_age
    )
    if result.queued:
        _LOGGER.info("reader %s: on-demand digest queued (%d parts)", reader.chat_id, result.queued)
        services.sender.wake()
        return
    why = explain_nothing(result.nothing, context.settings.max_age, current_translator())
    since = format_local(result.since, reader.zone)
    nothing = (
        _("Nothing new since {since}: {why}.").format(since=since, why=why)
        if why
        else _("Nothing new since {since}.").format(since=since)
    )
    await answer(
        update,
        nothing
        + " "
        + _("Your next digest will have what arrives meanwhile; /topics widens what you get."),
    )


async def cmd_digest(update: Update, context: BotContext) -> None:
    """Send what is new for this reader now."""
    await send_digest_now(update, context)


async def on_more_button(update: Update, context: BotContext) -> None:
    """The "More (N)" button under a digest: the next stories."""
    query = update.callback_query
    if query is None:
        return
    if DigestMore.decode(query.data) is None:
        await answer_stale(query)
        return
    reader = await reading(update, context)  # refused (a pop-up) under a channel's post
    if reader is None:
        return
    await query.answer()
    await _queue_now(update, context, reader)
