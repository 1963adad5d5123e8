"""Send budgets that never burst past a limit: GCRA pacing plus a sliding log.

:class:`Budget` is the pure core (every method takes ``now``): GCRA (the generic cell
rate algorithm: one "theoretical arrival time" per budget) spaces sends ``1/rate`` apart
with a small tolerance, and a sliding log of the last grants makes sure that no window of
``window`` seconds ever holds more than ``limit`` of them, whatever the tolerance allowed.
A token bucket with a large burst, by contrast, sends its whole burst at once and then
meets a strict server's window with twice its limit.

:class:`PriorityBudget` serves waiters of one budget most-urgent first (lowest number),
FIFO within a priority, and can be paused (a global 429) or closed (the bot is stopping).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
from collections import deque

from telegram.error import NetworkError

# The log's window is a little longer than the limit's: jitter on the way can bring two
# sends that left exactly a window apart closer together at Telegram's end.
WINDOW_SLACK = 0.025


class SendAborted(NetworkError):
    """The bot is stopping and this send would have waited too long: it was not sent."""


class Budget:
    """``rate`` sends per second, ``burst`` at once, and never more than ``limit`` per
    ``window`` seconds (``limit`` None: pacing only)."""

    __slots__ = (
        "_held_until", "_log", "_tat", "interval", "last", "limit", "previous", "tolerance",
        "window",
    )  # fmt: skip

    def __init__(
        self,
        rate: float,
        *,
        burst: float = 1.0,
        limit: int | None = None,
        window: float = 1.0,
    ) -> None:
        if rate <= 0 or burst < 1 or (limit is not None and limit < 1) or window <= 0:
            raise ValueError("a budget needs a positive rate, burst >= 1 and a positive window")
        self.interval = 1.0 / rate
        self.tolerance = (burst - 1.0) * self.interval
        self.limit = limit
        self.window = window + WINDOW_SLACK
        self._tat = -math.inf  # GCRA's theoretical arrival time of the next send
        self._log: deque[float] = deque()
        self._held_until = -math.inf
        self.last = self.previous = -math.inf  # the two latest sends

    def wait(self, now: float) -> float:
        """Seconds until one more send conforms (0: it does now)."""
        wait = max(0.0, self._tat - self.tolerance - now, self._held_until - now)
        if self.limit is not None:
            log = self._log
            while log and log[0] <= now - self.window:
                log.popleft()
            if len(log) >= self.limit:
                # The limit-th most recent grant must have left the window (float rounding
                # can leave an older one in the log a moment longer).
                wait = max(wait, log[-self.limit] + self.window - now)
        return wait

    def take(self, now: float) -> None:
        """Count a send made at ``now`` (call only when :meth:`wait` said 0)."""
        self._tat = max(self._tat, now) + self.interval
        self.previous, self.last = self.last, now
        if self.limit is not None:
            self._log.append(now)

    def refund(self, granted_at: float) -> None:
        """Un-count a grant that was not used (nothing was sent)."""
        self._tat -= self.interval
        if self.limit is not None:
            with contextlib.suppress(ValueError):  # already out of the window
                self._log.remove(granted_at)

    def hold(self, now: float, seconds: float) -> None:
        """Nothing conforms for ``seconds`` (extends, never shortens, a hold)."""
        self._held_until = max(self._held_until, now + seconds)

    def recent(self, now: float) -> int:
        """Sends counted in the last window (the log; 0 without a limit)."""
        self.wait(now)
        return len(self._log)

    def idle(self, now: float) -> bool:
        """Nothing about this budget's past still matters at ``now``."""
        return self.wait(now) == 0.0 and not self._log and self._tat <= now


class PriorityBudget:
    """One :class:`Budget` shared by concurrent senders, most urgent first."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self._waiters: list[tuple[int, int, asyncio.Future[float]]] = []
        self._sequence = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._abort_beyond: float | None = None  # closing: waits longer than this fail

    async def acquire(self, priority: int = 0) -> float:
        """Wait for a grant; returns its time (``loop.time()``), for :meth:`refund`."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if not self._waiters:
            wait = self.budget.wait(now)
            if wait == 0.0:
                self.budget.take(now)
                return now
            self._check_abort(wait)
        future: asyncio.Future[float] = loop.create_future()
        heapq.heappush(self._waiters, (priority, next(self._sequence), future))
        self._schedule(loop)
        try:
            return await future  # a cancelled waiter is skipped when its turn comes
        except asyncio.CancelledError:
            if future.done() and not future.cancelled() and future.exception() is None:
                # Granted, then cancelled before it could send: give the grant back.
                self.budget.refund(future.result())
                self._reschedule(loop)
            raise

    def refund(self, granted_at: float) -> None:
        self.budget.refund(granted_at)
        self._reschedule(asyncio.get_running_loop())

    def pause(self, seconds: float) -> None:
        """Telegram said "retry after" to the whole bot: nobody sends until then."""
        loop = asyncio.get_running_loop()
        self.budget.hold(loop.time(), seconds)
        self._reschedule(loop)

    def close(self, grace: float) -> None:
        """Stopping: every wait (now or later) longer than ``grace`` fails with SendAborted."""
        self._abort_beyond = grace
        self._reschedule(asyncio.get_running_loop())

    def _check_abort(self, wait: float) -> None:
        if self._abort_beyond is not None and wait > self._abort_beyond:
            raise SendAborted(f"stopping: not sent (it would wait {wait:.0f} s)")

    def _reschedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._waiters:
            self._schedule(loop)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is None:
            delay = self.budget.wait(loop.time())
            if self._abort_beyond is not None and delay > self._abort_beyond:
                delay = 0.0  # release now, to fail the waiters rather than keep them
            self._timer = loop.call_later(delay, self._release, loop)

    def _release(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        now = loop.time()
        waiters = self._waiters
        while waiters:
            if waiters[0][2].done():
                heapq.heappop(waiters)
                continue
            wait = self.budget.wait(now)
            if wait > 0.0:
                if self._abort_beyond is not None and wait > self._abort_beyond:
                    error = SendAborted(f"stopping: not sent (it would wait {wait:.0f} s)")
                    for _, _, future in waiters:
                        if not future.done():
                            future.set_exception(error)
                    waiters.clear()
                break
            _, _, future = heapq.heappop(waiters)
            self.budget.take(now)
            future.set_result(now)
        if waiters:
            self._schedule(loop)


class RoundTrip:
    """A smoothed round-trip time: an EWMA whose samples are clipped, so one answer that
    took a minute (a hung server) moves it a little, not to a minute."""

    __slots__ = ("_alpha", "value")

    def __init__(self, initial: float, alpha: float = 0.2) -> None:
        self.value = initial
        self._alpha = alpha

    def add(self, sample: float) -> None:
        clipped = min(max(sample, 0.0), 4.0 * self.value + 0.01)
        self.value += self._alpha * (clipped - self.value)
