"""The outbox sender: one task that drains the outbox within Telegram's limits.

Several chats are served at once (``concurrency`` requests in flight) so the rate,
not the round trip, is the limit; one chat's messages go out in order, one at a
time. Results are written back in small batches.

Delivery guarantee: a row becomes ``sent`` only after Telegram returned its
``message_id``. If the process dies, pending rows are sent on restart; only the
messages in flight or answered but not yet recorded can be sent twice: at most
``concurrency`` requests plus the answers that arrive while one batch of results is
being written (results are written as soon as they come, a batch at a time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import ExtBot

from bot.db_thread import DbThread
from bot.delivery.send_options import send_options
from bot.markup import inline_markup
from storage.db import utcnow
from storage.outbox import QueuedMessage, RecordSummary, SendResult, pending_batch, record_results

_LOGGER = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
# Requests in flight: at a 100 ms round trip, 96 of them allow ~960 messages/s.
SENDER_CONCURRENCY = 96
MAX_BACKOFF = 300.0

RecordedHook = Callable[[RecordSummary], Awaitable[None]]


class OutboxSender:
    def __init__(
        self,
        bot: ExtBot[int],
        store: DbThread,
        *,
        concurrency: int = SENDER_CONCURRENCY,
        batch_size: int = 500,
        idle_poll: float = 1.0,
        on_recorded: RecordedHook | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._bot = bot
        self._clock = clock  # "now": what is due, when to retry, when sent
        self._store = store
        self._concurrency = concurrency
        self._batch_size = batch_size
        self._idle_poll = idle_poll
        self._results_ready = asyncio.Event()
        self._on_recorded = on_recorded
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        self._busy_chats: set[int] = set()
        self._unrecorded: set[int] = set()  # dispatched ids whose result is not written yet
        self._results: list[SendResult] = []
        self._held: dict[int, list[int]] = {}  # failed id -> later parts held back until recorded
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._stopping = False
        self.sent_count = 0

    def wake(self) -> None:
        """Something was queued: look at the outbox now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._runner = asyncio.create_task(self._run(), name="outbox-sender")
        self._flusher = asyncio.create_task(self._flush_loop(), name="outbox-flusher")

    async def stop(self, grace: float = 5.0) -> None:
        """Stop taking new work, let in-flight sends finish (bounded), record their results."""
        self._stopping = True
        self._wake.set()
        if self._runner is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self._flush()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                dispatched = await self._dispatch_batch()
            except Exception:
                _LOGGER.exception("outbox sender: could not read the outbox")
                dispatched = 0
            if dispatched:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._idle_poll)

    async def _dispatch_batch(self) -> int:
        batch = await self._store.run(
            pending_batch, self._clock(), limit=self._batch_size, skip_ids=self._unrecorded
        )
        by_chat: dict[int, list[QueuedMessage]] = {}
        for message in batch:
            if message.chat_id not in self._busy_chats:
                by_chat.setdefault(message.chat_id, []).append(message)
        for chat_id, messages in by_chat.items():
            if self._stopping:
                break
            await self._slots.acquire()
            if self._stopping:
                self._slots.release()
                break
            self._busy_chats.add(chat_id)
            self._unrecorded.update(m.id for m in messages)
            task = asyncio.create_task(self._send_chat(chat_id, messages))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if by_chat:
            return len(by_chat)
        if batch:
            # Everything pending belongs to chats being served: wait for one to finish.
            await asyncio.sleep(0.01)
            return 1
        return 0

    async def _send_chat(self, chat_id: int, messages: list[QueuedMessage]) -> None:
        try:
            for message in messages:
                result = await self._send_one(message)
                self._results.append(result)
                self._results_ready.set()
                if result.outcome != "sent":
                    # Keep a chat's parts in order: later parts wait until this result is
                    # recorded (then a retry's not_before holds the whole chat back), and a
                    # blocked chat's remaining messages are dropped by the record.
                    later = messages[messages.index(message) + 1 :]
                    self._held[message.id] = [m.id for m in later]
                    break
        finally:
            self._busy_chats.discard(chat_id)
            self._slots.release()
            self._wake.set()

    async def _send_one(self, message: QueuedMessage) -> SendResult:
        try:
            sent = await self._bot.send_message(
                chat_id=message.chat_id,
                text=message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=inline_markup(message.keyboard),
                rate_limit_args=message.priority,
                **send_options(message),  # link preview, quiet hours (issue 11)
            )
        except ChatMigrated as exc:
            _LOGGER.info("chat %s migrated to %s", message.chat_id, exc.new_chat_id)
            return SendResult(message.id, message.chat_id, "migrated", new_chat_id=exc.new_chat_id)
        except Forbidden as exc:
            _LOGGER.info("reader %s unreachable (%s): deactivated", message.chat_id, exc.message)
            return SendResult(message.id, message.chat_id, "blocked", error=exc.message)
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                _LOGGER.info("reader %s: chat not found, deactivated", message.chat_id)
                return SendResult(message.id, message.chat_id, "blocked", error=exc.message)
            _LOGGER.warning("outbox %s to %s refused: %s", message.id, message.chat_id, exc.message)
            return SendResult(message.id, message.chat_id, "failed", error=exc.message)
        except RetryAfter as exc:
            return self._retry(message, exc, _seconds(exc.retry_after))
        except InvalidToken:
            raise
        except (NetworkError, TelegramError) as exc:
            return self._retry(message, exc, None)
        self.sent_count += 1
        return SendResult(message.id, message.chat_id, "sent", message_id=sent.message_id)

    def _retry(self, message: QueuedMessage, exc: TelegramError, delay: float | None) -> SendResult:
        attempts = message.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            _LOGGER.warning("outbox %s to %s: giving up after %d attempts: %s",
                            message.id, message.chat_id, attempts, exc.message)  # fmt: skip
            return SendResult(
                message.id, message.chat_id, "failed", error=f"gave up: {exc.message}"
            )
        wait = delay if delay is not None else min(MAX_BACKOFF, 2.0**attempts)
        _LOGGER.info("outbox %s to %s: retry in %.0f s (%s)", message.id, message.chat_id, wait,
                     exc.message)  # fmt: skip
        return SendResult(
            message.id,
            message.chat_id,
            "retry",
            error=exc.message,
            retry_at=self._clock() + timedelta(seconds=wait),
        )

    async def _flush_loop(self) -> None:
        """Write results as they come; under load they batch up while a write runs."""
        while True:
            await self._results_ready.wait()
            self._results_ready.clear()
            try:
                await self._flush()
            except Exception:
                _LOGGER.exception("outbox sender: could not record results")
                await asyncio.sleep(1.0)  # the results were kept: try again shortly
                self._results_ready.set()

    async def _flush(self) -> None:
        if not self._results:
            return
        results, self._results = self._results, []
        started = time.monotonic()
        try:
            summary = await self._store.run(record_results, results, self._clock())
        except BaseException:
            self._results[:0] = results  # try again at the next flush: nothing is lost
            raise
        for result in results:
            self._unrecorded.discard(result.outbox_id)
            for held in self._held.pop(result.outbox_id, ()):
                self._unrecorded.discard(held)
        _LOGGER.debug("recorded %d results in %.1f ms", len(results),
                      (time.monotonic() - started) * 1000)  # fmt: skip
        if self._on_recorded is not None:
            try:
                await self._on_recorded(summary)
            except Exception:
                _LOGGER.exception("outbox sender: progress hook failed")


def _seconds(value: object) -> float:
    if hasattr(value, "total_seconds"):
        return float(value.total_seconds())
    return float(value)  # type: ignore[arg-type]
