"""Near-duplicate clustering benchmark: a day of syndicated wire copy.

Usage::

    python bench/cluster.py [--articles 50000] [--templates 300] [--big 100000]
                            [--runs 3] [--skip-db]

Generates ``--articles`` articles whose titles repeat ``--templates`` wire headlines,
as syndicated copy does: verbatim, with an outlet's tag or suffix ("UPDATE 2-",
"- Reuters"), with a figure or a name changed (many of those are near misses, not
matches: the hard case for title matching), with a word swapped, or rewritten. Then
reports, as medians over ``--runs`` runs:

(a) ``cluster_stories`` over the titles, and the ``DigestPool`` build;
(b) the pool at ``--big`` articles, in a fresh process (its time and peak RSS);
(c) with the articles in a SQLite file (all ingested in the last 24 h): reading the
    candidates; the pool rebuild a scan that stored something triggers (on the pool
    cache's own thread); ``/digest`` as a reader waits for it - the update through the
    real handlers of an Application (``tests.chat.harness``, an offline Bot API) until
    the digest rows are in the outbox - with the kept pool, and right after a change
    (it waits for a build); the same before the cache (``queue_digest_now`` building a
    pool per /digest); and ``newsdigest preview --since 24h`` as a command (a fresh
    process on that file, an empty articles folder).

Targets: (c) preview <= 3 s and /digest <= 0.5 s at 50,000; (b) <= 5 s and <= 500 MB at
100,000. This is a script, not a test: timings depend on the machine, so nothing here
asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Runnable as a plain script from a checkout. This folder holds digest.py, which would
# shadow the digest package if the folder stayed first on sys.path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

# PTB 22 warns on every RetryAfter unless it may hand out timedeltas (as in the tests).
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bench._common import PROVIDERS, TOPICS, cpu_model  # noqa: E402
from bot.delivery.pool_cache import build_pool  # noqa: E402
from digest.cluster import cluster_stories  # noqa: E402
from digest.model import Article, Candidate, Provider, RelatedLink  # noqa: E402
from digest.urls import normalize_url  # noqa: E402

_SYLLABLES = [a + b for a in "kmnrstvbdgl" for b in "aeiou"]
_TAGS = ["UPDATE 1-", "UPDATE 2-", "UPDATE 3-", "WRAPUP 1-", "BREAKING:", "EXCLUSIVE-"]
_SUFFIXES = ["- Reuters", "| AP News", "(AFP)", "- Bloomberg", "| DW", "- live updates"]
_NOW = datetime(2025, 6, 14, 12, 0, tzinfo=UTC)


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


class WireDesk:
    """Headline templates and the variants outlets make of them."""

    def __init__(self, templates: int, seed: int) -> None:
        rng = random.Random(seed)
        words = _vocabulary(rng, 6000)
        self.common = words[:400]  # newsroom words many templates share
        self.names = words[400:1400]  # companies, people, places: slot values
        self.rare = words[1400:]
        self.templates: list[list[str]] = []
        self.topics: list[tuple[str, ...]] = []
        for _ in range(templates):
            size = rng.randint(6, 12)
            pick = [self.common if rng.random() < 0.6 else self.rare for _ in range(size)]
            self.templates.append([rng.choice(group) for group in pick])
            self.topics.append(tuple(rng.sample(TOPICS, rng.randint(1, 3))))

    def headline(self, rng: random.Random) -> tuple[int, str]:
        """(template index, a headline made from it)."""
        index = rng.randrange(len(self.templates))
        tokens = list(self.templates[index])
        roll = rng.random()
        if roll < 0.30:
            pass  # verbatim
        elif roll < 0.45:
            if rng.random() < 0.5:
                tokens = [*rng.choice(_TAGS).split(), *tokens]
            else:
                tokens = [*tokens, *rng.choice(_SUFFIXES).split()]
        elif roll < 0.75:
            # A figure or a name changes: "X shares rise 4%" / "Y shares rise 7%".
            for _ in range(rng.randint(1, 2)):
                value = (
                    f"{rng.randrange(100)}.{rng.randrange(10)}%"
                    if rng.random() < 0.5
                    else rng.choice(self.names)
                )
                tokens.insert(rng.randrange(len(tokens) + 1), value)
        elif roll < 0.90:
            tokens[rng.randrange(len(tokens))] = rng.choice(self.common)
        else:
            # Rewritten: another story on the same subject.
            for _ in range(3):
                tokens[rng.randrange(len(tokens))] = rng.choice(self.rare)
        return index, " ".join(tokens).capitalize()


def make_wire(n: int, templates: int, seed: int = 5) -> list[Article]:
    """``n`` articles of wire copy, published over the last day."""
    rng = random.Random(seed)
    desk = WireDesk(templates, seed)
    first_url: dict[int, str] = {}
    articles: list[Article] = []
    for i in range(n):
        index, title = desk.headline(rng)
        name, domain = rng.choice(PROVIDERS)
        url = f"https://www.{domain}/wire/{i}"
        related = ()
        if index in first_url and rng.random() < 0.05:
            related = (first_url[index],)  # an outlet links the story's first report
        first_url.setdefault(index, url)
        articles.append(
            Article(
                url=normalize_url(url),
                web_url=url,
                title=title,
                published_at=_NOW - timedelta(minutes=rng.randrange(24 * 60)),
                excerpt=title + ". " + " ".join(rng.choices(desk.common, k=20)),
                quality=None if rng.random() < 0.1 else rng.randrange(101),
                heat=None if rng.random() < 0.3 else rng.randrange(500),
                provider=Provider(name, domain),
                topics=desk.topics[index],
                related=tuple(_link(u) for u in related),
            )
        )
    return articles


def _link(url: str) -> RelatedLink:
    return RelatedLink(title="First report", url=normalize_url(url), web_url=url)


def as_candidates(articles: Sequence[Article], now: datetime = _NOW) -> list[Candidate]:
    topic_ids = {name: i for i, name in enumerate(TOPICS)}
    ticks = [now - timedelta(minutes=15 * k) for k in range(96)]
    rng = random.Random(3)
    return [
        Candidate(
            id=i,
            url=a.url,
            web_url=a.web_url,
            title=a.title,
            published_at=a.published_at,
            ingested_at=max(a.published_at, rng.choice(ticks)),
            excerpt=a.excerpt,
            provider=a.provider.name if a.provider else "",
            quality=a.quality,
            heat=a.heat,
            topic_ids=frozenset(topic_ids[t] for t in a.topics),
            related_urls=frozenset(link.url for link in a.related),
        )
        for i, a in enumerate(articles)
    ]


def median_time(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
        del result
    return statistics.median(times)


def peak_rss_mb() -> float:
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def verdict(value: float, target: float) -> str:
    return f"(target <= {target:g}: {'ok' if value <= target else 'MISSED'})"


def pool_only(n: int, templates: int, runs: int) -> None:
    """Child mode for (b): build the pool and print its time and this process's peak."""
    cands = as_candidates(make_wire(n, templates))
    base = peak_rss_mb()
    seconds = median_time(lambda: build_pool(cands, _NOW, max_age=None), runs)
    print(f"{seconds:.4f} {peak_rss_mb():.1f} {base:.1f}")


