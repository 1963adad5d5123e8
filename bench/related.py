"""/related benchmark: lookups over a large article store, and the bot's reply latency.

Usage::

    python bench/related.py [--articles 100000] [--lookups 500] [--e2e 200] [--keep DB]
    python bench/related.py --reuse DB [--lookups 500] [--e2e 200]

Generates ``--articles`` seed-like articles (titles, excerpts and bodies from a Zipf-
weighted vocabulary of stop words, ~250 news words and a long tail of names; 1-4 of 40
topics; a quarter of them further coverage of an earlier story, with a near-duplicate
title and related links to the story's other articles and to shared outside links; 0-3
related links each) straight into a fresh SQLite file with ``save_article_rows`` in
batches, then reports p50/p95/p99 over ``--lookups`` lookups each of
``bot.related.find_related``:

(a) by the webUrl of a stored article (its related list, the same story, near titles);
(b) by 2-3 common words (a full-text search matching thousands of articles);
(c) by 1-2 rare words (a handful of matches);

(``--reuse DB`` measures a database kept by an earlier ``--keep`` run instead of
building one: 500,000 articles take minutes to write. Its queries come from a sample
of the stored articles.)

with a breakdown of the steps of (a) and of the full-text search, and
(d) end to end: the real Application (``tests.e2e.harness.running_bot``) against the
in-process Bot API stand-in, on the same database and an empty articles folder; one
reader sends ``/related <words or link>`` ``--e2e`` times (after 10 unmeasured warm-up
commands), each awaited; latency is from ``send_text`` to the reply's ``sent_at``.

Targets: p95 <= 20 ms for (a)-(c), p95 <= 100 ms for (d).
This is a script, not a test: timings depend on the machine, so nothing here asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Runnable as a plain script from a checkout. This folder holds digest.py, which would
# shadow the digest package if the folder stayed first on sys.path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench._common import PROVIDERS, TOPICS, cpu_model, table  # noqa: E402

# PTB 22 warns on every RetryAfter unless it may hand out timedeltas (as in the tests).
os.environ.setdefault("PTB_TIMEDELTA", "true")

from sqlite_utils import Database  # noqa: E402

from bot.chat.related import find_related  # noqa: E402
from digest.cluster import titles_match  # noqa: E402
from storage.articles import article_by_url, article_rows, articles_by_ids, save_article_rows  # noqa: E402  # noqa: E402
from storage.db import open_db  # noqa: E402
from storage.search import (  # noqa: E402
    _ranked,
    frontmatter_related,
    fts_query,
    linked_articles,
    search,
    title_matches,
)
from tests.factories import Related, article  # noqa: E402

STOP_WORDS = [
    "the", "of", "in", "to", "a", "and", "for", "on", "with", "at", "by", "from", "as", "is",
    "after", "over", "new", "its", "their", "are", "was", "has", "that", "this", "into",
    "about", "than", "more", "will", "be", "not", "but", "who"
]  # fmt: skip
# Real headline vocabulary, most frequent first (weights follow the order).
NEWS_WORDS = [
    "government", "minister", "election", "vote", "police", "court", "report", "security",
    "data", "privacy", "climate", "energy", "market", "prices", "inflation", "bank", "rates",
    "tech", "company", "companies", "workers", "strike", "union", "european", "parliament",
    "commission", "president", "china", "russia", "ukraine", "war", "talks", "deal", "trade",
    "tariffs", "border", "migration", "asylum", "health", "hospital", "vaccine", "virus",
    "study", "scientists", "research", "space", "launch", "mission", "rocket", "satellite",
    "ai", "artificial", "intelligence", "model", "chips", "chip", "semiconductor", "cloud",
    "software", "open", "source", "cyber", "attack", "hackers", "ransomware", "breach", "law",
    "ban", "rules", "regulators", "regulation", "fine", "lawsuit", "judge", "ruling", "supreme",
    "city", "mayor", "housing", "rent", "schools", "students", "teachers", "education",
    "university", "football", "league", "cup", "final", "match", "team", "coach", "tennis",
    "champion", "film", "music", "festival", "album", "award", "book", "author",
    "museum", "art", "oil", "gas", "power", "grid", "solar", "wind", "nuclear", "plant",
    "emissions", "carbon", "drought", "flood", "storm", "heat", "wildfire", "ocean", "species",
    "forest", "farmers", "crops", "food", "water", "shortage", "crisis", "plan", "budget",
    "tax", "spending", "debt", "growth", "jobs", "unemployment", "economy", "recession",
    "investors", "shares", "stocks", "crypto", "bitcoin", "exchange", "startup", "funding",
    "billion", "million", "record", "year", "week", "day", "facial", "recognition", "cameras",
    "surveillance", "public", "spaces", "rights", "activists", "protest", "protesters",
    "leaders", "summit", "meeting", "agreement", "sanctions", "military", "troops", "defence",
    "ministry", "officials", "state", "federal", "national", "local", "global", "world",
    "first", "last", "biggest", "says", "warns", "calls", "plans", "faces",
    "wins", "loses", "backs", "rejects", "approves", "delays", "launches", "cuts", "raises",
    "hits", "drops", "rises", "falls", "opens", "closes", "signs"
]  # fmt: skip
TAIL_SIZE = 40_000  # names, places and jargon: most appear in a few articles only
_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"] + ["ch", "sh", "th", "qu"]


@dataclass
class Corpus:
    """What the generator made, for choosing queries afterwards."""

    web_urls: list[str] = field(default_factory=list)  # as a user would paste them
    in_story: list[bool] = field(default_factory=list)  # covered by more than one article
    doc_freq: Counter[str] = field(default_factory=Counter)
    common: list[str] = field(default_factory=list)


class Words:
    """One Zipf-weighted draw over stop words, news words and the long tail."""

    def __init__(self, rng: random.Random) -> None:
        tail: set[str] = set()
        while len(tail) < TAIL_SIZE:
            tail.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
        self.tail = sorted(tail)
        rng.shuffle(self.tail)
        population: list[str] = []
        weights: list[float] = []
        # Shares of all tokens: 30 % stop words, 50 % news words, 20 % tail.
        for words, share, exponent in (
            (STOP_WORDS, 0.30, 0.9),
            (NEWS_WORDS, 0.50, 0.8),
            (self.tail, 0.20, 1.0),
        ):
            raw = [1.0 / (rank + 1) ** exponent for rank in range(len(words))]
            total = sum(raw)
            population += words
            weights += [share * w / total for w in raw]
        self.population = population
        self.cum_weights = list(itertools.accumulate(weights))

    def draw(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.population, cum_weights=self.cum_weights, k=k)


def _sentence(words: Words, rng: random.Random, low: int, high: int) -> str:
    tokens = words.draw(rng, rng.randint(low, high))
    return " ".join(tokens).capitalize()


def _near_duplicate(title: str, words: Words, rng: random.Random) -> str:
    """Another outlet's headline for the same story: a word swapped, a prefix, a suffix."""
    tokens = title.split()
    roll = rng.random()
    if roll < 0.4 and len(tokens) > 3:
        tokens[rng.randrange(1, len(tokens))] = words.draw(rng, 1)[0]
    elif roll < 0.6:
        tokens = ["Breaking", "news.", *tokens]
    elif roll < 0.8:
        tokens += ["-", rng.choice(PROVIDERS)[0]]
    return " ".join(tokens)


