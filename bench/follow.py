"""Follow job benchmark: matching new articles to followed stories after a scan.

Usage::

    python bench/follow.py [--stored 30000] [--follows 10000] [--new 1000] [--covered 0.3]

Stores ``--stored`` articles (titles of 6-10 words from a 3,000-word vocabulary, 0-2
related links to earlier articles or shared outside links), subscribes ``--follows``
readers and has each follow a different story (the worst case: no two followers share
the work), then stores ``--new`` articles in one scan, a ``--covered`` share of them
new coverage of a followed story (half linking its lead, half a near-identical title)
and the rest unrelated, and measures, in a fresh SQLite file:

(a) ``run_follow_updates`` when nobody follows anything, after the same ``--new``;
(b) matching the ``--new`` articles (``match_new_articles``) with the follows;
(c) queueing the updates that are due (``queue_due_updates``);
(d) a run with nothing new and nothing due (every scan without news);
(e) following one story (``follow_story``: its coverage found as /related finds it).

Targets: (a) and (d) <= 5 ms; (b) + (c) <= 1 s for 1,000 new articles at 10,000 follows.
This is a script, not a test: timings depend on the machine, so nothing here asserts.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

# Runnable as a plain script from a checkout (this folder holds digest.py).
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench._common import PROVIDERS, describe_machine, table  # noqa: E402
from bot.delivery.follow_updates import (  # noqa: E402
    match_new_articles,
    queue_due_updates,
    run_follow_updates,
)
from digest.model import Article, Provider, RelatedLink  # noqa: E402
from storage.articles import save_articles  # noqa: E402
from storage.db import open_db  # noqa: E402
from storage.follows import follow_story  # noqa: E402
from storage.readers import UTC_ZONE  # noqa: E402
from storage.subscriptions import subscribe  # noqa: E402
from tests.factories import NOW  # noqa: E402

WORDS = [f"w{n:04d}" for n in range(3000)]


def _title(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(6, 10)))


def _article(n: int, title: str, related: list[str], at_hours: float) -> Article:
    name, domain = PROVIDERS[n % len(PROVIDERS)]
    return Article(
        url=f"https://{domain}/story-{n}",
        web_url=f"https://{domain}/story-{n}",
        title=title,
        published_at=NOW - timedelta(hours=at_hours),
        provider=Provider(name, domain),
        related=tuple(RelatedLink(f"Link {u}", u, u) for u in related),
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--stored", type=int, default=30_000)
    parser.add_argument("--follows", type=int, default=10_000)
    parser.add_argument("--new", type=int, default=1_000)
    parser.add_argument("--covered", type=float, default=0.3)
    args = parser.parse_args(argv)
    rng = random.Random(12)
    print(describe_machine())
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "bench.db")
        stored: list[Article] = []
        for n in range(args.stored):
            related = []
            if n and rng.random() < 0.3:
                related.append(stored[rng.randrange(n)].url)
            if rng.random() < 0.2:
                related.append(f"https://explainer.example/{rng.randrange(500)}")
            stored.append(_article(n, _title(rng), related, 48))
        started = time.perf_counter()
        save_articles(
            db, [(a, f"/a/{n}.md") for n, a in enumerate(stored)], NOW - timedelta(days=1)
        )
        print(f"stored {args.stored} articles in {time.perf_counter() - started:.1f} s")
        run_follow_updates(db, NOW)  # the mark: what is stored now is nobody's news
        ids = {url: i for i, url in db.execute("SELECT id, url FROM articles")}
        leads = rng.sample(stored, args.follows)

        def new_batch(offset: int) -> list[Article]:
            batch: list[Article] = []
            for k in range(args.new):
                n = offset + k
                if rng.random() < args.covered:
                    lead = rng.choice(leads)
                    if k % 2:
                        batch.append(_article(n, _title(rng), [lead.url], 1))
                    else:
                        batch.append(_article(n, lead.title + " update", [], 1))
                else:
                    batch.append(_article(n, _title(rng), [], 1))
            return batch

        # (a) nobody follows: the job only moves its mark.
        save_articles(db, [(a, f"/n/{a.url}.md") for a in new_batch(10**6)], NOW)
        started = time.perf_counter()
        run_follow_updates(db, NOW)
        cheap = time.perf_counter() - started

        # (e) the follows, each by its own reader.
        timings: list[float] = []
        for chat_id, lead in enumerate(leads, 1):
            subscribe(db, chat_id, user_id=chat_id, first_name="R", username=None,
                      default_time=NOW.time(), default_zone=UTC_ZONE, now=NOW)  # fmt: skip
            started = time.perf_counter()
            follow_story(db, chat_id, ids[lead.url], NOW)
            timings.append(time.perf_counter() - started)
        members = db.execute("SELECT count(*) FROM follow_members").fetchone()[0]
        words = db.execute("SELECT count(*) FROM follow_words").fetchone()[0]

        # (b), (c): one scan's new articles.
        save_articles(db, [(a, f"/m/{a.url}.md") for a in new_batch(2 * 10**6)], NOW)
        started = time.perf_counter()
        added = match_new_articles(db, NOW + timedelta(minutes=1))
        matching = time.perf_counter() - started
        started = time.perf_counter()
        queued = queue_due_updates(db, NOW + timedelta(minutes=1))
        queueing = time.perf_counter() - started

        # (d) nothing new, nothing due.
        idle: list[float] = []
        for _ in range(20):
            started = time.perf_counter()
            run_follow_updates(db, NOW + timedelta(minutes=2))
            idle.append(time.perf_counter() - started)
        db.close()
    print(
        f"{args.follows} follows ({members} known members, {words} title-word rows); "
        f"{args.new} new articles, {args.covered:.0%} of them coverage of a followed story"
    )
    rows = [
        ("(a) job, nobody follows", _ms(cheap), "<= 5 ms"),
        ("(b) match the new articles", f"{_ms(matching)} ({added} new members)", "(b)+(c) <= 1 s"),
        ("(c) queue due updates", f"{_ms(queueing)} ({queued} messages)", ""),
        ("(d) job, nothing new (median of 20)", _ms(statistics.median(idle)), "<= 5 ms"),
        ("(e) follow one story (median)", _ms(statistics.median(timings)), ""),
    ]
    print(table(["step", "time", "target"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
