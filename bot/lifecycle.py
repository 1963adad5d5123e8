"""Stopping in an order that loses nothing and hangs on nothing, and a revoked token.

PTB stops an application with ``Updater.stop`` → ``Application.stop`` (waits for handlers
and running jobs) → ``Application.shutdown`` (closes the HTTP sessions) → ``post_shutdown``.
Left alone, a handler waiting out a 120 s ``retry_after`` or a hung server holds up
``stop``, a digest tick runs to its end, and the outbox sender, stopped in
``post_shutdown``, finds its HTTP session already closed. So :class:`NewsdigestApplication`
starts the delivery side's stop first: sends that would wait longer than ``STOP_GRACE``
give up unsent, requests in flight get ``STOP_GRACE`` seconds to be answered, the tick
stops between batches (it watches ``application.running``), and the sender records what
was in flight, all before the sessions close.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram.error import TelegramError
from telegram.ext import Application

from bot.context import Services, request_exit
from bot.delivery.ratelimit import PriorityRateLimiter
from bot.delivery.sender import STOP_GRACE
from bot.delivery.transport import AiohttpRequest
from storage.outbox import OutboxStatus, outbox_counts

_LOGGER = logging.getLogger(__name__)
EXIT_TOKEN_REVOKED = 2


class NewsdigestApplication(Application[Any, Any, Any, Any, Any, Any]):
    """PTB's Application, stopping delivery first (see the module docstring)."""

    async def stop(self) -> None:
        services = self.bot_data.get("services")
        sender_stop: asyncio.Task[None] | None = None
        if isinstance(services, Services):
            begin_stop(self, services)
            sender_stop = asyncio.create_task(services.sender.stop(), name="sender-stop")
        try:
            await super().stop()
        finally:
            if sender_stop is not None:
                await sender_stop


def begin_stop(application: Application[Any, Any, Any, Any, Any, Any], services: Services) -> None:
    limiter = application.bot_data.get("limiter")
    if isinstance(limiter, PriorityRateLimiter):
        limiter.close(STOP_GRACE)
    for request in application.bot_data.get("requests", ()):
        if isinstance(request, AiohttpRequest):
            request.abort_after(STOP_GRACE)
    services.sender.begin_stop()


async def on_token_revoked(
    application: Application[Any, Any, Any, Any, Any, Any], detail: str
) -> None:
    """A 401 (a send, or getUpdates): tell the admins (best effort), stop with exit code 2.

    Said once: the sender and the poller may both meet the revoked token.
    """
    if application.bot_data.setdefault("token_revoked", detail) is not detail:
        return
    services = application.bot_data.get("services")
    settings = application.bot_data["settings"]
    pending = "the queued messages stay"
    if isinstance(services, Services):
        try:
            count = (await services.db.run(outbox_counts))[OutboxStatus.PENDING]
            pending = f"{count} queued messages stay"
        except Exception:  # the count is a courtesy; the exit must happen
            _LOGGER.exception("could not count the outbox")
    reason = (
        f"TELEGRAM_BOT_TOKEN was revoked: {detail} at {settings.api_url}. Nothing was lost: "
        f"{pending} in the outbox. Put a new token from @BotFather in TELEGRAM_BOT_TOKEN and "
        "start newsdigest again."
    )
    for admin in settings.admins:
        try:  # with a revoked token this fails too; another token or a proxy may not
            await application.bot.send_message(admin, f"⚠️ newsdigest is stopping: {reason}")
        except TelegramError as exc:
            _LOGGER.warning("could not tell admin %s: %s", admin, exc.message)
    _LOGGER.error("%s", reason)
    request_exit(application, EXIT_TOKEN_REVOKED, reason)
