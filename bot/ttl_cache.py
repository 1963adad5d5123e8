"""A small in-process cache whose entries expire: inline results, kept a minute per query."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from storage.db import utcnow

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """At most ``max_entries`` values, each for ``ttl`` after it was put (not after reads).

    ``clock``: "now" (a test's ManualClock moves it). Used from the event loop only, so
    there is no locking. Over ``max_entries`` the oldest entry goes first: a stream of
    distinct queries keeps memory bounded instead of growing for a minute.
    """

    def __init__(
        self,
        *,
        ttl: timedelta,
        max_entries: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if ttl <= timedelta(0) or max_entries < 1:
            raise ValueError("a cache needs a positive ttl and room for one entry")
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, tuple[datetime, V]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is not None and self._clock() < entry[0]:
            self.hits += 1
            return entry[1]
        if entry is not None:
            del self._entries[key]
        self.misses += 1
        return None

    def put(self, key: K, value: V) -> None:
        self._entries.pop(key, None)
        self._entries[key] = (self._clock() + self.ttl, value)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
