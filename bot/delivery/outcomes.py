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

from datetime import datetime, timedelta

from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError, TimedOut

from storage.outbox import QueuedMessage

SEND_TIMEOUT = 60.0  # seconds to wait for Telegram's answer to a queued send
ANSWER_MAX_AGE = timedelta(minutes=30)  # a queued reply (/related) is stale after this
UNSCHEDULED_DIGEST_MAX_AGE = timedelta(days=1)  # a digest to a chat with no schedule
ROW_BACKOFF_CAP = 300.0  # seconds, for errors that are not an outage


def deadline(message: QueuedMessage, breaking_max_age: timedelta, now: datetime) -> datetime:
    """Until when the message is worth sending: a digest until its reader's next one is
    due, a queued answer half an hour, a breaking push ``breaking_max_age``."""
    if message.kind == "digest" and message.next_digest_at is not None:
        return message.next_digest_at
    created = message.created_at or now
    if message.kind == "digest":
        return created + UNSCHEDULED_DIGEST_MAX_AGE
    if message.kind == "answer":
        return created + ANSWER_MAX_AGE
    return created + breaking_max_age


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
