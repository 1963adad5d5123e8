"""What a send's exception means for its outbox row, and how long a row is worth trying.

Only definite refusals end a row at once: 403 (blocked), "chat not found", any other 400
(Telegram gave a reason). 5xx answers, timeouts, dropped connections, answers that do not
parse and any unexpected error are retried, with capped backoff, for as long as the
message is worth sending (:func:`deadline`), then the row expires with the last error.

A timeout needs a word: the request was sent, so Telegram may have delivered it and only
its answer was lost. Sends therefore wait generously (``SEND_TIMEOUT``), so a slow answer
is waited for rather than doubled; a send that is still unanswered after that is resent
(Telegram has no idempotency key to ask with, and losing the message would be worse),
and its row records "unconfirmed" so a possible double can be traced.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from storage.outbox import QueuedMessage
from storage.outbox_results import SendResult

_LOGGER = logging.getLogger("bot.delivery.sender")

SEND_TIMEOUT = 60.0  # seconds to wait for Telegram's answer to a queued send
ANSWER_MAX_AGE = timedelta(minutes=30)  # a queued reply (/related) is stale after this
UNSCHEDULED_DIGEST_MAX_AGE = timedelta(days=1)  # a digest to a chat with no schedule
FOLLOW_MAX_AGE = timedelta(hours=6)  # news on a followed story; the next update says more
ROW_BACKOFF_CAP = 300.0  # seconds, for errors that are not an outage


def deadline(message: QueuedMessage, breaking_max_age: timedelta, now: datetime) -> datetime:
    """Until when the message is worth sending: a digest until its reader's next one is
    due, a queued answer half an hour, a follow update six hours, a breaking push
    ``breaking_max_age`` (after its quiet-hours hold, if it was held)."""
    if message.kind == "digest" and message.next_digest_at is not None:
        return message.next_digest_at
    created = message.created_at or now
    if message.kind == "digest":
        return created + UNSCHEDULED_DIGEST_MAX_AGE
    if message.kind == "answer":
        return created + ANSWER_MAX_AGE
    if message.kind == "follow":
        return created + FOLLOW_MAX_AGE
    # A push held for the reader's quiet hours is news from when they end: its age counts
    # from then, or a night's hold would outlast it.
    held = message.hold_until
    return max(created, held or created) + breaking_max_age


def result_of_error(
    exc: Exception,
    message: QueuedMessage,
    *,
    now: datetime,
    breaking_max_age: timedelta,
    send_timeout: float,
    backoff: Backoff,
    loop_time: float,
) -> SendResult:
    """What a failed send means for its row (see the module docstring)."""
    if isinstance(exc, ChatMigrated):
        _LOGGER.info("chat %s migrated to %s", message.chat_id, exc.new_chat_id)
        return SendResult(message.id, message.chat_id, "migrated", new_chat_id=exc.new_chat_id)
    if isinstance(exc, Forbidden):
        _LOGGER.info("reader %s unreachable (%s): deactivated", message.chat_id, exc.message)
        return SendResult(message.id, message.chat_id, "blocked", error=exc.message)
    if isinstance(exc, BadRequest):
        if "chat not found" in exc.message.lower():
            _LOGGER.info("reader %s: chat not found, deactivated", message.chat_id)
            return SendResult(message.id, message.chat_id, "blocked", error=exc.message)
        _LOGGER.warning("outbox %s to %s refused: %s", message.id, message.chat_id, exc.message)
        return SendResult(message.id, message.chat_id, "failed", error=exc.message)
    if isinstance(exc, RetryAfter):
        delay = exc.retry_after
        seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
        reason = f"flood control: {exc.message}"
        return retry_or_expire(message, reason, seconds, now, breaking_max_age)
    reason = describe(exc, send_timeout)
    if is_outage(exc) or isinstance(exc, TelegramError):
        wait = backoff.failed(loop_time)
        return retry_or_expire(message, reason, wait, now, breaking_max_age)
    # Not Telegram's doing: keep the traceback, retry the row on its own clock.
    _LOGGER.error("outbox %s to %s: unexpected error", message.id, message.chat_id,
                  exc_info=exc)  # fmt: skip
    return retry_or_expire(message, reason, row_backoff(message.attempts + 1), now,
                           breaking_max_age)  # fmt: skip


def retry_or_expire(
    message: QueuedMessage, reason: str, wait: float, now: datetime, breaking_max_age: timedelta
) -> SendResult:
    """Try again in ``wait`` seconds, unless by then the message is no longer worth it."""
    retry_at = now + timedelta(seconds=wait)
    until = deadline(message, breaking_max_age, now)
    if retry_at >= until:
        return expire(message, until, reason, attempted=True)
    _LOGGER.info("outbox %s to %s: retry in %.1f s (%s)", message.id, message.chat_id, wait,
                 reason)  # fmt: skip
    return SendResult(message.id, message.chat_id, "retry", error=reason, retry_at=retry_at)


def expire(message: QueuedMessage, until: datetime, reason: str, *, attempted: bool) -> SendResult:
    why = "the reader's next digest is due" if message.kind == "digest" else "too old"
    error = f"expired at {until:%Y-%m-%d %H:%M} UTC ({why}); last: {reason}"
    _LOGGER.warning("outbox %s to %s: %s", message.id, message.chat_id, error)
    return SendResult(message.id, message.chat_id, "expired", error=error, attempted=attempted)


def is_definite(exc: TelegramError) -> bool:
    """Telegram refused this message for good (retrying cannot help)."""
    return isinstance(exc, Forbidden | BadRequest)


def is_outage(exc: BaseException) -> bool:
    """No usable answer: the API (or the way to it) is down or overloaded."""
    return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)


def describe(exc: BaseException, send_timeout: float) -> str:
    """The reason a row keeps: what happened, in words an operator can act on."""
    if isinstance(exc, TimedOut):
        return (
            f"unconfirmed: no answer within {send_timeout:.0f} s; it may have been delivered, "
            "sent again"
        )
    if isinstance(exc, TelegramError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


class Backoff:
    """Capped exponential backoff across the whole sender during an outage: after n
    failures in a row nothing new is sent for ``min(cap, base × 2^(n-1))`` seconds; one
    success ends it."""

    def __init__(self, base: float = 0.5, cap: float = 30.0) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0
        self._until = 0.0

    def failed(self, now: float) -> float:
        self.failures += 1
        delay = min(self.cap, self.base * 2.0 ** (self.failures - 1))
        self._until = max(self._until, now + delay)
        return delay

    def succeeded(self) -> None:
        self.failures = 0
        self._until = 0.0

    def wait(self, now: float) -> float:
        return max(0.0, self._until - now)


def row_backoff(attempts: int) -> float:
    """For a row whose send failed in an unexpected way: 2, 4, 8 ... 300 s."""
    return min(ROW_BACKOFF_CAP, 2.0 ** max(1, attempts))
