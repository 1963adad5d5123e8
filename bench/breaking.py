"""Breaking-push benchmark: audience selection, then delivery by the real bot at 30/s.

Usage::

    python bench/breaking.py                     # quick: 1,500 readers, ~1.5 min per rate
    python bench/breaking.py --readers 10000     # full: 16,000 messages, ~9.5 min per rate
    python bench/breaking.py --readers 10000 --bot-rate 29 --fallback-rate 0  # full, one rate

a. **Selection** on ``--selection-readers`` (10,000) active readers: half follow a topic of
   the article, 40% only other topics, 10% none (they get everything). Medians over
   ``--runs`` runs of ``storage.readers.audience`` (target < 200 ms), of ``create_push``
   (the preview's audience count) and of ``start_push`` (selection plus queueing one
   outbox row and one delivery per reader), each on a fresh copy of the database.
b. **Delivery**: the real Application (``build_application``, as ``newsdigest run``)
   against the Bot API stand-in in another process enforcing ``--api-rate`` (30/s,
   ``--open-chats``, 50 ms per call), the bot configured with ``NEWSDIGEST_RATE`` =
   ``--bot-rate`` (30). An article push to its topics' readers and a free-text push to
   everyone are confirmed through the same functions the Send button calls, then the
   sender is woken. While they go out, new readers send ``/start`` (stand-in control
   endpoint) and the time until the bot's reply is accepted is measured by polling
   ``GET /_stats`` every 20 ms (target < 2 s). Reported: delivery rate (target >= 95% of the
   bot's rate), 429s and duplicates (targets 0), and any reader missing or over-served.
   With the limiter at exactly the stand-in's rate, arrival jitter can cost 429s; when
   that happens the run is repeated with the bot at ``--fallback-rate`` (29).

This is a script, not a test: timings depend on the machine, so nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# PTB 22 warns on every RetryAfter unless it may hand out timedeltas (the app sets the same).
os.environ.setdefault("PTB_TIMEDELTA", "true")

import aiohttp
from sqlite_utils import Database

from bench._common import (
    StandIn,
    describe_machine,
    median,
    poll_until,
    stand_in,
    steady_rate,
    table,
)
from bot.context import Services
from bot.delivery.push_queue import confirm_push, draft_push
from bot.settings import Settings
from storage.articles import article_by_url
from storage.db import open_db, utcnow
from storage.outbox import push_counts
from storage.pushes import create_push, start_push
from storage.reader_lists import audience
from tests import factories
from tests.e2e.harness import running_bot

ARTICLE_URL = "https://example.com/breaking/bench"
ARTICLE_TOPICS = ("AI", "Policy")
OTHER_TOPICS = tuple(f"Topic {i:02d}" for i in range(18))
FIRST_READER = 100_000_000
FIRST_NEWCOMER = 900_000_000
FREE_TEXT = (
    "Power cut across the city centre: trains stopped, see https://example.com/live "
    "for updates <as they come>."
)


@dataclass(frozen=True)
class Population:
    db_path: Path
    readers: int
    article_matches: frozenset[int]  # chat ids in the article push's audience


def build_database(folder: Path, readers: int, seed: int = 7) -> Population:
    """A stored article plus ``readers`` active readers with a realistic topic mix."""
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "newsdigest.db"
    db = open_db(db_path)
    try:
        now = utcnow()
        # The pushed article, and one carrying every other topic so that the topics exist.
        factories.store_articles(
            db,
            factories.article("Bench breaking story", ARTICLE_URL, ARTICLE_TOPICS, now=now),
            factories.article("Everything else", "https://example.com/others", OTHER_TOPICS,
                              now=now),
            at=now,
        )  # fmt: skip
        rng = random.Random(seed)
        matches: set[int] = set()
        # One transaction: 10,000 commits would measure the disk, not the code.
        with db.atomic():
            for i in range(readers):
                chat_id = FIRST_READER + i
                kind = i % 10
                if kind < 5:  # half: a topic of the article, often with others
                    chosen = [rng.choice(ARTICLE_TOPICS), *rng.sample(OTHER_TOPICS, kind % 3)]
                    matches.add(chat_id)
                elif kind < 9:  # 40%: other topics only
                    chosen = rng.sample(OTHER_TOPICS, 1 + kind % 3)
                else:  # 10%: no topic chosen, so everything
                    chosen = []
                    matches.add(chat_id)
                factories.subscribe_reader(db, chat_id, chosen, at=now, first_name=f"Reader {i}")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return Population(db_path, readers, frozenset(matches))


def fresh_copy(population: Population, folder: Path) -> Path:
    """A private copy of the prepared database (each push consumes its audience)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "newsdigest.db"
    shutil.copyfile(population.db_path, target)
    return target


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def measure_selection(population: Population, work: Path, runs: int) -> list[list[object]]:
    select_s: list[float] = []
    create_s: list[float] = []
    start_s: list[float] = []
    sizes: set[int] = set()
    for run in range(runs):
        db = open_db(fresh_copy(population, work / f"select-{run}"))
        try:
            article = article_by_url(db, ARTICLE_URL)
            assert article is not None
            seconds, chats = timed(audience, db, article.topic_ids)
            select_s.append(seconds)
            sizes.add(len(chats))
            seconds, push = timed(create_push, db, created_by=None, article_id=article.id,
                                  text="bench", topic_ids=article.topic_ids, now=utcnow())  # fmt: skip
            create_s.append(seconds)
            seconds, queued = timed(start_push, db, push.id, article.topic_ids, utcnow())
            start_s.append(seconds)
            sizes.add(queued)
        finally:
            db.close()
    expected = len(population.article_matches)
    size = ", ".join(str(s) for s in sorted(sizes))
    check = "ok" if sizes == {expected} else f"MISMATCH (expected {expected})"
    return [
        ["audience() selection", f"{median(select_s) * 1000:.1f}", "< 200", f"{size} {check}"],
        ["create_push (preview count)", f"{median(create_s) * 1000:.1f}", "", ""],
        ["start_push (select + queue)", f"{median(start_s) * 1000:.1f}", "", f"{size} rows"],
    ]