def _body(words: Words, rng: random.Random) -> str:
    # Like the seed pipeline: most files carry no or a short body, one in twenty a long read.
    roll = rng.random()
    if roll < 0.05:
        return "\n\n".join(_sentence(words, rng, 60, 120) + "." for _ in range(rng.randint(10, 40)))
    if roll < 0.5:
        return _sentence(words, rng, 20, 60) + "."
    return ""


@dataclass
class _Story:
    title: str
    topics: tuple[str, ...]
    urls: list[str]  # web URLs of its stored articles
    outside: list[str]  # outside coverage every article of the story may link


def build(path: Path, n: int, seed: int = 7, batch: int = 2_000) -> tuple[Corpus, float]:
    """Generate ``n`` articles into a fresh database; (corpus, seconds spent writing)."""
    rng = random.Random(seed)
    words = Words(rng)
    corpus = Corpus(common=[w for w in NEWS_WORDS[:40]])
    db = open_db(path)
    stories: list[_Story] = []
    popular_outside = [f"https://popular.example/explainer/{i}" for i in range(200)]
    base = datetime(2026, 5, 1, tzinfo=UTC)
    pending: list[Any] = []
    write_seconds = 0.0
    for index in range(n):
        name, domain = rng.choice(PROVIDERS)
        story = (
            stories[rng.randrange(max(0, len(stories) - 500), len(stories))]
            if (stories and rng.random() < 0.25)
            else None
        )
        if story is not None and len(story.urls) < 8:
            title = _near_duplicate(story.title, words, rng)
            topics = story.topics
        else:
            story = None
            title = _sentence(words, rng, 6, 12)
            topics = tuple(rng.sample(TOPICS, rng.randint(1, 4)))
        slug = "-".join(title.lower().split()[:8])
        web_url = f"https://www.{domain}/{2026}/{index % 28 + 1:02d}/{slug}-{index}"
        related: list[Related] = []
        links: list[tuple[str, str]] = []  # (url, title)
        if story is not None:
            links += [(u, story.title) for u in rng.sample(story.urls, min(2, len(story.urls)))]
            links += [(u, story.title) for u in story.outside[: rng.randint(0, 1)]]
        for _ in range(rng.randint(0, 3) - len(links)):
            if rng.random() < 0.15:
                links.append((rng.choice(popular_outside), "An explainer"))
            else:
                r_domain = rng.choice(PROVIDERS)[1]
                links.append((f"https://{r_domain}/story/{index}-{rng.randrange(10**6)}", title))
        for r_url, r_title in links[:3]:
            r_name, r_domain = rng.choice(PROVIDERS)
            related.append(
                Related(
                    _near_duplicate(r_title, words, rng),
                    r_url,
                    provider=(r_name, r_domain),
                    quality=rng.randint(0, 100),
                )
            )
        excerpt = _sentence(words, rng, 20, 40) + "."
        body = _body(words, rng)
        story_article = article(
            title,
            web_url,
            topics,
            published=base + timedelta(minutes=rng.randrange(60 * 24 * 30)),
            excerpt=excerpt,
            original_url=web_url,
            quality=rng.randint(0, 100),
            is_published=False,
            provider=(name, domain),
            related=related,
            category="news",
            kind="article",
            body=body,
        )
        pending.append(article_rows(story_article, f"/bench/articles/{index:06d}.md"))
        corpus.web_urls.append(web_url)
        corpus.doc_freq.update(set(f"{title} {excerpt} {body}".lower().split()))
        if story is None:
            story = _Story(title, topics, [], [f"https://outside.example/{index}"])
            stories.append(story)
        story.urls.append(web_url)
        if len(pending) >= batch or index == n - 1:
            started = time.perf_counter()
            save_article_rows(db, pending, base + timedelta(seconds=index))
            write_seconds += time.perf_counter() - started
            pending = []
    url_story = {u: len(s.urls) > 1 for s in stories for u in s.urls}
    corpus.in_story = [url_story[u] for u in corpus.web_urls]
    db.execute("PRAGMA optimize")
    db.close()
    return corpus, write_seconds


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------
def corpus_of(path: Path, seed: int, sample: int = 20_000) -> Corpus:
    """Queries for a database built earlier (``--reuse``): the generator's news words, and
    stored URLs and title words of a sample of its articles (their frequencies counted
    in that sample, which is what picking rare words needs)."""
    db = open_db(path, migrate=False)
    try:
        newest = int(db.execute("SELECT max(id) FROM articles").fetchone()[0])
        rng = random.Random(seed)
        ids = sorted(rng.sample(range(1, newest + 1), min(sample, newest)))
        corpus = Corpus(common=list(NEWS_WORDS[:40]))
        for chunk in range(0, len(ids), 900):
            part = ids[chunk : chunk + 900]
            for web_url, title, excerpt in db.execute(
                f"SELECT web_url, title, excerpt FROM articles WHERE id IN "
                f"({','.join('?' * len(part))})",
                part,
            ):
                corpus.web_urls.append(web_url)
                corpus.doc_freq.update(set(f"{title} {excerpt}".lower().split()))
        corpus.in_story = [False] * len(corpus.web_urls)
    finally:
        db.close()
    return corpus


