"""/stats: readers, articles, rejected files, outbox and schedule at a glance (admins)."""

from __future__ import annotations

from telegram import Update

from bot.chat.replies import NOT_ALLOWED, answer, is_admin
from bot.context import BotContext
from bot.i18n import _
from bot.stats_view import stats_lines
from digest.html import escape
from storage.stats import gather_stats


async def cmd_stats(update: Update, context: BotContext) -> None:
    """Readers, articles, rejected files, outbox and schedule at a glance."""
    if not is_admin(update, context):
        await answer(update, _(NOT_ALLOWED))
        return
    stats = await context.services.db.run(gather_stats)
    lines = stats_lines(stats, context.settings.timezone, escape=escape, short=True)
    await answer(update, "\n".join(["<b>newsdigest stats</b>", *lines]))
