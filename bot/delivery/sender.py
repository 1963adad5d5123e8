"""The outbox sender: drains the outbox within Telegram's limits, losing nothing.

Several chats are served at once, one chat's messages in order, one at a time. Each send
takes a unit of the in-flight window (:mod:`bot.delivery.window`) and gives it back once
its result is written, so sent-but-unrecorded messages never exceed ``ceil(1.1 × rate ×
round trip) + 1``: that bounds what a kill -9 can double, and when results cannot be
written (disk full, read-only file, locked database) dispatch stops by itself once the
window is used up, and resumes when writes succeed.

Every outcome is recorded with the row (:mod:`bot.delivery.outcomes`): sent with its
``message_id``; refused for good; retried with capped backoff while worth sending; expired
after that. An outage backs the whole sender off, not each row. A 401 (token revoked)
stops sending, leaves the rows pending and reports through ``on_fatal``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from telegram.constants import ParseMode
from telegram.error import InvalidToken
from telegram.ext import ExtBot

from bot.db_thread import DbThread
from bot.delivery.budget import RoundTrip, SendAborted
from bot.delivery.outcomes import SEND_TIMEOUT, Backoff, deadline, expire, result_of_error
from bot.delivery.ratelimit import INITIAL_ROUND_TRIP, PriorityRateLimiter
from bot.delivery.recorder import Recorder
from bot.delivery.send_options import send_options
from bot.delivery.window import InFlightWindow
from bot.markup import inline_markup
from storage.db import utcnow
from storage.outbox import MessageKind, QueuedMessage, pending_batch
from storage.outbox_results import RecordSummary, SendResult

_LOGGER = logging.getLogger(__name__)
MAX_CHAT_TASKS = 512  # chats being served at once (most wait for the window or their pace)
STOP_GRACE = 3.0  # seconds a stop leaves sends in flight to be answered
DEFAULT_RATE = 25.0  # without the project's limiter (handler tests)
BREAKING_MAX_AGE = timedelta(hours=6)

RecordedHook = Callable[[RecordSummary], Awaitable[None]]
FatalHook = Callable[[str], Coroutine[Any, Any, None]]


class OutboxSender:
    def __init__(
        self,
        bot: ExtBot[int],
        store: DbThread,
        *,
        batch_size: int = 500,
        idle_poll: float = 1.0,
        on_recorded: RecordedHook | None = None,
        on_fatal: FatalHook | None = None,
        breaking_max_age: timedelta = BREAKING_MAX_AGE,
        paid_broadcast: bool = False,
        send_timeout: float = SEND_TIMEOUT,
        backoff: Backoff | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._bot = bot
        self._store = store
        limiter = bot.rate_limiter
        self._limiter = limiter if isinstance(limiter, PriorityRateLimiter) else None
        self._batch_size = batch_size
        self._idle_poll = idle_poll
        self._on_fatal = on_fatal
        self._breaking_max_age = breaking_max_age
        self._paid = paid_broadcast and self._limiter is not None and bool(self._limiter.paid)
        self._send_timeout = send_timeout
        self._backoff = backoff or Backoff()
        self._clock = clock
        round_trip = self._limiter.round_trip if self._limiter else RoundTrip(INITIAL_ROUND_TRIP)
        record_time = RoundTrip(0.01)
        rate = self._limiter.rate if self._limiter else DEFAULT_RATE
        self.window = InFlightWindow(rate, round_trip, record_time)
        paid_rate = self._limiter.paid_rate if self._limiter and self._limiter.paid_rate else rate
        self.paid_window = InFlightWindow(paid_rate, round_trip, record_time)
        self._recorder = Recorder(store, record_time, on_recorded, clock=clock)
        self._wake = asyncio.Event()
        self._chat_done = asyncio.Event()
        self._stop_event = asyncio.Event()
        self._chat_slots = asyncio.Semaphore(MAX_CHAT_TASKS)
        self._busy_chats: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._chat_tasks: set[asyncio.Task[None]] = set()
        self._waiting: set[asyncio.Task[None]] = set()  # chat tasks not inside a send
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False
        self.halted: str | None = None  # why sending stopped for good (a revoked token)
        self.sent_count = 0

    def wake(self) -> None:
        """Something was queued: look at the outbox now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._recorder.start()
        self._runner = asyncio.create_task(self._run(), name="outbox-sender")

    def begin_stop(self) -> None:
        """Take no new work; tasks still waiting for their turn give it up (not sent)."""
        if self._stopping:
            return
        self._stopping = True
        self._stop_event.set()
        self._wake.set()
        for task in self._tasks:
            # Cancel what has not left: waiting for its turn, its chat's pace or the budget.
            # A request on its way is left to be answered (or timed out by the transport).
            waiting = task in self._waiting or (
                self._limiter is not None and task in self._chat_tasks
                and not self._limiter.is_sending(task)
            )  # fmt: skip
            if waiting:
                task.cancel()

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop, let sends in flight be answered (bounded), and record every result."""
        self.begin_stop()
        if self._runner is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=grace + 0.5)
            for task in pending:
                task.cancel()  # still unanswered: it stays pending, resent after a restart
            if pending:
                await asyncio.wait(pending)
        await self._recorder.stop()

    @property
    def in_flight_limit(self) -> int:
        return self.window.capacity + (self.paid_window.capacity if self._paid else 0)

    async def _run(self) -> None:
        while not self._stopping and self.halted is None:
            try:
                batch = await self._store.run(
                    pending_batch,
                    self._clock(),
                    limit=self._batch_size,
                    skip_ids=set(self._recorder.unrecorded),
                )
            except Exception:
                _LOGGER.exception("outbox sender: could not read the outbox")
                batch = []
            if batch and await self._spawn(batch):
                continue
            event = self._chat_done if batch else self._wake
            event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), self._idle_poll)

    async def _spawn(self, batch: list[QueuedMessage]) -> int:
        """Start a task per chat in ``batch`` not already being served; how many started."""
        self._wake.clear()
        by_chat: dict[int, list[QueuedMessage]] = {}
        for message in batch:
            if message.chat_id not in self._busy_chats:
                by_chat.setdefault(message.chat_id, []).append(message)
        started = 0
        for chat_id, messages in by_chat.items():
            await self._chat_slots.acquire()
            if self._stopping or self.halted is not None:
                self._chat_slots.release()
                break
            self._busy_chats.add(chat_id)
            self._recorder.unrecorded.update(m.id for m in messages)
            task = asyncio.create_task(self._send_chat(chat_id, messages))
            self._tasks.add(task)
            self._chat_tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            task.add_done_callback(self._chat_tasks.discard)
            started += 1
            if self._wake.is_set():
                break  # new work (perhaps more urgent) was queued: read the outbox again
        return started

    async def _send_chat(self, chat_id: int, messages: list[QueuedMessage]) -> None:
        task = asyncio.current_task()
        assert task is not None
        left = list(messages)
        try:
            while left and not self._stopping and self.halted is None:
                message = left[0]
                now = self._clock()
                if now >= (until := deadline(message, self._breaking_max_age, now)):
                    expired = expire(message, until, "not sent in time", attempted=False)
                    self._recorder.add(expired, None, left[1:])
                    left = []
                    return
                window = self._window_for(message)
                self._waiting.add(task)
                try:
                    await self._turn(chat_id, message, window)
                finally:
                    self._waiting.discard(task)
                try:
                    result = await self._send_one(message)
                except BaseException:
                    window.release()  # cancelled mid-send at stop: outcome unknown, pending
                    raise
                if result is None:  # not sent (stopping, or the token is revoked)
                    window.release()
                    return
                left.pop(0)
                if result.outcome != "sent":
                    # Keep a chat's parts in order: later parts wait until this result is
                    # recorded (a retry's not_before then holds the whole chat back).
                    self._recorder.add(result, window, left)
                    left = []
                    return
                self._recorder.add(result, window, [])
        finally:
            self._recorder.forget(m.id for m in left)
            self._busy_chats.discard(chat_id)
            self._chat_slots.release()
            self._chat_done.set()

    async def _turn(self, chat_id: int, message: QueuedMessage, window: InFlightWindow) -> None:
        """Wait out an outage's backoff and the chat's pace, then take a window unit."""
        loop = asyncio.get_running_loop()
        while (wait := self._backoff.wait(loop.time())) > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_event.wait(), wait)
            if self._stopping:
                raise asyncio.CancelledError
        if self._limiter is not None:
            # Holding no unit while the chat's pace (or a 429 hold) keeps it waiting.
            await self._limiter.wait_for_chat(chat_id)
        await window.acquire(message.priority)

    def _window_for(self, message: QueuedMessage) -> InFlightWindow:
        return (
            self.paid_window if self._paid and message.kind == MessageKind.BREAKING else self.window
        )

    async def _send_one(self, message: QueuedMessage) -> SendResult | None:
        """Send and say what happened; never raises (None: not sent, leave the row)."""
        try:
            sent = await self._bot.send_message(
                chat_id=message.chat_id,
                message_thread_id=message.thread_id,
                text=message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=inline_markup(message.keyboard),
                allow_paid_broadcast=True if self._window_for(message) is self.paid_window
                and self._paid else None,
                read_timeout=self._send_timeout,
                rate_limit_args=message.priority,
                **send_options(message),  # link preview, quiet hours
            )  # fmt: skip
        except SendAborted:
            return None
        except InvalidToken as exc:
            self._halt(exc.message)
            return None
        except Exception as exc:
            return result_of_error(
                exc,
                message,
                now=self._clock(),
                breaking_max_age=self._breaking_max_age,
                send_timeout=self._send_timeout,
                backoff=self._backoff,
                loop_time=asyncio.get_running_loop().time(),
            )
        self._backoff.succeeded()
        self.sent_count += 1
        return SendResult(message.id, message.chat_id, "sent", message_id=sent.message_id)

    def _halt(self, detail: str) -> None:
        if self.halted is not None:
            return
        self.halted = f"the Bot API answered 401 Unauthorized ({detail})"
        _LOGGER.error("outbox sender: %s; sending stopped, queued messages kept", self.halted)
        self._wake.set()
        if self._on_fatal is not None:
            task = asyncio.create_task(self._on_fatal(self.halted), name="outbox-fatal")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
