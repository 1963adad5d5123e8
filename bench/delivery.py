"""Delivery benchmark: the outbox sender against the Bot API stand-in in another process.

Usage::

    python bench/delivery.py [--limit 30] [--latency 0.04] [--readers 600] [--runs 3]
                             [--only strict,transport,paid,kill,httpx]

Each run fills a fresh SQLite outbox with one breaking message per chat
(``storage.outbox.enqueue``) and drains it with the real ``OutboxSender`` on a
``telegram.ext.ExtBot`` with the project's ``PriorityRateLimiter``, ``AiohttpRequest`` and a
``bot.db_thread.DbThread``, as ``newsdigest run`` wires them.

strict
    The stand-in in strict mode (``--window L``: it refuses any send that would put more
    than L in a sliding second, and per chat 3 a second) ``--latency`` away; the bot at
    ``NEWSDIGEST_RATE`` = 0.9 L; ``--readers`` chats. Reported: 429s (target 0), the
    throughput the stand-in accepted after the first second, as a ratio of R (target
    >= 0.95), the busiest sliding second (target <= R), bot CPU per message, and requests
    in flight: the most the stand-in saw at once and the sender's window, next to
    R × round trip.
transport
    No limit at the stand-in, the limiter at ``--fast-rate``, ``--latency-transport`` (50 ms)
    away: what the transport sustains on one core (target >= 1,000 msg/s).
paid
    ``NEWSDIGEST_PAID_BROADCAST``: breaking sends with ``allow_paid_broadcast`` at
    ``NEWSDIGEST_BROADCAST_RATE`` 1000/s, 50 ms away, the stand-in's paid limit 1000/s:
    throughput (target >= 0.95 × 1000/s) and 429s.
kill
    ``newsdigest run`` as a process at 50 msg/s, 20 ms away, SIGKILLed mid-push, then
    restarted: messages delivered twice, next to the bound ceil(rate × round trip) + 2.
httpx
    transport with PTB's default ``HTTPXRequest`` instead: why the project has its own.

Figures are medians over ``--runs`` runs; 429s and duplicates are totals (kill: the worst
run). This is a script, not a test: timings depend on the machine, so nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import signal
import subprocess
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

from bench._common import ROOT, StandIn, describe_machine, median, poll_until, stand_in, table
from bot.db_thread import DbThread
from bot.delivery.ratelimit import PriorityRateLimiter
from bot.delivery.sender import OutboxSender
from bot.delivery.transport import AiohttpRequest
from bot.delivery.window import MAX_UNITS
from storage.db import open_db, utcnow
from storage.outbox import PRIORITY_BREAKING, OutgoingMessage, enqueue, outbox_counts
from storage.outbox_results import RecordSummary

FIRST_CHAT = 10_000_000
EXCERPT = (
    "The debate has been shaped by developments abroad, where a sophisticated network of "
    "cameras monitors the population; lawmakers rejected targeted exemptions on Wednesday."
)


@dataclass(frozen=True)
class RunResult:
    n: int
    sent: int
    seconds: float  # start of the sender -> last message recorded, bot side
    cpu: float  # bot process CPU seconds over the same span
    accepted_times: list[float]  # stand-in side, relative to the first accepted message
    count_429: int
    duplicates: int
    max_per_second: int
    in_flight_max: int  # stand-in side
    window_peak: int  # the sender's units in use at most
    window_capacity: int  # the sender's window at the end
    round_trip: float  # the limiter's measured request -> answer, seconds

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else float("nan")

    def steady_rate(self, skip: float = 1.0) -> float:
        later = [t for t in self.accepted_times if t >= skip]
        if len(later) < 2 or later[-1] <= later[0]:
            return float("nan")
        return (len(later) - 1) / (later[-1] - later[0])


def fill_outbox(path: Path, n: int, first_chat: int = FIRST_CHAT) -> None:
    """N breaking-size messages, one per chat, in one transaction."""
    db = open_db(path)
    try:
        enqueue(
            db,
            [
                OutgoingMessage(
                    chat_id=first_chat + i,
                    text=(
                        f'🔴 <b>Breaking</b>\n\n<a href="https://example.com/news/{i}">Headline '
                        f"number {i}</a>\n<i>Example News · 12:00</i>\n{EXCERPT}"
                    ),
                    kind="breaking",
                    priority=PRIORITY_BREAKING,
                )
                for i in range(n)
            ],
            utcnow(),
        )
    finally:
        db.close()


def make_request(transport: str, pool: int) -> BaseRequest:
    if transport == "aiohttp":
        return AiohttpRequest(pool_size=pool)
    return HTTPXRequest(connection_pool_size=64)


async def run_once(
    api: StandIn,
    session: aiohttp.ClientSession,
    *,
    n: int,
    rate: float,
    transport: str = "aiohttp",
    paid_rate: float | None = None,
) -> RunResult:
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as tmp:
        db_path = Path(tmp) / "outbox.db"
        fill_outbox(db_path, n)
        await api.control(session, "reset")  # counters and the stand-in's windows
        limiter = PriorityRateLimiter(rate, paid_rate=paid_rate)
        bot: ExtBot[int] = ExtBot(
            api.token,
            base_url=f"{api.url}/bot",
            request=make_request(transport, 2 * MAX_UNITS + 32),
            get_updates_request=make_request(transport, 2),
            rate_limiter=limiter,
        )
        await bot.initialize()
        store = DbThread(db_path, name="bench")
        await store.open()
        done = asyncio.Event()

        async def on_recorded(summary: RecordSummary) -> None:
            if sender.sent_count >= n and not sender._recorder.waiting:
                done.set()

        sender = OutboxSender(
            bot, store, on_recorded=on_recorded, paid_broadcast=paid_rate is not None
        )
        timeout = max(60.0, 4 * n / (paid_rate or rate))
        started, cpu_started = time.perf_counter(), time.process_time()
        sender.start()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout)
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
        finally:
            await sender.stop()
            await store.close()
            await bot.shutdown()
        stats = await api.stats(session)
        window = sender.paid_window if paid_rate else sender.window
    return RunResult(
        n=n,
        sent=sender.sent_count,
        seconds=seconds,
        cpu=cpu,
        accepted_times=stats["accepted_times"],
        count_429=stats["count_429"],
        duplicates=stats["duplicates"],
        max_per_second=stats["max_per_second"],
        in_flight_max=stats["in_flight_max"],
        window_peak=window.peak,
        window_capacity=window.capacity,
        round_trip=limiter.round_trip.value,
    )


HEADERS = ["scenario", "figure", "result", "target"]


async def strict(args: argparse.Namespace) -> list[list[object]]:
    rate = 0.9 * args.limit
    extra = ["--window", str(args.limit), "--chat-window", "3/1"]
    results = []
    with stand_in(rate=None, latency=args.latency, extra=extra) as api:
        async with aiohttp.ClientSession() as session:
            for run in range(args.runs):
                result = await run_once(api, session, n=args.readers, rate=rate)
                print(f"  strict run {run + 1}: {result.steady_rate() / rate:.3f} × R, "
                      f"{result.count_429} 429s", flush=True)  # fmt: skip
                results.append(result)
    label = f"strict {args.limit}/s window, R = {rate:g}, {args.latency * 1000:.0f} ms"
    rtt = median([r.round_trip for r in results])
    return [
        [label, "429s (total)", sum(r.count_429 for r in results), "0"],
        ["", "throughput / R", f"{median([r.steady_rate() for r in results]) / rate:.3f}",
         ">= 0.95"],
        ["", "busiest second", f"{median([r.max_per_second for r in results]):.0f}",
         f"<= {rate:g} (R)"],
        ["", "bot CPU per message", f"{median([r.cpu / r.sent for r in results]) * 1000:.2f} ms",
         "-"],
        ["", "in flight (stand-in max / sender window)",
         f"{median([r.in_flight_max for r in results]):.0f} / "
         f"{median([r.window_capacity for r in results]):.0f}",
         f"R × rtt = {rate:g} × {rtt * 1000:.0f} ms = {rate * rtt:.1f}"],
        ["", "duplicates (total)", sum(r.duplicates for r in results), "0"],
    ]  # fmt: skip


async def unlimited(args: argparse.Namespace, transport: str) -> list[list[object]]:
    results = []
    with stand_in(rate=None, latency=args.latency_transport) as api:
        async with aiohttp.ClientSession() as session:
            for run in range(args.runs):
                result = await run_once(
                    api, session, n=args.n, rate=args.fast_rate, transport=transport
                )
                print(f"  {transport} run {run + 1}: {result.rate:.0f}/s", flush=True)
                results.append(result)
    label = f"{transport}, no limit, {args.latency_transport * 1000:.0f} ms, N = {args.n}"
    return [
        [label, "throughput", f"{median([r.rate for r in results]):.0f} msg/s",
         ">= 1,000 msg/s" if transport == "aiohttp" else "-"],
        ["", "bot CPU per message", f"{median([r.cpu / r.sent for r in results]) * 1000:.2f} ms",
         "< 1 ms (one core)"],
        ["", "in flight (stand-in max)", f"{median([r.in_flight_max for r in results]):.0f}",
         "-"],
    ]  # fmt: skip


async def paid(args: argparse.Namespace) -> list[list[object]]:
    results = []
    extra = ["--window", "30", "--paid-limit", "1000"]
    with stand_in(rate=None, latency=args.latency_transport, extra=extra) as api:
        async with aiohttp.ClientSession() as session:
            for run in range(args.runs):
                result = await run_once(api, session, n=args.n, rate=25.0, paid_rate=1000.0)
                print(f"  paid run {run + 1}: {result.steady_rate():.0f}/s", flush=True)
                results.append(result)
    label = f"paid broadcast at 1000/s, {args.latency_transport * 1000:.0f} ms, N = {args.n}"
    return [
        [label, "throughput", f"{median([r.steady_rate() for r in results]):.0f} msg/s",
         ">= 950 msg/s"],
        ["", "429s (total)", sum(r.count_429 for r in results), "0"],
        ["", "bot CPU per message", f"{median([r.cpu / r.sent for r in results]) * 1000:.2f} ms",
         "-"],
    ]  # fmt: skip


async def kill_once(api: StandIn, session: aiohttp.ClientSession, n: int, rate: float) -> int:
    """SIGKILL ``newsdigest run`` mid-push, restart it; the messages delivered twice."""
    with tempfile.TemporaryDirectory(prefix="bench-kill-") as tmp:
        db_path = Path(tmp) / "newsdigest.db"
        (Path(tmp) / "articles").mkdir()
        fill_outbox(db_path, n, first_chat=FIRST_CHAT)
        await api.control(session, "reset")
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_URL": api.url,
               "NEWSDIGEST_DB": str(db_path), "NEWSDIGEST_ARTICLES": str(Path(tmp) / "articles"),
               "NEWSDIGEST_RATE": str(rate), "PYTHONPATH": str(ROOT)}  # fmt: skip
        command = [sys.executable, "-m", "bot", "run"]
        first = subprocess.Popen(command, env=env, cwd=tmp, stderr=subprocess.DEVNULL)
        for _ in range(600):  # another process's progress: poll it (30 s at most)
            if (await api.stats(session))["accepted"] >= n // 4:
                break
            await asyncio.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        second = subprocess.Popen(command, env=env, cwd=tmp, stderr=subprocess.DEVNULL)

        def drained() -> bool:
            db = open_db(db_path, migrate=False)
            try:
                return outbox_counts(db)["pending"] == 0
            finally:
                db.close()

        await poll_until(drained, timeout=4 * n / rate + 30, interval=0.2)
        second.send_signal(signal.SIGTERM)
        second.wait(15)
        return int((await api.stats(session))["duplicates"])


async def kill(args: argparse.Namespace) -> list[list[object]]:
    rate, latency, n = 50.0, 0.02, 300
    doubles = []
    with stand_in(rate=None, latency=latency) as api:
        async with aiohttp.ClientSession() as session:
            for run in range(args.runs):
                doubles.append(await kill_once(api, session, n, rate))
                print(f"  kill run {run + 1}: {doubles[-1]} doubled", flush=True)
    bound = math.ceil(rate * latency) + 2
    return [[f"kill -9 mid-push, {rate:g}/s, {latency * 1000:.0f} ms, N = {n}",
             "doubled (worst / median)", f"{max(doubles)} / {median(doubles):.0f}",
             f"<= ceil(rate × rtt) + 2 = {bound}"]]  # fmt: skip


async def main_async(args: argparse.Namespace) -> None:
    rows: list[list[object]] = []
    only = set(args.only.split(","))
    if "strict" in only:
        print(f"strict: {args.runs} run(s) of {args.readers} chats", flush=True)
        rows += await strict(args)
    if "transport" in only:
        print(f"transport: {args.runs} run(s) of {args.n} messages, aiohttp", flush=True)
        rows += await unlimited(args, "aiohttp")
    if "paid" in only:
        print(f"paid: {args.runs} run(s) of {args.n} messages", flush=True)
        rows += await paid(args)
    if "kill" in only:
        print(f"kill: {args.runs} run(s)", flush=True)
        rows += await kill(args)
    if "httpx" in only:
        print(f"httpx: {args.runs} run(s) of {args.n} messages", flush=True)
        rows += await unlimited(args, "httpx")
    print()
    print(describe_machine())
    print(f"stand-in: separate process on 127.0.0.1, open chats; medians of {args.runs} run(s)")
    print()
    print(table(HEADERS, rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--limit", type=int, default=30, help="strict stand-in window L (/s)")
    parser.add_argument("--latency", type=float, default=0.04, help="strict: seconds per call")
    parser.add_argument("--readers", type=int, default=600, help="strict: chats in the push")
    parser.add_argument("--n", type=int, default=5000, help="transport, paid: messages")
    parser.add_argument("--fast-rate", type=float, default=5000.0, help="transport: limiter /s")
    parser.add_argument(
        "--latency-transport", type=float, default=0.05, help="transport, paid: s per call"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario (median)")
    parser.add_argument("--only", default="strict,transport,paid,kill", help="scenarios")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
