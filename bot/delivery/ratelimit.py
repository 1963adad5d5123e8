"""One rate budget for every message the bot sends, with priorities and per-chat pacing.

Every message-sending call (answers, breaking pushes, digests, progress edits) goes
through :class:`PriorityRateLimiter`, PTB's rate-limiter hook: at ``rate`` R there are
never more than R such requests in any second (:class:`bot.delivery.budget.Budget`),
and a reader's answer (``rate_limit_args`` 0, the default) overtakes queued work
(1 breaking, 2 digests). Each chat is paced as well: a private chat about one message a
second with a burst of at most 3, a group or channel 20 a minute. Paid broadcasts
(``allow_paid_broadcast``) have a budget of their own.

A 429 caused by one chat's pace holds that chat alone; any other 429 pauses every send
for exactly the ``retry_after`` Telegram asks. Telegram does not say which limit refused,
so it is inferred: the chat had another send shortly before (within twice its own window:
it was at its pace) -> that chat; an isolated send refused -> the bot as a whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter

from bot.delivery.budget import Budget, PriorityBudget, RoundTrip, SendAborted

_LOGGER = logging.getLogger(__name__)

# Methods that put a message in a chat: the ones Telegram's flood limits count.
MESSAGE_ENDPOINTS = frozenset(
    {
        "sendMessage", "editMessageText", "editMessageReplyMarkup", "editMessageCaption",
        "sendPhoto", "sendDocument", "sendMediaGroup", "copyMessage", "forwardMessage",
    }
)  # fmt: skip
PRIORITY_ANSWER = 0
# Catching up a late timer without a burst: grants may come this much early.
GLOBAL_TOLERANCE = 0.025
PRIVATE = {"rate": 1.0, "burst": 3.0, "limit": 3, "window": 1.0}
GROUP = {"rate": 20 / 60, "burst": 3.0, "limit": 20, "window": 60.0}
INITIAL_ROUND_TRIP = 0.25  # seconds, until answers have been timed


def _is_group(chat_id: int | str) -> bool:
    return isinstance(chat_id, str) or chat_id < 0  # "@channel" or a negative id


def global_budget(rate: float) -> Budget:
    """At most ``rate`` sends in any second, spaced ``1/rate`` apart."""
    limit = int(rate) if rate >= 1 else None
    return Budget(rate, burst=1.0 + GLOBAL_TOLERANCE * rate, limit=limit, window=1.0)


class ChatPacer:
    """Per-chat budgets (created on first use, forgotten once idle) and per-chat holds."""

    def __init__(
        self,
        private: dict[str, float] | None = None,
        group: dict[str, float] | None = None,
    ) -> None:
        self._shapes = (private or PRIVATE, group or GROUP)
        self._budgets: dict[int | str, Budget] = {}

    def _budget(self, chat_id: int | str) -> Budget:
        budget = self._budgets.get(chat_id)
        if budget is None:
            shape = self._shapes[1] if _is_group(chat_id) else self._shapes[0]
            budget = Budget(
                shape["rate"], burst=shape["burst"], limit=int(shape["limit"]),
                window=shape["window"],
            )  # fmt: skip
            self._budgets[chat_id] = budget
        return budget

    def wait(self, chat_id: int | str, now: float) -> float:
        budget = self._budgets.get(chat_id)
        return 0.0 if budget is None else budget.wait(now)

    def try_take(self, chat_id: int | str, now: float) -> bool:
        """Count a send to the chat if it conforms at ``now``; False if it does not."""
        budget = self._budget(chat_id)
        if budget.wait(now) > 0.0:
            return False
        budget.take(now)
        if len(self._budgets) > 50_000:
            self._budgets = {c: b for c, b in self._budgets.items() if not b.idle(now)}
        return True

    def hold(self, chat_id: int | str, now: float, seconds: float) -> None:
        self._budget(chat_id).hold(now, seconds)

    def at_pace(self, chat_id: int | str, now: float) -> bool:
        """The chat had another send shortly before this one (within twice its window):
        its own limit, not the bot's, is the likely cause of a 429."""
        budget = self._budgets.get(chat_id)
        return budget is not None and now - budget.previous <= 2 * budget.window


