"""Digest benchmark: one tick's pool build and every reader's digest assembly.

Usage::

    python bench/digest.py [--readers 100000] [--articles 2000] [--topics 40]
                           [--runs 5] [--no-scaling]

Generates ``--articles`` candidates in stories (most alone, some covered by up to ten
outlets that link each other or carry near-duplicate titles; 1-4 topics each, skewed
topic popularity) and ``--readers`` readers (1-5
topics or all, various "since" windows, some with excluded already-delivered articles),
then reports, as medians over ``--runs`` runs:

* the ``DigestPool`` build time;
* the time to assemble every reader's digest, total and per reader (the digests are kept
  for the run, as a tick that queues them all would);
* peak RSS of the process;
* a scaling table over readers (25k/50k/100k at 2,000 articles) and articles
  (500/2,000/8,000 at 100k readers);
* the time to render 1,000 digests to Telegram HTML.

* keyword filters (issue 11): the same readers, a third of them (``--keyword-share``) with
  10 keywords each (include and exclude words, a phrase among them), against the same
  assembly without keywords on the same run; each run gets a fresh pool, so the pool's
  term index and term cache are built inside the timed assembly.

Targets: <= 3 s (<= 30 us per reader) for 100,000 readers x 2,000 articles, <= 500 MB;
with keywords <= 1.5 x the time without.
This is a script, not a test: timings depend on the machine, so nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

# Runnable as a plain script from a checkout. This file is itself named digest.py and
# Python puts its folder first on sys.path, where it would shadow the digest package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench._common import cpu_model  # noqa: E402
from digest.assemble import Digest, DigestPool  # noqa: E402
from digest.keywords import KeywordFilter, make_term  # noqa: E402
from digest.model import Candidate  # noqa: E402
from digest.render import render_digest  # noqa: E402
from tests.factories import candidate  # noqa: E402

NOW = datetime(2025, 6, 14, 12, 0, tzinfo=UTC)
Reader = tuple[frozenset[int], datetime, frozenset[int]]

_SYLLABLES = [a + b for a in "kmnrstvbdg" for b in "aeiou"]
_PROVIDERS = ["Reuters", "AP", "BBC", "Le Monde", "Der Spiegel", "NHK", "Al Jazeera", "CNN"]


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def make_candidates(n: int, topics: int, seed: int = 1) -> list[Candidate]:
    """Candidates grouped into stories: most alone, some covered by 2-10 outlets."""
    rng = random.Random(seed)
    vocab = _vocabulary(rng, 5000)
    # A few topics are far more popular than the rest, as in real feeds.
    topic_weights = [1.0 / (t + 1) ** 0.8 for t in range(topics)]
    ticks = [NOW - timedelta(minutes=15 * k) for k in range(96)]  # a day of ingests
    stories: list[list[Candidate]] = []
    cands: list[Candidate] = []
    for i in range(n):
        related: set[str] = set()
        if rng.random() < 0.1:
            related.add(f"https://elsewhere.example/{rng.randrange(10**6)}")  # not in the pool
        story = rng.choice(stories) if stories and rng.random() < 0.25 else None
        if story is not None and len(story) < 10:
            first = story[0]
            story_topics = set(first.topic_ids)
            if rng.random() < 0.3:
                story_topics.add(rng.choices(range(topics), topic_weights)[0])
            if rng.random() < 0.5:
                # Another outlet's take on the headline: one word swapped (a near-duplicate
                # title when the headline is long enough).
                words = first.title.split()
                words[rng.randrange(len(words))] = rng.choice(vocab)
                title = " ".join(words)
            else:
                title = " ".join(rng.choice(vocab) for _ in range(rng.randint(6, 12)))
                related.add(rng.choice(story).url)
        else:
            story = []
            stories.append(story)
            title = " ".join(rng.choice(vocab) for _ in range(rng.randint(6, 12)))
            story_topics = set(rng.choices(range(topics), topic_weights, k=rng.randint(1, 4)))
        published = NOW - timedelta(minutes=rng.randrange(48 * 60))
        cand = candidate(
            i,
            title.capitalize(),
            url=f"https://news.example/{i}",
            web_url=f"https://news.example/{i}?utm_source=feed",
            published_at=published,
            ingested_at=max(published, rng.choice(ticks)),
            excerpt=" ".join(rng.choice(vocab) for _ in range(rng.randint(20, 60))),
            provider=rng.choice(_PROVIDERS),
            quality=None if rng.random() < 0.1 else rng.randrange(101),
            heat=None if rng.random() < 0.3 else rng.randrange(500),
            topics=story_topics,
            related=related,
        )
        story.append(cand)
        cands.append(cand)
    return cands


def make_readers(n: int, topics: int, article_ids: Sequence[int], seed: int = 2) -> list[Reader]:
    rng = random.Random(seed)
    windows = [timedelta(hours=h) for h in (1, 6, 12, 24, 24, 24, 48)]
    readers: list[Reader] = []
    for _ in range(n):
        chosen = (
            frozenset()
            if rng.random() < 0.1
            else frozenset(rng.sample(range(topics), rng.randint(1, 5)))
        )
        excluded: frozenset[int] = frozenset()
        if rng.random() < 0.3:
            # Already delivered: some from this pool, some long gone from it.
            excluded = frozenset(rng.sample(article_ids, rng.randint(5, 30))) | frozenset(
                rng.randrange(10**6, 2 * 10**6) for _ in range(rng.randint(0, 20))
            )
        readers.append((chosen, NOW - rng.choice(windows), excluded))
    return readers


def assemble_all(pool: DigestPool, readers: Sequence[Reader]) -> int:
    """Every reader's digest, each dropped once looked at, as a tick that renders and
    queues them one by one does; returns the number of stories shown."""
    shown = 0
    for topics, since, excluded in readers:
        shown += len(pool.assemble(topics, since, excluded).entries)
    return shown


def make_keywords(
    n: int, share: float, cands: Sequence[Candidate], seed: int = 3
) -> list[KeywordFilter | None]:
    """Per reader, None or 10 keywords: words of the articles' vocabulary, one a phrase
    (two adjacent words of some title), 3 include and 7 exclude terms or 10 exclude."""
    rng = random.Random(seed)
    titles = [c.title.split() for c in cands]
    vocab = sorted({w.lower() for words in titles for w in words})
    filters: list[KeywordFilter | None] = []
    for _ in range(n):
        if rng.random() >= share:
            filters.append(None)
            continue
        words = titles[rng.randrange(len(titles))]
        start = rng.randrange(len(words) - 1)
        terms = [make_term(" ".join(words[start : start + 2]))]
        terms += [make_term(w) for w in rng.sample(vocab, 9)]
        include = 3 if rng.random() < 0.5 else 0
        filters.append(KeywordFilter(tuple(terms[:include]), tuple(terms[include:])))
    return filters


def assemble_filtered(
    pool: DigestPool, readers: Sequence[Reader], filters: Sequence[KeywordFilter | None]
) -> int:
    shown = 0
    for (topics, since, excluded), keywords in zip(readers, filters, strict=True):
        shown += len(pool.assemble(topics, since, excluded, keywords=keywords).entries)
    return shown


def fresh_pool_time(
    cands: Sequence[Candidate], work: Callable[[DigestPool], object], runs: int
) -> float:
    """Median time of ``work`` on a pool built (untimed) anew for each run: no warm caches."""
    times = []
    for _ in range(runs):
        pool = DigestPool(cands, NOW)
        start = time.perf_counter()
        work(pool)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def assemble_kept(pool: DigestPool, readers: Sequence[Reader]) -> list[Digest]:
    """Every reader's digest, all kept: the worst case for memory and for the GC."""
    return [pool.assemble(topics, since, excluded) for topics, since, excluded in readers]


