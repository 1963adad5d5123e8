"""One rate budget for every message the bot sends, with priorities.

PTB's ``AIORateLimiter`` (the ``rate-limiter`` extra) throttles all calls alike;
here a reader's answer must overtake a 100,000-message push, so the global bucket
serves waiters by priority (``rate_limit_args``: 0 answers — the default — then
breaking, then digests). Queued sends are also paced per chat (about 1/s, short bursts
allowed),
and a 429 pauses *every* send for the ``retry_after`` Telegram asks before retrying.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

_LOGGER = logging.getLogger(__name__)

# Methods that put a message in a chat: the ones Telegram's flood limits count.
MESSAGE_ENDPOINTS = frozenset(
    {
        "sendMessage", "editMessageText", "editMessageReplyMarkup", "editMessageCaption",
        "sendPhoto", "sendDocument", "sendMediaGroup", "copyMessage", "forwardMessage",
    }
)  # fmt: skip
PRIORITY_ANSWER = 0


class PriorityBucket:
    """A token bucket whose waiters are served most-urgent first (lowest number), then FIFO."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self._tokens = self.burst
        self._updated: float | None = None
        self._paused_until = 0.0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._sequence = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    def _refill(self, now: float) -> None:
        if self._updated is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    async def acquire(self, priority: int = 0) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        if not self._waiters and now >= self._paused_until:
            self._refill(now)
            if self._tokens >= 1:
                self._tokens -= 1
                return
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiters, (priority, next(self._sequence), future))
        self._schedule(loop)
        try:
            await future  # a cancelled waiter is skipped when its turn comes
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                # Granted, then cancelled before it could use the token: give it back.
                self._tokens = min(self.burst, self._tokens + 1)
                if self._waiters:
                    self._schedule(loop)
            raise

    def pause(self, seconds: float) -> None:
        """Telegram said "retry after": nobody sends until then."""
        loop = asyncio.get_running_loop()
        self._paused_until = max(self._paused_until, loop.time() + seconds)
        self._tokens = 0.0
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._waiters:
            self._schedule(loop)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            return
        now = loop.time()
        if now < self._paused_until:
            delay = self._paused_until - now
        else:
            self._refill(now)
            delay = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate
        self._timer = loop.call_later(delay, self._release, loop)

    def _release(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        now = loop.time()
        if now >= self._paused_until:
            self._refill(now)
            while self._waiters and self._tokens >= 1:
                _, _, future = heapq.heappop(self._waiters)
                if future.done():
                    continue
                self._tokens -= 1
                future.set_result(None)
        while self._waiters and self._waiters[0][2].done():
            heapq.heappop(self._waiters)
        if self._waiters:
            self._schedule(loop)


class ChatPacer:
    """Per-chat token buckets by reservation: concurrent callers queue up correctly."""

    def __init__(self, private_rate: float = 1.0, group_rate: float = 20 / 60, burst: float = 3):
        self._private_rate = private_rate
        self._group_rate = group_rate
        self._burst = burst
        self._state: dict[int | str, tuple[float, float]] = {}  # chat -> (tokens, updated)

    async def acquire(self, chat_id: int | str) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        is_group = isinstance(chat_id, str) or chat_id < 0
        rate = self._group_rate if is_group else self._private_rate
        tokens, updated = self._state.get(chat_id, (self._burst, now))
        tokens = min(self._burst, tokens + (now - updated) * rate) - 1
        self._state[chat_id] = (tokens, now)
        if len(self._state) > 50_000:
            self._prune(now)
        if tokens < 0:
            await asyncio.sleep(-tokens / rate)

    def _prune(self, now: float) -> None:
        full_after = self._burst / min(self._private_rate, self._group_rate)
        self._state = {c: s for c, s in self._state.items() if now - s[1] < full_after}


class PriorityRateLimiter(BaseRateLimiter[int]):
    """PTB rate limiter: global priority bucket + per-chat pacing + 429 handling."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        per_chat_rate: float = 1.0,
        per_chat_burst: float = 3,
        max_retries: int = 2,
    ) -> None:
        # A burst a little under one second's budget: the steady rate is the same, and the
        # spare tokens on Telegram's side absorb network jitter (bench/delivery.py: a full
        # second's burst drew about one 429 a second at an equal server limit).
        self.bucket = PriorityBucket(rate, burst if burst is not None else max(1.0, rate * 0.9))
        self.pacer = ChatPacer(per_chat_rate, burst=per_chat_burst)
        self._max_retries = max_retries

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        limited = endpoint in MESSAGE_ENDPOINTS
        priority = PRIORITY_ANSWER if rate_limit_args is None else rate_limit_args
        chat_id = data.get("chat_id")
        attempt = 0
        while True:
            if limited:
                # Answers to a reader's own command are not paced per chat: one reply per
                # command is a conversation, not a flood. Queued sends are.
                if priority > PRIORITY_ANSWER and isinstance(chat_id, int | str):
                    await self.pacer.acquire(chat_id)
                await self.bucket.acquire(priority)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                delay = exc.retry_after
                seconds = delay.total_seconds() if hasattr(delay, "total_seconds") else float(delay)
                _LOGGER.warning("429 from Telegram on %s: pausing sends %.1f s", endpoint, seconds)
                self.bucket.pause(seconds)
                attempt += 1
                if attempt > self._max_retries:
                    raise
