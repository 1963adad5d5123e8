"""Errors of the long poll, one clear line each instead of a traceback every few seconds.

A ``getUpdates`` Conflict means another process polls the same token (a second
deployment, a developer's laptop): only one of them gets each update. It is said
once; if it goes on for :data:`CONFLICT_EXIT_AFTER` seconds the bot exits with
:data:`EXIT_CONFLICT` so a supervisor or an operator notices.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from telegram.error import Conflict, InvalidToken, TelegramError

_LOGGER = logging.getLogger(__name__)
EXIT_CONFLICT = 3
CONFLICT_EXIT_AFTER = 30.0
# Conflicts this far apart are separate episodes (PTB backs off up to 30 s between polls).
CONFLICT_QUIET = 75.0
NETWORK_REPEAT = 60.0  # the same polling error is said again at most once a minute

ExitRequest = Callable[[int, str], None]


class ConflictAtStop(logging.Filter):
    """PTB confirms the last updates with one more getUpdates at stop; during a Conflict that
    fails with a traceback at ERROR. Said once, as one line, since the cause is known."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, Conflict):
            record.msg, record.args = (
                "at stop the last updates could not be confirmed (getUpdates Conflict); "
                "they may be delivered again", None,
            )  # fmt: skip
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class RevokedAtPoll(logging.Filter):
    """A 401 on getUpdates makes PTB abort its polling loop with a traceback at ERROR. The
    runner handles it (the token was revoked: exit 2); one line says so instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, InvalidToken):
            record.msg, record.args = "getUpdates: the Bot API refused the token (401)", None
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class PollErrors:
    """The ``error_callback`` of ``Updater.start_polling``: logs, and asks to exit on a conflict."""

    def __init__(
        self,
        request_exit: ExitRequest,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_conflict: Callable[[float | None], None] | None = None,
    ) -> None:
        self._request_exit = request_exit
        self._clock = clock
        self._on_conflict = on_conflict
        self._first_conflict: float | None = None
        self._last_conflict = 0.0
        self._said: dict[str, float] = {}

    def __call__(self, error: TelegramError) -> None:
        now = self._clock()
        if isinstance(error, Conflict):
            self._conflict(now, error)
            return
        if self._first_conflict is not None and now - self._last_conflict > CONFLICT_QUIET:
            self._end_conflict()
        message = error.message
        if now - self._said.get(message, -NETWORK_REPEAT) >= NETWORK_REPEAT:
            self._said[message] = now
            _LOGGER.warning("polling for updates failed: %s (retrying)", message)

    def polled(self) -> None:
        """A poll succeeded; a conflict ends only after a quiet spell (see CONFLICT_QUIET)."""
        if (
            self._first_conflict is not None
            and self._clock() - self._last_conflict > CONFLICT_QUIET
        ):
            self._end_conflict()

    def _conflict(self, now: float, error: TelegramError) -> None:
        if self._first_conflict is None or now - self._last_conflict > CONFLICT_QUIET:
            self._first_conflict = now
            _LOGGER.warning(
                "getUpdates Conflict: another process is polling this bot's token (%s). "
                "Stop the other instance or give this one its own token; exiting with %d "
                "if it goes on for %.0f s",
                error.message, EXIT_CONFLICT, CONFLICT_EXIT_AFTER,
            )  # fmt: skip
            if self._on_conflict is not None:
                self._on_conflict(time.time())
        self._last_conflict = now
        if now - self._first_conflict >= CONFLICT_EXIT_AFTER:
            self._request_exit(
                EXIT_CONFLICT,
                f"getUpdates Conflict for {now - self._first_conflict:.0f} s: another process "
                "polls TELEGRAM_BOT_TOKEN; stop it (or use another token), then start again",
            )

    def _end_conflict(self) -> None:
        self._first_conflict = None
        _LOGGER.info("getUpdates Conflict is over")
        if self._on_conflict is not None:
            self._on_conflict(None)