@dataclass
class DeliveryResult:
    bot_rate: float
    expected: int
    accepted: int
    seconds: float  # first to last accepted message, stand-in clock
    rate: float
    steady: float
    count_429: int
    duplicates: int
    missing: int
    extra: int
    reply_latencies: list[float]
    finished: bool


async def reply_latency(api: StandIn, session: aiohttp.ClientSession, uid: int) -> float:
    """A new reader sends /start; seconds until the stand-in has accepted the bot's reply."""
    started = time.perf_counter()
    await api.control(session, "send_text", {"user_id": uid, "text": "/start"})
    while True:
        stats = await api.stats(session)
        if stats["per_chat"].get(str(uid), 0) >= 1:
            return time.perf_counter() - started
        if time.perf_counter() - started > 30:
            return float("inf")
        await asyncio.sleep(0.02)


def pending(db_path: Path, push_ids: Sequence[int]) -> int:
    db = open_db(db_path, migrate=False)
    try:
        return sum(push_counts(db, push_id)["pending"] for push_id in push_ids)
    finally:
        db.close()


def queue_pushes(db_path: Path) -> tuple[list[int], int]:
    """The article push and the free-text push, confirmed as the Send button does."""
    db: Database = open_db(db_path, migrate=False)
    try:
        ids: list[int] = []
        total = 0
        for target in (ARTICLE_URL, FREE_TEXT):
            draft = draft_push(db, target, None, ZoneInfo("UTC"))
            queued = confirm_push(db, draft.push_id)
            assert queued is not None
            ids.append(draft.push_id)
            total += queued
        return ids, total
    finally:
        db.close()


async def measure_delivery(
    population: Population, work: Path, args: argparse.Namespace, bot_rate: float
) -> DeliveryResult:
    db_path = fresh_copy(population, work / f"deliver-{bot_rate:g}")
    articles = db_path.parent / "articles"
    articles.mkdir(exist_ok=True)
    hour = (datetime.now(UTC).hour - 1) % 24  # no scheduled digest falls inside the run
    with stand_in(rate=args.api_rate, latency=args.latency) as api:
        settings = Settings(
            bot_token=api.token,
            api_url=api.url,
            db_path=db_path,
            articles_dir=articles,
            timezone=ZoneInfo("UTC"),
            digest_time=dtime(hour, 0),
            scan_interval=3600.0,
            rate=bot_rate,
        )
        async with (
            aiohttp.ClientSession() as session,
            running_bot(settings, digest_tick=20.0) as application,
        ):
            await api.control(session, "reset")  # count the pushes only, from a full bucket
            push_ids, expected = queue_pushes(db_path)
            services: Services = application.bot_data["services"]
            services.sender.wake()
            eta = expected / bot_rate
            print(f"  bot at {bot_rate:g}/s: {expected} messages queued, ~{eta:.0f} s", flush=True)
            latencies: list[float] = []
            started = time.perf_counter()
            # Newcomers at a quarter, half and three quarters of the run.
            for k, fraction in enumerate((0.25, 0.5, 0.75)):
                await asyncio.sleep(max(0.0, started + eta * fraction - time.perf_counter()))
                latencies.append(await reply_latency(api, session, FIRST_NEWCOMER + k))
            finished = await poll_until(
                lambda: pending(db_path, push_ids) == 0,
                timeout=max(0.0, started + 2 * eta + 60 - time.perf_counter()),
                interval=0.5,
            )
            stats = await api.stats(session)
    newcomers = {str(FIRST_NEWCOMER + k) for k in range(3)}
    per_chat = {int(c): n for c, n in stats["per_chat"].items() if c not in newcomers}
    want = {FIRST_READER + i: 1 for i in range(population.readers)}
    for chat_id in population.article_matches:
        want[chat_id] = 2
    missing = sum(max(0, n - per_chat.get(c, 0)) for c, n in want.items())
    extra = sum(max(0, n - want.get(c, 0)) for c, n in per_chat.items())
    times = stats["accepted_times"]
    seconds = times[-1] - times[0] if len(times) > 1 else float("nan")
    return DeliveryResult(
        bot_rate=bot_rate,
        expected=expected,
        accepted=stats["accepted"],
        seconds=seconds,
        rate=(len(times) - 1) / seconds if seconds > 0 else float("nan"),
        steady=steady_rate(times),
        count_429=stats["count_429"],
        duplicates=stats["duplicates"],
        missing=missing,
        extra=extra,
        reply_latencies=latencies,
        finished=finished,
    )


