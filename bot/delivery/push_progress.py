"""Edits each push's preview message with its progress as results are recorded."""

from __future__ import annotations

import logging
import time
from typing import Any

from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application

from bot.i18n import translator
from storage.outbox import OutboxStatus, StatusCounts, push_counts
from storage.outbox_results import RecordSummary
from storage.pushes import get_push

_LOGGER = logging.getLogger(__name__)
PROGRESS_EVERY = 2.0  # seconds between progress edits of one push


def progress_text(counts: StatusCounts, audience: int, language: str | None = None) -> str:
    sent, failed, dropped, pending = (
        counts[OutboxStatus.SENT],
        counts[OutboxStatus.FAILED] + counts.get(OutboxStatus.EXPIRED, 0),
        counts[OutboxStatus.DROPPED],
        counts[OutboxStatus.PENDING],
    )
    # The admin's preview message: written in the language they confirmed it in.
    texts = translator(language)
    if pending:
        return texts.gettext(
            "Sending: {sent} sent, {failed} failed, {pending} pending of {audience}."
        ).format(sent=sent, failed=failed + dropped, pending=pending, audience=audience)
    return texts.gettext("Done: {sent} sent, {failed} failed (of {audience}).").format(
        sent=sent, failed=failed + dropped, audience=audience
    )


class PushProgress:
    """The sender's ``on_recorded`` hook: throttled edits of each push's preview message."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self._application = application
        self._last_edit: dict[int, float] = {}
        self._last_text: dict[int, str] = {}

    async def __call__(self, summary: RecordSummary) -> None:
        services = self._application.bot_data["services"]
        for push_id in summary.pushes_touched:
            finished = push_id in summary.pushes_finished
            now = time.monotonic()
            # Results are recorded many times a second during a big push: count (a scan of
            # the push's rows) only when an edit is due.
            if not finished and now - self._last_edit.get(push_id, 0.0) < PROGRESS_EVERY:
                continue
            push = await services.db.run(get_push, push_id)
            if push is None or push.preview_message_id is None or push.preview_chat_id is None:
                continue
            counts = await services.db.run(push_counts, push_id)
            text = progress_text(counts, push.audience)
            if self._last_text.get(push_id) == text:
                continue
            self._last_edit[push_id] = now
            self._last_text[push_id] = text
            try:
                await self._application.bot.edit_message_text(
                    text,
                    chat_id=push.preview_chat_id,
                    message_id=push.preview_message_id,
                    parse_mode=ParseMode.HTML,
                )
            except TelegramError as exc:
                _LOGGER.info("push %s: progress edit skipped (%s)", push_id, exc.message)
