"""The sender's in-flight window: messages sent whose result is not written yet.

A message takes a unit just before it is sent and gives it back only once its result is
recorded in the outbox, so at any moment at most :attr:`InFlightWindow.capacity` messages
are out there unrecorded: that is all a kill -9 can double, and all that can go unrecorded
while results cannot be written (dispatch simply stops when the units run out).

The capacity follows what the rate needs, not a fixed number: at ``rate`` R and a
measured cycle of ``round trip + time to record`` C, R × C units are busy on average
(Little's law); the window holds ``ceil(1.1 × R × C) + 1``, at least 2. Waiters are served
most urgent first, so an on-demand digest or /related answer overtakes a push.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math

from bot.delivery.budget import RoundTrip

HEADROOM = 1.1
SPARE_UNITS = 1
MIN_UNITS = 2
MAX_UNITS = 256  # also the HTTP connection pool's size (bot/app.py)


def window_size(rate: float, cycle: float) -> int:
    """Units needed at ``rate`` msg/s when one unit is busy ``cycle`` s per message."""
    return max(MIN_UNITS, min(MAX_UNITS, math.ceil(HEADROOM * rate * cycle) + SPARE_UNITS))


class InFlightWindow:
    """Units for sent-but-unrecorded messages; the capacity follows rate × cycle."""

    def __init__(self, rate: float, round_trip: RoundTrip, record: RoundTrip) -> None:
        self.rate = rate
        self._round_trip = round_trip  # the limiter's: request to answer
        self._record = record  # the sender's: answer to recorded
        self.in_use = 0
        self.peak = 0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._sequence = itertools.count()

    @property
    def capacity(self) -> int:
        return window_size(self.rate, self._round_trip.value + self._record.value)

    async def acquire(self, priority: int) -> None:
        if not self._waiters and self.in_use < self.capacity:
            self._take()
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._sequence), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # granted as it was cancelled: pass the unit on
            raise

    def release(self) -> None:
        self.in_use -= 1
        capacity = self.capacity
        while self._waiters and self.in_use < capacity:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                self._take()
                future.set_result(None)

    def _take(self) -> None:
        self.in_use += 1
        self.peak = max(self.peak, self.in_use)
