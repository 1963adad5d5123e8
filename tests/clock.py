"""A clock a test moves by hand, for the bot's ``clock`` (``build_application(clock=...)``).

The jobs and the sender read "now" from it, so a test reaches a reader's digest minute or
a retry's time by setting the clock instead of waiting for the wall clock to get there.
Handlers still read the wall clock (``storage.db.utcnow``): start the clock at the real
time and move it forward only, and both agree on what is past and what is to come.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.db import utcnow


class ManualClock:
    """``clock()`` is the time it was last set to; it never moves by itself."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _aware(start) if start is not None else utcnow()

    def __call__(self) -> datetime:
        return self._now

    def __repr__(self) -> str:
        return f"ManualClock({self._now.isoformat()})"

    def set(self, moment: datetime) -> datetime:
        """Jump to ``moment``; returns it."""
        self._now = _aware(moment)
        return self._now

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        """Move on by ``delta`` or by ``timedelta(**parts)`` (``seconds=2``); returns the new now."""
        step = delta if delta is not None else timedelta(**parts)
        if step < timedelta(0):
            raise ValueError(f"a clock moves forward only, not by {step}")
        self._now += step
        return self._now


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"a naive datetime is no time for the bot: {moment!r}")
    return moment
