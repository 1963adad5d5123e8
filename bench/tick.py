"""Benchmark: one scheduled digest tick on a real SQLite file, readers to outbox rows.

``python bench/tick.py [--readers 100000] [--articles 2000] [--topics 40] [--languages en,ru,de,es]``

bench/digest.py measures the pure assembly; this measures what the bot's tick does
around it: reading due readers and their deliveries, building the pool, rendering
every digest and writing the outbox and deliveries, in batches of transactions.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import describe_machine, table
from bot.delivery.digest_queue import run_digest_tick
from storage.db import open_db, to_db_time
from storage.outbox import outbox_counts
from tests.factories import article, store_articles

# A newsroom-sized vocabulary: titles share words, as headlines do, without being copies.
WORDS = [a + b for a in ("gr", "ba", "chi", "mo", "vo", "cou", "ma", "sto", "va", "ro", "ele",
                         "po", "stri", "me", "bre", "sa", "dro", "ta", "rea", "lea")
         for b in ("id", "tery", "p", "del", "te", "rt", "rket", "rm", "ccine", "cket", "ction",
                   "rt", "ke", "rger", "ach", "tellite", "ught", "riff", "ctor", "gue")]  # fmt: skip


def build(
    path: Path, readers: int, articles: int, topics: int, now: datetime, languages: list[str]
) -> None:
    rng = random.Random(7)
    names = [f"Topic {i}" for i in range(topics)]
    db = open_db(path)
    stories = []
    for i in range(articles):
        url = f"https://news.example/{i}"
        stories.append(
            article(
                " ".join(rng.choices(WORDS, k=7)).capitalize() + f" {i}",
                url,
                published=now - timedelta(minutes=rng.randint(1, 1400)),
                excerpt=" ".join(rng.choices(WORDS, k=30)),
                quality=rng.randint(0, 100),
                heat=rng.choice([None, rng.randint(0, 200)]),
                provider=(f"Outlet {i % 50}", "news.example"),
                topics=rng.sample(names, rng.randint(1, 4)),
            )
        )
    store_articles(db, *stories, at=now - timedelta(hours=2))
    topic_ids = [t for (t,) in db.execute("SELECT id FROM topics")]
    due = to_db_time(now - timedelta(minutes=1))
    created = to_db_time(now - timedelta(days=2))
    with db.atomic():
        db.conn.executemany(
            "INSERT INTO readers (chat_id, user_id, first_name, status, digest_time, timezone, "
            "next_digest_at, created_at, updated_at) VALUES (?, ?, 'R', 'active', '08:00', "
            "'UTC', ?, ?, ?)",
            [(c, c, due, created, created) for c in range(1, readers + 1)],
        )
        db.conn.executemany(
            "INSERT INTO reader_topics (chat_id, topic_id) VALUES (?, ?)",
            [
                (c, t)
                for c in range(1, readers + 1)
                for t in rng.sample(topic_ids, rng.randint(1, 5))
            ],
        )
        if languages != ["en"]:  # readers' languages in turn (issue 12: each its own texts)
            db.conn.executemany(
                "UPDATE readers SET language = ? WHERE chat_id = ?",
                [(languages[c % len(languages)], c) for c in range(1, readers + 1)],
            )
    db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--articles", type=int, default=2_000)
    parser.add_argument("--topics", type=int, default=40)
    parser.add_argument("--languages", default="en", help="readers' languages, in turn")
    args = parser.parse_args()
    print(describe_machine())
    now = datetime(2026, 11, 26, 8, 0, 30, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tick.db"
        started = time.perf_counter()
        build(path, args.readers, args.articles, args.topics, now, args.languages.split(","))
        built = time.perf_counter() - started
        db = open_db(path)
        started = time.perf_counter()
        cpu = time.process_time()
        queued = run_digest_tick(db, now)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        counts = outbox_counts(db)
        deliveries = db.execute("SELECT count(*) FROM deliveries").fetchone()[0]
        db.close()
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"setup: {args.readers:,} readers, {args.articles:,} articles in {built:.1f} s")
    print(
        table(
            [
                "digests queued",
                "outbox rows",
                "deliveries",
                "tick s",
                "CPU s",
                "µs/reader",
                "peak RSS MB",
                "db MB",
            ],
            [
                [
                    f"{queued:,}",
                    f"{counts['pending']:,}",
                    f"{deliveries:,}",
                    f"{seconds:.2f}",
                    f"{cpu:.2f}",
                    f"{seconds / args.readers * 1e6:.0f}",
                    f"{rss:.0f}",
                    f"{size / 1e6:.0f}",
                ]
            ],
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