class PriorityRateLimiter(BaseRateLimiter[int]):
    """PTB rate limiter: one bot-wide budget (plus one for paid broadcasts), per-chat
    pacing, 429 handling, and the measured round trip the sender sizes its window by."""

    def __init__(
        self,
        rate: float,
        *,
        paid_rate: float | None = None,
        pacer: ChatPacer | None = None,
        max_retries: int = 2,
    ) -> None:
        self.rate = rate
        self.paid_rate = paid_rate
        self.budget = PriorityBudget(global_budget(rate))
        self.paid = PriorityBudget(global_budget(paid_rate)) if paid_rate else None
        self.pacer = pacer or ChatPacer()
        self.round_trip = RoundTrip(INITIAL_ROUND_TRIP)
        self._max_retries = max_retries
        self._closing: asyncio.Event | None = None
        self._grace: float | None = None
        self._sending: set[asyncio.Task[Any]] = set()  # tasks whose request is on its way
        self._chat_turns: dict[int | str, asyncio.Future[None]] = {}  # the last in line

    def is_sending(self, task: asyncio.Task[Any]) -> bool:
        """The task's request has left (cancelling it now could lose track of a send)."""
        return task in self._sending

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def close(self, grace: float) -> None:
        """Stopping: sends that would wait longer than ``grace`` fail with SendAborted."""
        self._grace = grace
        for budget in (self.budget, self.paid):
            if budget is not None:
                budget.close(grace)
        if self._closing is not None:
            self._closing.set()

    async def wait_for_chat(self, chat_id: int | str) -> None:
        """Until the chat's pace allows one more send (without counting it)."""
        loop = asyncio.get_running_loop()
        while (wait := self.pacer.wait(chat_id, loop.time())) > 0.0:
            if self._grace is not None and wait > self._grace:
                raise SendAborted(f"stopping: not sent (chat {chat_id} waits {wait:.0f} s)")
            if self._closing is None:
                self._closing = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), wait)

    async def _grant(
        self, budget: PriorityBudget, chat_id: int | str | None, priority: int
    ) -> None:
        if chat_id is None:
            await budget.acquire(priority)
            return
        # One chat's sends go in the order they came (an edit queued before a progress
        # edit of the same message must not be overtaken by it).
        loop = asyncio.get_running_loop()
        ahead = self._chat_turns.get(chat_id)
        mine: asyncio.Future[None] = loop.create_future()
        self._chat_turns[chat_id] = mine
        try:
            if ahead is not None and not ahead.done():
                await asyncio.wait({ahead})
            while True:
                await self.wait_for_chat(chat_id)
                granted = await budget.acquire(priority)
                # The chat is counted when the send really goes: another send to it may
                # have gone while this one waited for the bot-wide budget.
                if self.pacer.try_take(chat_id, loop.time()):
                    return
                budget.refund(granted)
        finally:
            mine.set_result(None)
            if self._chat_turns.get(chat_id) is mine:
                del self._chat_turns[chat_id]

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint not in MESSAGE_ENDPOINTS:
            return await callback(*args, **kwargs)
        priority = PRIORITY_ANSWER if rate_limit_args is None else rate_limit_args
        raw_chat = data.get("chat_id")
        chat_id = raw_chat if isinstance(raw_chat, int | str) else None
        paid = self.paid is not None and data.get("allow_paid_broadcast") is True
        budget = self.paid if paid and self.paid is not None else self.budget
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        attempt = 0
        while True:
            await self._grant(budget, chat_id, priority)
            started = loop.time()
            if task is not None:
                self._sending.add(task)
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.round_trip.add(loop.time() - started)
                self._obey(exc, endpoint, chat_id, budget)
                attempt += 1
                # Queued sends go back to the outbox with the wait recorded; an answer is
                # retried here (a few times) since nothing else would send it.
                if priority > PRIORITY_ANSWER or attempt > self._max_retries:
                    raise
                continue
            except TelegramError as exc:
                # No answer, or a 5xx, is not a round trip worth timing (BadRequest, though
                # a NetworkError in PTB's tree, is an answer).
                if isinstance(exc, BadRequest) or not isinstance(exc, NetworkError):
                    self.round_trip.add(loop.time() - started)
                raise
            finally:
                if task is not None:
                    self._sending.discard(task)
            self.round_trip.add(loop.time() - started)
            return result

    def _obey(
        self, exc: RetryAfter, endpoint: str, chat_id: int | str | None, budget: PriorityBudget
    ) -> None:
        delay = exc.retry_after
        seconds = delay.total_seconds() if hasattr(delay, "total_seconds") else float(delay)
        now = asyncio.get_running_loop().time()
        if chat_id is not None and self.pacer.at_pace(chat_id, now):
            _LOGGER.info("429 for chat %s on %s: holding that chat %.0f s", chat_id, endpoint,
                         seconds)  # fmt: skip
            self.pacer.hold(chat_id, now, seconds)
            return
        _LOGGER.warning("429 from Telegram on %s: pausing all sends %.0f s", endpoint, seconds)
        budget.pause(seconds)