def median_time(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
        del result  # drop before the next run so runs do not overlap in memory
    return statistics.median(times)


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def measure(articles: int, readers: int, topics: int, runs: int) -> tuple[float, float]:
    """(pool build, assembly of all readers), medians in seconds."""
    cands = make_candidates(articles, topics)
    people = make_readers(readers, topics, [c.id for c in cands])
    build = median_time(lambda: DigestPool(cands, NOW), runs)
    pool = DigestPool(cands, NOW)
    return build, median_time(lambda: assemble_all(pool, people), runs)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--articles", type=int, default=2_000)
    parser.add_argument("--topics", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling table")
    parser.add_argument(
        "--keyword-share", type=float, default=1 / 3, help="readers with 10 keywords (0-1)"
    )
    args = parser.parse_args(argv)

    print(f"machine   {platform.platform()}")
    print(f"cpu       {cpu_model()} x {os.cpu_count()} cores")
    print(f"python    {sys.version.split()[0]} ({platform.python_implementation()})")
    print(f"workload  {args.readers:,} readers x {args.articles:,} articles, {args.topics} topics")
    print(f"runs      median of {args.runs}")
    print()

    cands = make_candidates(args.articles, args.topics)
    readers = make_readers(args.readers, args.topics, [c.id for c in cands])
    build = median_time(lambda: DigestPool(cands, NOW), args.runs)
    pool = DigestPool(cands, NOW)
    total = median_time(lambda: assemble_all(pool, readers), args.runs)
    print(f"pool build        {build * 1000:8.1f} ms")
    print(
        f"assemble all      {total:8.3f} s   {total / args.readers * 1e6:6.1f} us/reader"
        "   (target <= 3 s, 30 us/reader)"
    )
    print(f"peak RSS          {peak_rss_mb():8.1f} MB   (target <= 500 MB)")

    filters = make_keywords(args.readers, args.keyword_share, cands)
    plain = fresh_pool_time(cands, lambda p: assemble_all(p, readers), args.runs)
    keyed = fresh_pool_time(cands, lambda p: assemble_filtered(p, readers, filters), args.runs)
    with_keywords = sum(1 for f in filters if f is not None)
    print(
        f"keywords          {plain:8.3f} s without, {keyed:.3f} s with "
        f"({with_keywords:,} readers x 10 keywords): {keyed / plain:.2f} x   (target <= 1.5 x)"
    )

    kept = median_time(lambda: assemble_kept(pool, readers), args.runs)
    digests = assemble_kept(pool, readers)
    print(
        f"  all kept        {kept:8.3f} s   {kept / args.readers * 1e6:6.1f} us/reader"
        f"   peak RSS {peak_rss_mb():.1f} MB"
    )
    stories = sum(len(d.entries) for d in digests)
    print(
        f"  per digest      {stories / len(digests):.1f} stories, "
        f"{sum(len(d.article_ids) for d in digests) / len(digests):.1f} articles; "
        f"{sum(1 for d in digests for e in d.entries if e.also) / max(stories, 1):.0%} "
        f"of stories with other coverage, "
        f"{sum(1 for d in digests if d.more) / len(digests):.0%} of digests with more"
    )

    zone = ZoneInfo("Europe/Berlin")
    sample = digests[:1000]
    render = median_time(
        lambda: [render_digest(d, tz=zone, heading="Your digest", now=NOW) for d in sample],
        args.runs,
    )
    print(
        f"render {len(sample):,} digests {render * 1000:8.1f} ms  "
        f"{render / len(sample) * 1e6:6.1f} us/digest"
    )
    del digests

    if args.no_scaling:
        return
    print()
    print(f"{'articles':>8} {'readers':>8} {'build ms':>9} {'assemble s':>11} {'us/reader':>10}")
    configs = [(2000, 25_000), (2000, 50_000), (2000, 100_000), (500, 100_000), (8000, 100_000)]
    for articles, count in configs:
        build, total = measure(articles, count, args.topics, args.runs)
        print(
            f"{articles:>8,} {count:>8,} {build * 1000:>9.1f} {total:>11.3f}"
            f" {total / count * 1e6:>10.1f}"
        )
    print(f"peak RSS (all)    {peak_rss_mb():8.1f} MB")


if __name__ == "__main__":
    main()
