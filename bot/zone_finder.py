"""A shared location → time zone lookup (``timezonefinder``, offline), loaded on first use.

timezonefinder answers from boundary data it ships (no network) in about a millisecond
once loaded; loading takes a fraction of a second, so it happens once, off the event loop.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from digest.zones import canonical_zones


class ZoneFinder:
    """``await finder.zone_at(lat, lon)`` → a canonical zone name, or None (e.g. at sea)."""

    def __init__(self) -> None:
        self._finder: Any = None
        self._lock = threading.Lock()

    def _lookup(self, latitude: float, longitude: float) -> str | None:
        with self._lock:
            if self._finder is None:
                from timezonefinder import TimezoneFinder  # a heavy import: only when used

                self._finder = TimezoneFinder()
            name = self._finder.timezone_at(lng=longitude, lat=latitude)
        return name if isinstance(name, str) and name in canonical_zones() else None

    async def zone_at(self, latitude: float, longitude: float) -> str | None:
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            return None
        return await asyncio.to_thread(self._lookup, latitude, longitude)
