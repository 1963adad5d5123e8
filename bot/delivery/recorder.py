"""Writing send results back to the outbox, a batch at a time, without losing any.

Results are written as they come (they batch up while a write runs). A result keeps its
in-flight unit until it is written, so when writes fail (disk full, read-only file, a
database locked too long) the results wait here, writing is retried with backoff, and the
sender runs out of units and stops sending: unrecorded sends never exceed the window.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.db_thread import DbThread
from bot.delivery.budget import RoundTrip
from bot.delivery.window import InFlightWindow
from storage.outbox import QueuedMessage
from storage.outbox_results import RecordSummary, SendResult, record_results

_LOGGER = logging.getLogger(__name__)
RETRY_FIRST, RETRY_CAP = 0.5, 5.0  # seconds between attempts to write, while writes fail
HOOK_TIMEOUT = 2.0  # seconds a stop waits for the progress hook

RecordedHook = Callable[[RecordSummary], Awaitable[None]]


@dataclass(slots=True)
class _Entry:
    result: SendResult
    window: InFlightWindow | None  # the unit to give back once written
    answered: float  # loop time the answer came
    held: list[int] = field(default_factory=list)  # later parts of the chat, waiting on this


class Recorder:
    """The sender's results on their way to the database."""

    def __init__(
        self,
        store: DbThread,
        record_time: RoundTrip,
        on_recorded: RecordedHook | None,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._record_time = record_time
        self._on_recorded = on_recorded
        self._clock = clock
        self.unrecorded: set[int] = set()  # ids given to chat tasks, results not written
        self._entries: list[_Entry] = []
        self._ready = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._failing_since: float | None = None
        self._summary: RecordSummary | None = None
        self._hook: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._flusher = asyncio.create_task(self._flush_loop(), name="outbox-recorder")

    def add(
        self, result: SendResult, window: InFlightWindow | None, held: Iterable[QueuedMessage]
    ) -> None:
        """A result to write; ``held``: the chat's later parts, free once it is written."""
        loop_time = asyncio.get_running_loop().time()
        self._entries.append(_Entry(result, window, loop_time, [m.id for m in held]))
        self._ready.set()

    def forget(self, ids: Iterable[int]) -> None:
        """These were not sent: the outbox may hand them out again."""
        self.unrecorded.difference_update(ids)

    @property
    def waiting(self) -> int:
        return len(self._entries)

    async def stop(self) -> None:
        """Write what is left (two tries); then let the progress hook finish, briefly."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        for attempt in range(2):
            try:
                await self._flush()
                break
            except Exception as exc:
                if attempt == 0:
                    await asyncio.sleep(RETRY_FIRST)
                    continue
                _LOGGER.error("outbox: %d results could not be recorded at stop (%s): those "
                              "messages stay pending and may be sent again",
                              len(self._entries), exc)  # fmt: skip
        if self._hook is not None:
            _done, pending = await asyncio.wait({self._hook}, timeout=HOOK_TIMEOUT)
            for task in pending:
                task.cancel()

    async def _flush_loop(self) -> None:
        delay = RETRY_FIRST
        while True:
            await self._ready.wait()
            self._ready.clear()
            try:
                await self._flush()
                delay = RETRY_FIRST
            except Exception as exc:
                self._note_failure(exc)
                await asyncio.sleep(delay)  # the results were kept: try again shortly
                delay = min(RETRY_CAP, delay * 2)
                self._ready.set()

    async def _flush(self) -> None:
        if not self._entries:
            return
        entries, self._entries = self._entries, []
        try:
            summary = await self._store.run(
                record_results, [e.result for e in entries], self._clock()
            )
        except BaseException:
            self._entries[:0] = entries  # nothing is lost: the next attempt has them
            raise
        now = asyncio.get_running_loop().time()
        for entry in entries:
            if entry.window is not None:
                entry.window.release()
                self._record_time.add(now - entry.answered)
            self.unrecorded.discard(entry.result.outbox_id)
            self.unrecorded.difference_update(entry.held)
        if self._failing_since is not None:
            _LOGGER.warning("outbox: results are recorded again after %.0f s; sending resumes",
                            now - self._failing_since)  # fmt: skip
            self._failing_since = None
        if self._on_recorded is not None:
            self._notify(summary)

    def _note_failure(self, exc: Exception) -> None:
        if self._failing_since is None:
            self._failing_since = asyncio.get_running_loop().time()
            _LOGGER.error("outbox: cannot record delivery results (%s: %s); sending stops "
                          "until results can be written (%d waiting)", type(exc).__name__, exc,
                          len(self._entries))  # fmt: skip
        else:
            _LOGGER.debug("outbox: recording still fails: %s", exc)

    def _notify(self, summary: RecordSummary) -> None:
        """Run the hook off the write path, one call at a time, merging what piles up."""
        pending = self._summary
        self._summary = summary if pending is None else _merge(pending, summary)
        if self._hook is None or self._hook.done():
            self._hook = asyncio.create_task(self._run_hook(), name="outbox-recorded-hook")

    async def _run_hook(self) -> None:
        assert self._on_recorded is not None
        while self._summary is not None:
            summary, self._summary = self._summary, None
            try:
                await self._on_recorded(summary)
            except Exception:
                _LOGGER.exception("outbox sender: progress hook failed")


def _merge(first: RecordSummary, second: RecordSummary) -> RecordSummary:
    return RecordSummary(
        blocked_chats=first.blocked_chats + second.blocked_chats,
        pushes_touched=first.pushes_touched | second.pushes_touched,
        pushes_finished=first.pushes_finished | second.pushes_finished,
    )
