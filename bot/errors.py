"""Errors in handlers and jobs: logged with context, reported to admins (short, rate-limited)."""

from __future__ import annotations

import contextlib
import html
import logging
import time

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.context import BotContext
from bot.i18n import _

_LOGGER = logging.getLogger(__name__)
REPORT_EVERY = 60.0  # seconds: at most one report per admin per minute
MAX_REPORT = 600


async def on_error(update: object, context: BotContext) -> None:
    """Log first; then tell the admins, never the reader."""
    where = "job"
    if isinstance(update, Update):
        chat = update.effective_chat
        where = f"update {update.update_id} (chat {chat.id if chat else '-'})"
    _LOGGER.error("error in %s", where, exc_info=context.error)
    if isinstance(update, Update) and update.callback_query is not None:
        # Every button press gets an answer, even a failed one (no details for readers).
        with contextlib.suppress(TelegramError):  # already answered, or too old
            await update.callback_query.answer(_("Sorry, that did not work. Please try again."))
    try:
        services = context.services
    except RuntimeError:
        return
    error = context.error
    summary = f"{type(error).__name__}: {error}" if error else "unknown error"
    text = (
        f"⚠️ <b>newsdigest error</b> in {html.escape(where)}\n"
        f"<code>{html.escape(summary[:MAX_REPORT])}</code>"
    )
    now = time.monotonic()
    for admin in services.settings.admins:
        if now - services.error_reports.get(admin, -REPORT_EVERY) < REPORT_EVERY:
            continue
        services.error_reports[admin] = now
        try:
            await context.bot.send_message(admin, text, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            _LOGGER.warning("could not report the error to admin %s: %s", admin, exc.message)
