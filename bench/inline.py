"""Inline mode benchmark: the handler's path for ``@bot words`` over a large article store.

Usage::

    python bench/inline.py [--articles 100000] [--queries 300] [--keep DB]
    python bench/inline.py --reuse DB [--queries 300]

Builds ``--articles`` articles with /related's generator (``bench/related.py``: Zipf-
weighted words, a quarter of the articles further coverage of an earlier story) or
reuses a database kept by either benchmark, then times what ``bot.chat.inline`` does
for one inline query, minus the HTTP: ``bot.chat.inline.find_results`` (the cache
lookup, ``inline_stories`` on a real DB thread when the query is not cached, the page's
cards rendered into PTB's ``InlineQueryResultArticle`` objects) and the JSON PTB makes of
them before sending. Kinds of query:

* 2-3 common words (thousands of matches), 1-2 rare words (a handful), no words (the top
  stories), and the second page of a common query;

each **cold** (the inline cache emptied before each query) and **cached** (the same
queries again within the minute; a second page is usually asked within seconds of the
first, so cached is its usual case). "Cold" is our cache only:
SQLite's page cache is warmed by an unmeasured pass, as in a running bot.

Target: p95 <= 50 ms per query. A script, not a test: nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Runnable as a plain script from a checkout. This folder holds digest.py, which would
# shadow the digest package if the folder stayed first on sys.path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench._common import cpu_model, table  # noqa: E402
from bench.related import build, common_query, corpus_of, percentiles, rare_queries  # noqa: E402
from bot.chat.inline import find_results  # noqa: E402
from bot.context import InlineCache  # noqa: E402
from bot.db_thread import DbThread  # noqa: E402
from bot.ttl_cache import TtlCache  # noqa: E402
from digest.inline import CACHE_ENTRIES, CACHE_SECONDS, encode_offset  # noqa: E402
from storage.db import open_db  # noqa: E402

TARGET_MS = 50.0
ZONE = UTC
# The generator's articles are published in May 2026: "now" for the top stories is
# just after, so they are the news of the day, not of a year ago.
NOW = datetime(2026, 6, 1, tzinfo=UTC)


@dataclass
class Series:
    label: str
    samples: list[float] = field(default_factory=list)  # ms
    results: int = 0

    def row(self) -> list[object]:
        p50, p95, p99 = percentiles(self.samples)
        verdict = "ok" if p95 <= TARGET_MS else "MISSED"
        return [
            self.label, len(self.samples), f"{p50:.2f}", f"{p95:.2f}", f"{p99:.2f}",
            f"{max(self.samples):.1f}", f"{self.results / len(self.samples):.1f}",
            f"{TARGET_MS:g} ({verdict})",
        ]  # fmt: skip


async def handle(db: DbThread, cache: InlineCache, text: str, offset: str) -> int:
    """What on_inline_query does before its HTTP call; returns the number of results."""
    results, _ = await find_results(db, cache, text, offset, now=NOW, zone=ZONE)
    # PTB turns the results into JSON for the request: part of the handler's CPU time.
    json.dumps([r.to_dict() for r in results], ensure_ascii=False)
    return len(results)


def _cache(entries: int) -> InlineCache:
    """The bot's cache (a minute per query), room for ``entries``, on a clock that stands
    still: nothing expires while measuring."""
    return TtlCache(
        ttl=timedelta(seconds=CACHE_SECONDS), max_entries=max(entries, CACHE_ENTRIES), clock=_now
    )


def _now() -> datetime:
    return NOW


async def measure(
    db_path: Path, kinds: Sequence[tuple[str, Sequence[tuple[str, str]]]]
) -> list[Series]:
    db = DbThread(db_path, name="bench", migrate=False)
    await db.open()
    try:
        cache = _cache(1)
        for _, queries in kinds:  # warm SQLite's page cache, unmeasured
            for text, offset in queries[:30]:
                await handle(db, cache, text, offset)
        found: list[Series] = []
        for label, queries in kinds:
            for temperature in ("cold", "cached"):
                cache = _cache(len(queries))
                if temperature == "cached":  # asked once already, within the minute
                    for text, offset in queries:
                        await handle(db, cache, text, offset)
                series = Series(f"{label}, {temperature}")
                for text, offset in queries:
                    if temperature == "cold":
                        cache = _cache(1)  # nothing cached: a miss
                    started = time.perf_counter()
                    series.results += await handle(db, cache, text, offset)
                    series.samples.append((time.perf_counter() - started) * 1000)
                found.append(series)
        return found
    finally:
        await db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300, help="per kind of query")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", type=Path, help="build the database here and keep it")
    parser.add_argument("--reuse", type=Path, help="measure a database built with --keep")
    args = parser.parse_args(argv)
    if args.queries < 2:
        parser.error("--queries needs at least 2 samples for percentiles")
    print(
        f"machine: {platform.platform()} · {cpu_model()} · {os.cpu_count()} cores · "
        f"Python {platform.python_version()} · SQLite {sqlite3.sqlite_version}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-inline-") as tmp:
        if args.reuse:
            db_path = args.reuse
            open_db(db_path).close()  # this checkout's migrations, once
            corpus = corpus_of(db_path, args.seed)
        else:
            db_path = args.keep or Path(tmp) / "inline.db"
            if db_path.exists():
                parser.error(f"{db_path} exists: --keep wants a fresh path")
            started = time.perf_counter()
            corpus, _ = build(db_path, args.articles, seed=args.seed)
            print(f"database: built in {time.perf_counter() - started:.1f} s")
        db = open_db(db_path, migrate=False)
        count = int(db.execute("SELECT count(*) FROM articles").fetchone()[0])
        db.close()
        size_mb = sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*")) / 1e6
        print(f"database: {db_path.name}, {count:,} articles, {size_mb:.0f} MB")

        rng = random.Random(args.seed)
        common = list(dict.fromkeys(common_query(corpus, rng) for _ in range(args.queries * 3)))
        common = common[: args.queries]
        rare = list(dict.fromkeys(rare_queries(corpus, rng, args.queries * 3)))[: args.queries]
        second = encode_offset(20)
        kinds: list[tuple[str, Sequence[tuple[str, str]]]] = [
            ("2-3 common words", [(q, "") for q in common]),
            ("1-2 rare words", [(q, "") for q in rare]),
            ("no words (top stories)", [("", "")] * args.queries),
            ("common words, page 2", [(q, second) for q in common]),
        ]
        series = asyncio.run(measure(db_path, kinds))
    headers = ["query", "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "results", "p95 target"]
    print()
    print(table(headers, [s.row() for s in series]))
    print(
        "cold: the inline cache emptied before each query (SQLite's page cache warm); cached: "
        "the same queries again. Times include the hop to the DB thread and back."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