def delivery_row(result: DeliveryResult, api_rate: float) -> list[object]:
    worst = max(result.reply_latencies) if result.reply_latencies else float("nan")
    return [
        f"bot {result.bot_rate:g}/s, stand-in {api_rate:g}/s",
        f"{result.accepted}/{result.expected + len(result.reply_latencies)}",
        f"{result.seconds:.1f}",
        f"{result.rate:.2f} ({result.rate / result.bot_rate * 100:.1f}%)",
        f"{result.steady:.2f}",
        result.count_429,
        result.duplicates,
        f"{result.missing}/{result.extra}",
        f"{median(result.reply_latencies) * 1000:.0f} / {worst * 1000:.0f}",
        "yes" if result.finished else "NO (timed out)",
    ]


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-breaking-") as tmp:
        work = Path(tmp)
        selection_rows: list[list[object]] = []
        if not args.skip_selection:
            print(f"a: building {args.selection_readers} readers", flush=True)
            seconds, big = timed(build_database, work / "select", args.selection_readers)
            print(f"  built in {seconds:.1f} s; selecting", flush=True)
            selection_rows = measure_selection(big, work, args.runs)
        delivery_rows: list[list[object]] = []
        if not args.skip_delivery:
            print(f"b: building {args.readers} readers", flush=True)
            population = build_database(work / "deliver", args.readers)
            result = await measure_delivery(population, work, args, args.bot_rate)
            delivery_rows.append(delivery_row(result, args.api_rate))
            if result.count_429 and args.fallback_rate:
                print(f"  {result.count_429} 429s at {args.bot_rate:g}/s: again at "
                      f"{args.fallback_rate:g}/s", flush=True)  # fmt: skip
                result = await measure_delivery(population, work, args, args.fallback_rate)
                delivery_rows.append(delivery_row(result, args.api_rate))
    print()
    print(describe_machine())
    if selection_rows:
        print()
        print(f"a. audience selection, {args.selection_readers} active readers "
              f"(medians of {args.runs} runs)")  # fmt: skip
        print(table(["step", "ms", "target ms", "readers"], selection_rows))
    if delivery_rows:
        print()
        print(
            f"b. delivery by the running bot: {args.readers} readers, article push + free-text "
            f"push; stand-in in another process, {args.latency * 1000:.0f} ms per call"
        )
        headers = ["rates", "accepted/expected", "seconds", "msg/s (% of bot rate)",
                   "msg/s after 2 s", "429s", "dups", "missing/extra", "/start reply ms med/max",
                   "finished"]  # fmt: skip
        print(table(headers, delivery_rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--readers", type=int, default=1500, help="readers for b (full: 10000)")
    parser.add_argument("--selection-readers", type=int, default=10_000, help="readers for a")
    parser.add_argument("--runs", type=int, default=5, help="runs of a (median)")
    parser.add_argument("--api-rate", type=float, default=30.0, help="stand-in's messages/s")
    parser.add_argument("--bot-rate", type=float, default=30.0, help="NEWSDIGEST_RATE for b")
    parser.add_argument(
        "--fallback-rate", type=float, default=29.0, help="rerun b at this rate after 429s (0: no)"
    )
    parser.add_argument("--latency", type=float, default=0.05, help="stand-in seconds per call")
    parser.add_argument("--skip-selection", action="store_true")
    parser.add_argument("--skip-delivery", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # One warning per 429 would bury the table; the stand-in counts them instead.
    logging.getLogger("bot.delivery.ratelimit").setLevel(logging.ERROR)
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