def percentiles(samples_ms: Sequence[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def common_query(corpus: Corpus, rng: random.Random) -> str:
    return " ".join(rng.sample(corpus.common, rng.randint(2, 3)))


def rare_words(corpus: Corpus) -> list[str]:
    """The corpus's rarest words: in at most 5 articles, or (a large store, where even the
    long tail recurs) the rarest 1,000. A fixed "at most 5" found none at 500,000."""
    ranked = sorted((df, w) for w, df in corpus.doc_freq.items() if w.isalpha())
    rare = [w for df, w in ranked if df <= 5]
    return sorted(rare if len(rare) >= 100 else [w for _, w in ranked[:1000]])


def rare_queries(corpus: Corpus, rng: random.Random, count: int) -> list[str]:
    rare = rare_words(corpus)
    return [" ".join(rng.sample(rare, rng.randint(1, 2))) for _ in range(count)]


@dataclass
class Series:
    label: str
    samples: list[float] = field(default_factory=list)  # ms
    found: int = 0

    def row(self, target: float) -> list[object]:
        p50, p95, p99 = percentiles(self.samples)
        verdict = "ok" if p95 <= target else "MISSED"
        return [
            self.label, len(self.samples), f"{p50:.2f}", f"{p95:.2f}", f"{p99:.2f}",
            f"{max(self.samples):.1f}", f"{self.found}/{len(self.samples)}",
            f"{target:g} ({verdict})",
        ]  # fmt: skip


def timed_lookups(db: Database, label: str, queries: Sequence[str]) -> Series:
    series = Series(label)
    for query in queries:
        started = time.perf_counter()
        result = find_related(db, query)
        series.samples.append((time.perf_counter() - started) * 1000)
        series.found += bool(result.found and result.items)
    return series


def step_breakdown(db: Database, urls: Sequence[str], words: Sequence[str]) -> list[list[object]]:
    """The storage calls behind (a) and the full-text search, timed one by one."""
    steps: dict[str, list[float]] = {}

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        value = fn()
        steps.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        return value

    for url in urls:
        article = timed("(a) article_by_url", lambda u=url: article_by_url(db, u))
        if article is None:
            continue
        timed("(a) frontmatter_related", lambda a=article: frontmatter_related(db, a.id))
        timed("(a) linked_articles", lambda a=article: linked_articles(db, a))
        ids = timed("(a) title_matches (FTS, title OR)", lambda a=article: title_matches(db, a))
        found = timed("(a) articles_by_ids", lambda i=ids: articles_by_ids(db, i))
        timed(
            "(a) titles_match (Python)",
            lambda f=found, a=article: [c for c in f if titles_match(c.title, a.title)],
        )
    for text in words:
        for any_word in (False, True):
            query = fts_query(text, any_word=any_word)
            kind = "OR" if any_word else "AND"
            timed(
                f"(b) FTS {kind} ranked (storage.search._ranked)",
                lambda q=query: _ranked(db, q, 15, None),
            )
            timed(
                f"(b) FTS {kind} newest 16 rowids, unranked",
                lambda q=query: db.execute(
                    "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? "
                    "ORDER BY rowid DESC LIMIT 16",
                    (q,),
                ).fetchall(),
            )
            timed(
                f"(b) FTS {kind} match count",
                lambda q=query: db.execute(
                    "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?", (q,)
                ).fetchone(),
            )
        timed("(b) search() total", lambda t=text: search(db, t, limit=15))
    rows: list[list[object]] = []
    for name, samples in steps.items():
        p50, p95, _ = percentiles(samples) if len(samples) > 1 else (samples[0],) * 3
        rows.append([name, len(samples), f"{p50:.2f}", f"{p95:.2f}"])
    return rows


def match_counts(db: Database, queries: Sequence[str]) -> tuple[float, int]:
    """Median and largest number of articles the AND query of each matches."""
    counts = [
        int(
            db.execute(
                "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?",
                (fts_query(q),),
            ).fetchone()[0]
        )
        for q in queries
    ]
    return statistics.median(counts), max(counts)


async def end_to_end(
    db_path: Path, work: Path, commands: Sequence[tuple[str, str]], warmup: int = 10
) -> dict[str, Series]:
    """The real bot against the in-process stand-in: /related from one reader, awaited."""
    from tests.botapi import FakeBotApi
    from tests.e2e.harness import make_settings, running_bot

    empty = work / "empty-articles"
    empty.mkdir(exist_ok=True)
    uid = 4242
    series: dict[str, Series] = {}
    async with FakeBotApi() as api:
        api.add_user(uid, "Bench")
        settings = make_settings(api, work, db_path=db_path, articles_dir=empty, scan_interval=60.0)
        async with running_bot(settings):
            await api.send_text(uid, "/start")
            await api.wait_for_message(uid, timeout=30)
            for i, (kind, text) in enumerate(commands):
                started = time.monotonic()
                await api.send_text(uid, text)
                # The first part of the answer: later parts of a long list start with "•".
                reply = await api.wait_for_message(
                    uid, lambda m: not m.plain_text.startswith("•"), timeout=30
                )
                if i < warmup:
                    continue
                entry = series.setdefault(kind, Series(kind))
                entry.samples.append((reply.sent_at - started) * 1000)
                entry.found += reply.plain_text.startswith("Related coverage")
    return series


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=500, help="per kind, (a)-(c)")
    parser.add_argument("--e2e", type=int, default=200, help="measured /related commands")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="build the database here and keep it")
    parser.add_argument("--reuse", type=Path, help="measure a database built with --keep")
    args = parser.parse_args(argv)
    if args.lookups < 2 or args.e2e < 2:
        parser.error("--lookups and --e2e need at least 2 samples for percentiles")

    print(
        f"machine: {platform.platform()} · {cpu_model()} · {os.cpu_count()} cores · "
        f"Python {platform.python_version()} · SQLite {sqlite3.sqlite_version}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-related-") as tmp:
        work = Path(tmp)
        if args.reuse:
            db_path = args.reuse
            open_db(db_path).close()  # this checkout's migrations, once
            corpus = corpus_of(db_path, args.seed)
            size_mb = sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*")) / 1e6
            print(f"database: {db_path} reused, {size_mb:.0f} MB")
        else:
            db_path = args.keep or work / "related.db"
            if db_path.exists():
                parser.error(f"{db_path} exists: --keep wants a fresh path")
            started = time.perf_counter()
            corpus, write_seconds = build(db_path, args.articles, seed=args.seed)
            total = time.perf_counter() - started
            size_mb = sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*")) / 1e6
            print(
                f"database: {args.articles:,} articles built in {total:.1f} s "
                f"({write_seconds:.1f} s of it in save_article_rows), {size_mb:.0f} MB"
            )

        rng = random.Random(args.seed + 1)
        stored = rng.sample(range(len(corpus.web_urls)), args.lookups)
        urls = [corpus.web_urls[i] for i in stored]
        common = [common_query(corpus, rng) for _ in range(args.lookups)]
        rare = rare_queries(corpus, rng, args.lookups)
        rare_e2e = iter(rare_queries(corpus, rng, args.e2e + 10))

        db = open_db(db_path, migrate=False)
        # One unmeasured pass over a sample warms SQLite's page cache like a running bot's.
        for query in urls[:50] + common[:50] + rare[:50]:
            find_related(db, query)
        results = [
            timed_lookups(db, "(a) by URL of a stored article", urls),
            timed_lookups(db, "(b) by 2-3 common words", common),
            timed_lookups(db, "(c) by 1-2 rare words", rare),
        ]
        median_matches, max_matches = match_counts(db, common)
        in_story = sum(corpus.in_story[i] for i in stored)
        breakdown = step_breakdown(db, urls[:200], common[:200])
        db.close()

        headers = ["lookup", "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "found", "p95 target"]
        print()
        print(table(headers, [s.row(20.0) for s in results]))
        stories = "unknown (--reuse)" if args.reuse else f"{in_story} of {len(urls)}"
        print(
            f"(a): {stories} URLs belong to a story covered by several articles; "
            f"(b): AND matches per query median {median_matches:.0f}, max {max_matches}"
        )
        print()
        print(table(["step", "n", "p50 ms", "p95 ms"], breakdown))

        kinds = [
            ("words", lambda: f"/related {common_query(corpus, rng)}"),
            ("rare words", lambda: f"/related {next(rare_e2e)}"),
            ("link", lambda: f"/related {rng.choice(corpus.web_urls)}"),
        ]
        commands = [(kinds[i % 3][0], kinds[i % 3][1]()) for i in range(args.e2e + 10)]
        started = time.perf_counter()
        series = asyncio.run(end_to_end(db_path, work, commands))
        e2e_seconds = time.perf_counter() - started
        everything = Series("(d) all /related, end to end")
        for entry in series.values():
            everything.samples += entry.samples
            everything.found += entry.found
        rows = [everything.row(100.0)] + [
            Series(f"    /related <{k}>", s.samples, s.found).row(100.0) for k, s in series.items()
        ]
        print()
        print(table(headers, rows))
        print(f"(d) ran {len(commands)} commands in {e2e_seconds:.1f} s, 10 unmeasured warm-up")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
