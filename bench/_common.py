"""Shared helpers of the delivery benchmarks: the machine, medians, the stand-in process.

The Bot API stand-in (``python -m tests.botapi``) runs in its own process so that its
CPU time is not charged to the bot being measured, as with the real Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import select
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.botapi.records import DEFAULT_TOKEN

ROOT = Path(__file__).resolve().parent.parent
TOKEN = DEFAULT_TOKEN  # the stand-in's, not a real bot's

# The synthetic newsroom the generators draw from: ~40 topics, a handful of outlets.
TOPICS = [
    "AI", "Computer Vision", "Privacy", "Security", "Climate", "Energy", "Elections", "EU",
    "China", "USA", "Health", "Vaccines", "Space", "Robotics", "Startups", "Markets",
    "Crypto", "Semiconductors", "Cloud", "Open Source", "Education", "Transport", "EVs",
    "Aviation", "Football", "Tennis", "Music", "Film", "Books", "Science", "Physics",
    "Biology", "Oceans", "Agriculture", "Housing", "Labour", "Law", "Media", "Gaming",
    "Telecoms",
]  # fmt: skip
PROVIDERS = [
    ("Euronews", "euronews.com"), ("Government Technology", "govtech.com"),
    ("The Times", "thetimes.co.uk"), ("Reuters", "reuters.com"), ("BBC", "bbc.co.uk"),
    ("Le Monde", "lemonde.fr"), ("Der Spiegel", "spiegel.de"), ("Ars Technica", "arstechnica.com"),
    ("Associated Press", "apnews.com"), ("Al Jazeera", "aljazeera.com"),
]  # fmt: skip


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe_machine() -> str:
    return (
        f"machine: {platform.platform()} · {cpu_model()} · {os.cpu_count()} cores · "
        f"Python {platform.python_version()}"
    )


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain left-aligned text table."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@dataclass
class StandIn:
    """A running ``python -m tests.botapi`` process."""

    url: str
    process: subprocess.Popen[str]
    token: str = TOKEN

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the stand-in process has used so far (Linux)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def stats(self, session: aiohttp.ClientSession) -> dict[str, Any]:
        async with session.get(f"{self.url}/_stats") as response:
            response.raise_for_status()
            result: dict[str, Any] = await response.json()
            return result

    async def control(
        self, session: aiohttp.ClientSession, action: str, body: dict[str, Any] | None = None
    ) -> None:
        async with session.post(f"{self.url}/_control/{action}", json=body or {}) as response:
            response.raise_for_status()


@contextlib.contextmanager
def stand_in(
    *,
    rate: float | None,
    latency: float,
    open_chats: bool = True,
    ready_timeout: float = 20.0,
    extra: Sequence[str] = (),
) -> Iterator[StandIn]:
    """Start the stand-in on 127.0.0.1 (a free port), yield it once it printed READY.
    ``extra``: more flags, e.g. ``["--window", "30"]`` for strict mode."""
    command = [sys.executable, "-m", "tests.botapi", "--token", TOKEN, "--latency", str(latency)]
    command += list(extra)
    if rate is not None:
        command += ["--rate", str(rate)]
    if open_chats:
        command.append("--open-chats")
    # ``-m`` from the checkout's root finds the ``tests`` package (it is not installed).
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + ready_timeout
        line = ""
        # select() rather than a blocking readline: a stand-in that dies or hangs must not
        # hang the benchmark.
        while not line.startswith("READY "):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or process.poll() is not None:
                raise RuntimeError(f"the Bot API stand-in did not start: {line!r}")
            readable, _, _ = select.select([process.stdout], [], [], remaining)
            if readable:
                line = process.stdout.readline()
        yield StandIn(url=line.split()[1], process=process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def steady_rate(times: Sequence[float], skip: float = 2.0) -> float:
    """Messages/s after the first ``skip`` seconds: the initial token burst left out."""
    later = [t for t in times if t >= skip]
    if len(later) < 2 or later[-1] <= later[0]:
        return float("nan")
    return (len(later) - 1) / (later[-1] - later[0])


async def poll_until(condition: Callable[[], bool], *, timeout: float, interval: float) -> bool:
    """Check ``condition`` every ``interval`` s (state another process owns, such as a
    database file, cannot wake us); False if it still fails after ``timeout`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if condition():
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(interval)
