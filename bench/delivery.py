"""Delivery benchmark: the outbox sender against the Bot API stand-in in another process.

Usage::

    python bench/delivery.py [--n 5000] [--rate 25] [--window 20] [--latency 0.05]
                             [--fast-rate 5000] [--runs 3] [--only a,b,c]
                             [--burst 24 ...] [--concurrency 96 ...]

The stand-in (``python -m tests.botapi --latency 0.05 --open-chats``, on 127.0.0.1) answers
every call after ``--latency`` seconds, like a real round trip. Each run fills a fresh
SQLite outbox with messages to distinct chats (``storage.outbox.enqueue``), then drains it
with the real ``OutboxSender`` on a ``telegram.ext.ExtBot`` with the project's
``PriorityRateLimiter`` and a ``bot.db_thread.DbThread``, exactly as ``newsdigest run`` wires it.

a. **Configured rate**: limiter at ``--rate`` (25/s) and the stand-in enforcing the same
   rate. Reports the rate the stand-in accepted over a ``--window`` s window after the
   first 2 s (the initial one-second token burst left out; target: rate ± 5%), its 429s
   (target 0) and duplicate (chat, text) pairs (target 0).
b. **Limit lifted**: stand-in without a rate limit, limiter at ``--fast-rate``; ``--n``
   messages. Reports messages/s (target >= 1,000/s) and the bot process's CPU time per
   message (``time.process_time()``, all threads, so SQLite work included).
c. The same as b with PTB's default ``HTTPXRequest(connection_pool_size=64)`` instead of
   ``bot.request.AiohttpRequest``: why the project carries its own transport.

``--burst B`` repeats a with the limiter's bucket holding B tokens instead of 0.9 s
worth: with both buckets equal, any arrival jitter at the stand-in costs 429s (see the
report); a bucket a little smaller than the server's absorbs it. ``--concurrency C``
repeats b with C requests in flight instead of the sender's default (at 50 ms per call, 64
caps the sender at 1,280/s before any CPU cost).

Figures are medians over ``--runs`` runs; 429s and duplicates are totals over the runs.
CPU per message is given for the bot process and, separately, for the stand-in (both
share this machine's cores, as they would not in production).
This is a script, not a test: timings depend on the machine, so nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# PTB 22 warns on every RetryAfter unless it may hand out timedeltas (the app sets the same).
os.environ.setdefault("PTB_TIMEDELTA", "true")

import aiohttp
from telegram.ext import ExtBot
from telegram.request import BaseRequest, HTTPXRequest

from bench._common import (
    StandIn,
    describe_machine,
    median,
    stand_in,
    table,
)
from bot.db_thread import DbThread
from bot.delivery.ratelimit import PriorityRateLimiter
from bot.delivery.sender import SENDER_CONCURRENCY, OutboxSender
from bot.delivery.transport import AiohttpRequest
from storage.db import open_db, utcnow
from storage.outbox import PRIORITY_BREAKING, RecordSummary, enqueue
from tests.factories import outgoing

FIRST_CHAT = 10_000_000
EXCERPT = (
    "The debate has been shaped by developments abroad, where a sophisticated network of "
    "cameras monitors the population; lawmakers rejected targeted exemptions on Wednesday."
)


@dataclass(frozen=True)
class RunResult:
    n: int
    sent: int
    seconds: float  # start of the sender -> last message confirmed, bot side
    cpu: float  # process CPU seconds over the same span
    api_cpu: float  # the stand-in process's CPU seconds over the same span
    accepted_times: list[float]  # stand-in side, relative to the first accepted message
    count_429: int
    duplicates: int

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else float("nan")

    def window_rate(self, start: float, window: float) -> float:
        inside = [t for t in self.accepted_times if start <= t < start + window]
        covered = self.accepted_times and self.accepted_times[-1] >= start + window
        return len(inside) / window if covered else float("nan")


def fill_outbox(path: Path, n: int) -> None:
    """N breaking-size messages, one per chat, in one transaction."""
    db = open_db(path)
    try:
        enqueue(
            db,
            [
                outgoing(
                    FIRST_CHAT + i,
                    f'🔴 <b>Breaking</b>\n\n<a href="https://example.com/news/{i}">Headline '
                    f"number {i}</a>\n<i>Example News · 12:00</i>\n{EXCERPT}",
                    priority=PRIORITY_BREAKING,
                )
                for i in range(n)
            ],
            utcnow(),
        )
    finally:
        db.close()


def make_request(transport: str) -> BaseRequest:
    if transport == "aiohttp":
        return AiohttpRequest(pool_size=96)  # as bot/app.py builds it
    return HTTPXRequest(connection_pool_size=64)


async def run_once(
    api: StandIn,
    session: aiohttp.ClientSession,
    *,
    n: int,
    rate: float,
    transport: str,
    burst: float | None = None,
    concurrency: int = SENDER_CONCURRENCY,
) -> RunResult:
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as tmp:
        db_path = Path(tmp) / "outbox.db"
        fill_outbox(db_path, n)
        await api.control(session, "reset")  # counters and the stand-in's buckets
        bot: ExtBot[int] = ExtBot(
            api.token,
            base_url=f"{api.url}/bot",
            request=make_request(transport),
            get_updates_request=make_request(transport),
            rate_limiter=PriorityRateLimiter(rate, burst=burst),
        )
        await bot.initialize()
        store = DbThread(db_path, name="bench")
        await store.open()
        done = asyncio.Event()

        async def on_recorded(summary: RecordSummary) -> None:
            # Done once every message is confirmed by the stand-in *and* recorded as sent.
            if sender.sent_count >= n:
                done.set()

        sender = OutboxSender(bot, store, concurrency=concurrency, on_recorded=on_recorded)
        # A generous deadline: a run that stalls reports what it managed, not a hang.
        timeout = max(60.0, 4 * n / rate)
        started, cpu_started = time.perf_counter(), time.process_time()
        api_cpu_started = api.cpu_seconds()
        sender.start()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout)
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            api_cpu = api.cpu_seconds() - api_cpu_started
        finally:
            await sender.stop()
            await store.close()
            await bot.shutdown()
        stats = await api.stats(session)
    return RunResult(
        n=n,
        sent=sender.sent_count,
        seconds=seconds,
        cpu=cpu,
        api_cpu=api_cpu,
        accepted_times=stats["accepted_times"],
        count_429=stats["count_429"],
        duplicates=stats["duplicates"],
    )


async def configured_rate(args: argparse.Namespace, burst: float | None) -> list[object]:
    # Enough messages to keep sending past the 2 s warm-up plus the whole window.
    n = math.ceil(args.rate * (args.window + 4))
    label = "default" if burst is None else f"{burst:g}"
    results = []
    with stand_in(rate=args.rate, latency=args.latency) as api:
        async with aiohttp.ClientSession() as session:
            for run in range(args.runs):
                result = await run_once(
                    api, session, n=n, rate=args.rate, transport="aiohttp", burst=burst
                )
                print(f"  a run {run + 1} (limiter burst {label}): "
                      f"{result.window_rate(2.0, args.window):.2f}/s, {result.count_429} 429s",
                      flush=True)  # fmt: skip
                results.append(result)
    window = median([r.window_rate(2.0, args.window) for r in results])
    return [
        f"a. limiter {args.rate:g}/s (burst {label}), stand-in {args.rate:g}/s",
        "aiohttp",
        n,
        f"{window:.2f}/s, stand-in side, {args.window:g} s window",
        f"{(window / args.rate - 1) * 100:+.1f}% (target ±5%)",
        "-",  # at 25/s the processes are mostly idle: per-message CPU means little there
        "-",
        sum(r.count_429 for r in results),
        sum(r.duplicates for r in results),
        sum(r.n - r.sent for r in results),
    ]


async def unlimited(
    args: argparse.Namespace, transport: str, label: str, concurrency: int = SENDER_CONCURRENCY
) -> list[object]:
    results = []
    with stand_in(rate=None, latency=args.latency) as api:
        async with aiohttp.ClientSession() as session:
            for run in range(args.runs):
                result = await run_once(
                    api,
                    session,
                    n=args.n,
                    rate=args.fast_rate,
                    transport=transport,
                    concurrency=concurrency,
                )
                print(f"  {label} run {run + 1}: {result.rate:.0f}/s", flush=True)
                results.append(result)
    return [
        f"{label}. limiter {args.fast_rate:g}/s, stand-in unlimited, concurrency {concurrency}",
        transport,
        args.n,
        f"{median([r.rate for r in results]):.0f}/s, bot side, all {args.n}",
        f"{median([r.rate for r in results]) / 1000:.2f}× target (≥ 1,000/s)",
        f"{median([r.cpu / r.sent for r in results]) * 1000:.2f}",
        f"{median([r.api_cpu / r.sent for r in results]) * 1000:.2f}",
        sum(r.count_429 for r in results),
        sum(r.duplicates for r in results),
        sum(r.n - r.sent for r in results),
    ]


async def main_async(args: argparse.Namespace) -> None:
    rows: list[list[object]] = []
    only = set(args.only.split(","))
    if "a" in only:
        print(f"a: {args.runs} run(s) at {args.rate:g}/s (~{args.window + 4:g} s each)", flush=True)
        rows.append(await configured_rate(args, None))
        for burst in args.burst:
            rows.append(await configured_rate(args, burst))
    if "b" in only:
        print(f"b: {args.runs} run(s) of {args.n} messages, aiohttp", flush=True)
        rows.append(await unlimited(args, "aiohttp", "b"))
        for concurrency in args.concurrency:
            rows.append(await unlimited(args, "aiohttp", "b", concurrency))
    if "c" in only:
        print(f"c: {args.runs} run(s) of {args.n} messages, httpx", flush=True)
        rows.append(await unlimited(args, "httpx", "c"))
    print()
    print(describe_machine())
    print(
        f"stand-in: separate process on 127.0.0.1, latency {args.latency * 1000:.0f} ms per "
        f"call, open chats; medians of {args.runs} run(s)"
    )
    print()
    headers = ["scenario", "transport", "N", "rate", "vs target", "bot CPU ms/msg",
               "stand-in CPU ms/msg", "429s", "dups", "unsent"]  # fmt: skip
    print(table(headers, rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=5000, help="messages for b and c")
    parser.add_argument("--rate", type=float, default=25.0, help="configured rate for a")
    parser.add_argument("--window", type=float, default=20.0, help="measurement window for a (s)")
    parser.add_argument(
        "--burst",
        type=float,
        action="append",
        default=[],
        help="also run a with this limiter burst (repeatable; default: 0.9 x rate)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        action="append",
        default=[],
        help=f"also run b with this sender concurrency (repeatable; the app uses {SENDER_CONCURRENCY})",
    )
    parser.add_argument("--fast-rate", type=float, default=5000.0, help="limiter rate for b, c")
    parser.add_argument("--latency", type=float, default=0.05, help="stand-in seconds per call")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario (median)")
    parser.add_argument("--only", default="a,b,c", help="scenarios to run, e.g. b,c")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # One warning per 429 would bury the table; the stand-in counts them instead.
    logging.getLogger("bot.delivery.ratelimit").setLevel(logging.ERROR)
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
