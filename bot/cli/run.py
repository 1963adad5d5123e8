"""``newsdigest run``: the bot until SIGINT/SIGTERM, or until something asks it to exit."""

from __future__ import annotations

import asyncio

from telegram.error import InvalidToken, NetworkError

from bot.app import ALLOWED_UPDATES, build_application
from bot.context import exit_request
from bot.settings import Settings


class StartupError(Exception):
    """The bot cannot start, or stopped itself: the message says why (never with the token).

    ``code`` is the exit status of ``newsdigest run`` (2 unless the cause names another).
    """

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def run_bot(settings: Settings) -> int:
    """Long polling until a signal (exit 0) or an exit request (its code and reason)."""
    application = build_application(settings)
    try:
        application.run_polling(allowed_updates=ALLOWED_UPDATES, close_loop=False)
    except (InvalidToken, NetworkError) as exc:
        # A failed start leaves the HTTP sessions open: close them on the loop that made them.
        loop = asyncio.get_event_loop()
        for request in application.bot_data["requests"]:
            loop.run_until_complete(request.shutdown())
        if isinstance(exc, InvalidToken):
            raise StartupError(
                f"TELEGRAM_BOT_TOKEN was rejected by the Bot API at {settings.api_url}"
            ) from None
        raise StartupError(
            f"cannot reach the Bot API at {settings.api_url}: {exc.message}"
        ) from None
    finally:
        loop = asyncio.get_event_loop()
        if not loop.is_closed():
            loop.close()
    request = exit_request(application)
    if request is not None:
        raise StartupError(request.reason, request.code)
    return 0
