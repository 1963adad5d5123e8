"""/digest and the "More" button: the reader's digest, now, through the outbox."""

from __future__ import annotations

import logging

from telegram import Update

from bot.chat.readers import format_local
from bot.chat.replies import answer, answer_stale
from bot.chat.target import reading
from bot.context import BotContext
from bot.delivery.pool_cache import queue_on_demand
from digest.callbacks import DigestMore
from storage.db import utcnow

_LOGGER = logging.getLogger(__name__)


async def send_digest_now(update: Update, context: BotContext) -> None:
    reader = await reading(update, context)
    if reader is None:
        return
    now = utcnow()
    services = context.services
    result = await queue_on_demand(services.db, services.pools, reader, now)
    if result.queued:
        _LOGGER.info("reader %s: on-demand digest queued (%d parts)", reader.chat_id, result.queued)
        services.sender.wake()
        return
    await answer(
        update,
        f"Nothing new since {format_local(result.since, reader.zone)}. "
        "Your next digest will have what arrives meanwhile; /topics widens what you get.",
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
    await query.answer()
    await send_digest_now(update, context)
