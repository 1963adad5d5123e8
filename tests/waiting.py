"""Waiting for state nothing can signal (another connection's database, another process).

Where the bot offers an event (``sender.wake()``, a job run to its end, a message the
stand-in records) or a clock (:mod:`tests.clock`), tests use that instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def until(
    condition: Callable[[], T],
    what: str = "the condition",
    *,
    timeout: float = 10.0,
    interval: float = 0.02,
) -> T:
    """Check ``condition`` every ``interval`` s until it is truthy, and return its value;
    fail after ``timeout`` s (the loop's clock), naming ``what`` was awaited."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = condition()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)