def build_db(path: Path, articles: Sequence[Article], now: datetime) -> None:
    from storage.articles import article_rows, save_article_rows
    from storage.db import open_db

    db = open_db(path)
    try:
        # In 96 scans over the last day, as the running bot would have stored them.
        per_scan = max(1, len(articles) // 96)
        for k, start in enumerate(range(0, len(articles), per_scan)):
            part = articles[start : start + per_scan]
            rows = [article_rows(a, f"/bench/wire/{start + j}.md") for j, a in enumerate(part)]
            at = now - timedelta(hours=23.5) + timedelta(minutes=14.5 * k)
            save_article_rows(db, rows, min(at, now - timedelta(seconds=1)))
        db.execute("PRAGMA optimize")
    finally:
        db.close()


def db_measures(path: Path, work: Path, runs: int) -> list[tuple[str, float, float | None]]:
    """(c): the store read, the pool build, and /digest as a reader waits for it."""
    return asyncio.run(_db_measures(path, work, runs))


async def _db_measures(path: Path, work: Path, runs: int) -> list[tuple[str, float, float | None]]:
    from bot.delivery.digest_queue import queue_digest_now
    from storage.articles import candidates_since
    from storage.db import open_db, utcnow
    from storage.readers import get_reader
    from tests.chat.harness import offline_app

    db = open_db(path)
    rows: list[tuple[str, float, float | None]] = []
    try:
        since = utcnow() - timedelta(hours=24)
        read = median_time(lambda: candidates_since(db, since), runs)
        rows.append(("read candidates (candidates_since)", read, None))

        def forget() -> None:
            # The same readers again tomorrow: forget what the last digest marked.
            db.execute("DELETE FROM outbox")
            db.execute("DELETE FROM deliveries")
            db.execute("UPDATE readers SET digest_since = NULL, last_digest_at = NULL")
            db.conn.commit()

        async for app in offline_app(path, work):
            rows += await _digest_measures(app, db, runs, forget)

        def rebuilt_per_digest() -> None:
            reader = get_reader(db, 1)
            assert reader is not None
            assert queue_digest_now(db, reader, utcnow()).queued, "the reader got no digest"
            forget()

        took = median_time(rebuilt_per_digest, runs)
        rows.append(("(before: a pool built per /digest)", took, None))
    finally:
        db.close()
    return rows


async def _digest_measures(
    app: Any, db: Any, runs: int, forget: Callable[[], None]
) -> list[tuple[str, float, float | None]]:
    """The pool rebuild and /digest through the handlers of ``app`` (an offline Application)."""
    from storage.db import utcnow

    rows: list[tuple[str, float, float | None]] = []
    pools = app.services.pools
    assert pools is not None
    readers = ((1, "all topics", ()), (2, "3 topics", (1, 2, 3)))
    for chat_id, _, topics in readers:
        await app.send(chat_id, "/start")
        db.conn.executemany(
            "INSERT OR IGNORE INTO reader_topics (chat_id, topic_id) VALUES (?, ?)",
            [(chat_id, t) for t in topics],
        )
        db.conn.commit()

    async def digest(chat_id: int) -> float:
        """Seconds from the update arriving to the digest rows in the outbox."""
        started = time.perf_counter()
        await app.send(chat_id, "/digest")
        took = time.perf_counter() - started
        queued = db.execute("SELECT count(*) FROM outbox WHERE chat_id = ?", (chat_id,))
        assert queued.fetchone()[0], "the reader got no digest"
        forget()
        return took

    async def median_of(action: Callable[[], Awaitable[float]]) -> float:
        return statistics.median([await action() for _ in range(runs)])

    # What each scan that stores articles does, off the answers' thread.
    async def rebuild() -> float:
        db.execute("UPDATE articles SET heat = heat WHERE id = 1")  # a change
        db.conn.commit()
        started = time.perf_counter()
        await pools.refresh(utcnow())
        return time.perf_counter() - started

    rows.append(("pool rebuild after a scan (off-thread)", await median_of(rebuild), None))
    for chat_id, label, _ in readers:
        took = await median_of(lambda c=chat_id: digest(c))
        rows.append((f"/digest, {label}, kept pool", took, 0.5))

    async def cold(chat_id: int) -> float:
        db.execute("UPDATE articles SET heat = heat WHERE id = 1")
        db.conn.commit()
        return await digest(chat_id)

    took = await median_of(lambda: cold(1))
    rows.append(("/digest right after a change (waits a build)", took, None))
    return rows


def preview_seconds(path: Path, work: Path, runs: int) -> float:
    empty = work / "articles"
    empty.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "NEWSDIGEST_DB": str(path),
        "NEWSDIGEST_ARTICLES": str(empty),
        "PYTHONPATH": str(_HERE.parent),
    }
    command = [sys.executable, "-m", "bot", "preview", "--since", "24h"]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=work)
        times.append(time.perf_counter() - started)
        if done.returncode != 0 or "Digest preview" not in done.stdout:
            raise SystemExit(f"preview failed ({done.returncode}): {done.stderr[-2000:]}")
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--templates", type=int, default=300)
    parser.add_argument("--big", type=int, default=100_000, help="articles for (b); 0 skips")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-db", action="store_true", help="skip (c)")
    parser.add_argument("--pool-only", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pool_only:
        pool_only(args.pool_only, args.templates, args.runs)
        return 0

    print(f"machine   {platform.platform()} · {cpu_model()} x {os.cpu_count()} cores")
    print(f"python    {sys.version.split()[0]} ({platform.python_implementation()})")
    print(f"workload  {args.articles:,} wire articles from {args.templates} templates")
    print(f"runs      median of {args.runs}")
    print()

    articles = make_wire(args.articles, args.templates)
    cands = as_candidates(articles)
    clusters = cluster_stories(cands)
    sizes = (
        sorted((clusters.count(c) for c in set(clusters)), reverse=True)
        if len(cands) < 20_000
        else []
    )
    stories = len(set(clusters))
    print(f"stories   {stories:,} (largest {sizes[:3] or '...'})")
    took = median_time(lambda: cluster_stories(cands), args.runs)
    print(f"(a) cluster_stories        {took:8.3f} s")
    took = median_time(lambda: build_pool(cands, _NOW, max_age=None), args.runs)
    print(f"(a) DigestPool build       {took:8.3f} s   peak RSS {peak_rss_mb():.0f} MB")

    if args.big:
        done = subprocess.run(
            [sys.executable, __file__, "--pool-only", str(args.big), "--templates",
             str(args.templates), "--runs", str(args.runs)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        seconds, peak, base = (float(x) for x in done.stdout.split())
        print(
            f"(b) DigestPool, {args.big:,}  {seconds:8.3f} s   {verdict(seconds, 5)}\n"
            f"    peak RSS              {peak:8.0f} MB  {verdict(peak, 500)} "
            f"({base:.0f} MB before the pool: the generated articles)"
        )

    if not args.skip_db:
        with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
            work = Path(tmp)
            path = work / "wire.db"
            started = time.perf_counter()
            build_db(path, articles, datetime.now(UTC))
            print(
                f"(c) database of {len(articles):,} built in {time.perf_counter() - started:.1f} s"
            )
            for label, seconds, target in db_measures(path, work, args.runs):
                note = verdict(seconds, target) if target is not None else ""
                print(f"    {label:<40}{seconds:8.3f} s   {note}")
            seconds = preview_seconds(path, work, args.runs)
            print(
                f"    {'newsdigest preview --since 24h':<40}{seconds:8.3f} s   {verdict(seconds, 3)}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
