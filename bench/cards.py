"""Benchmark: what story cards and votes cost a scheduled digest tick.

``python bench/cards.py [--readers 100000] [--articles 2000] [--voters 0.2] [--votes 20]``

Builds bench/tick.py's store (readers, articles of 50 outlets), copies it, gives a share
of the readers (``--voters``) ``--votes`` votes each on random stories within the last
30 days, and runs the same tick on both copies: without votes (story cards, the
provider cap and the kept DigestPart are always on) and with them (one extra query per
batch of 2,000 readers, and each voter's digest chosen again from their best 3 x size
stories). Also times the pure assembly per reader, with and without weights.

For the cost against the code before issue 12, run bench/tick.py with the same
arguments on that checkout (``git archive main``): the README gives both figures.
Timings depend on the machine (shared here), so nothing asserts.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import describe_machine, table
from bench.tick import build
from bot.delivery.digest_queue import run_digest_tick
from digest.assemble import DigestPool
from storage.candidates import candidates_since
from storage.db import open_db, to_db_time
from storage.votes import weights_among


def add_votes(path: Path, voters: int, votes: int, now: datetime) -> None:
    rng = random.Random(11)
    db = open_db(path)
    articles = [
        (a, p or "") for a, p in db.execute("SELECT id, lower(provider_name) FROM articles")
    ]
    topics: dict[int, list[int]] = {}
    for a, t in db.execute("SELECT article_id, topic_id FROM article_topics"):
        topics.setdefault(a, []).append(t)
    rows = []
    for chat in range(1, voters + 1):
        for article_id, provider in rng.sample(articles, votes):
            rows.append(
                (
                    chat,
                    article_id,
                    chat,
                    rng.choice((1, 1, -1)),
                    provider,
                    ",".join(map(str, topics.get(article_id, []))),
                    to_db_time(now - timedelta(days=rng.uniform(0, 29))),
                )
            )
    with db.atomic():
        db.conn.executemany(
            "INSERT OR IGNORE INTO story_votes (chat_id, article_id, user_id, value, "
            "provider_key, topic_ids, voted_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    db.close()


def tick(path: Path, now: datetime) -> tuple[int, float, float]:
    db = open_db(path)
    started, cpu = time.perf_counter(), time.process_time()
    queued = run_digest_tick(db, now)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    db.close()
    return queued, seconds, cpu


def assembly(path: Path, now: datetime, readers: int) -> tuple[float, float]:
    """µs per reader assembling every reader's digest: plain, and with their weights."""
    db = open_db(path)
    pool = DigestPool(candidates_since(db, now - timedelta(days=2)), now)
    topic_rows = db.execute("SELECT chat_id, topic_id FROM reader_topics").fetchall()
    chosen: dict[int, set[int]] = {}
    for chat, t in topic_rows:
        chosen.setdefault(chat, set()).add(t)
    chats = list(range(1, readers + 1))
    weights = weights_among(db, chats, now)
    db.close()
    since = now - timedelta(days=2)
    times = []
    for use in (False, True):
        started = time.perf_counter()
        for chat in chats:
            pool.assemble(
                frozenset(chosen.get(chat, ())), since, weights=weights.get(chat) if use else None
            )
        times.append((time.perf_counter() - started) / readers * 1e6)
    return times[0], times[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--articles", type=int, default=2_000)
    parser.add_argument("--topics", type=int, default=40)
    parser.add_argument("--voters", type=float, default=0.2, help="share of readers who vote")
    parser.add_argument("--votes", type=int, default=20, help="votes per voter")
    args = parser.parse_args()
    print(describe_machine())
    now = datetime(2026, 11, 26, 8, 0, 30, tzinfo=UTC)
    voters = int(args.readers * args.voters)
    with tempfile.TemporaryDirectory() as tmp:
        plain, voted = Path(tmp) / "plain.db", Path(tmp) / "voted.db"
        build(plain, args.readers, args.articles, args.topics, now)
        shutil.copy(plain, voted)
        add_votes(voted, voters, args.votes, now)
        per_reader = assembly(voted, now, args.readers)
        rows = []
        for name, path in (("no votes", plain), (f"{voters:,} voters", voted)):
            queued, seconds, cpu = tick(path, now)
            rows.append(
                [name, f"{queued:,}", f"{seconds:.2f}", f"{cpu:.2f}",
                 f"{seconds / args.readers * 1e6:.0f}"]
            )  # fmt: skip
    print(f"{args.readers:,} readers, {args.articles:,} articles, {args.votes} votes per voter")
    print(table(["tick", "digests", "tick s", "CPU s", "µs/reader"], rows))
    print(
        f"assembly alone: {per_reader[0]:.1f} µs/reader without weights, "
        f"{per_reader[1]:.1f} µs/reader with every voter's weights (target: <= 30)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
