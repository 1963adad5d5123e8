"""Ingest benchmark: how close does ``scan_folder`` come to the cost of YAML parsing alone?

Usage::

    python bench/ingest.py [--files 10000] [--repeat 3] [--keep DIR]
    python bench/ingest.py --files 50000 --rescan-only

Generates ``--files`` seed-shaped article files (see ``tests/data/seed.md``) in a temporary
folder, then reports medians over ``--repeat`` runs of:

(a) the floor: read every file and parse its frontmatter with ``yaml.CSafeLoader`` in one
    process - the least any ingest must do;
(b) a full ``scan_folder`` into a fresh database with ``workers=1`` (one parser process;
    this one writes to the database and parses when the worker falls behind);
(c) the same with the default workers (one per core);
(d) a re-scan of the unchanged folder, in seconds;
(e) the time to refuse a 700-byte YAML merge-key bomb (nested merges of anchors);
and, for reference, ``workers=0``: everything in this one process.

Targets: (b) >= 0.9x floor, (c) >= 1.5x floor on two cores, (d) <= 0.5 s for 10,000 files
(0.5 s for 50,000 in issue 14), (e) <= 0.5 s.
This is a script, not a test: timings depend on the machine, so nothing here asserts.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

# Runnable as a plain script from a checkout, without installing the package first.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import PROVIDERS, TOPICS, cpu_model
from digest.errors import ArticleError
from digest.parse import parse_article_bytes
from storage.db import open_db
from storage.ingest import scan_folder
from tests.factories import Related, article_file, write_article

WORDS = [
    "the", "debate", "has", "been", "inevitably", "shaped", "by", "developments", "in",
    "china", "where", "party", "rolled", "out", "massive", "sophisticated", "network", "of",
    "facial", "recognition", "cameras", "to", "monitor", "country", "population",
    "following", "one", "district", "civil", "liberties", "lawsuit", "what", "was",
    "initially", "an", "month", "moratorium", "new", "york", "state", "department",
    "education", "drafting", "recommendations", "schools", "platform", "used", "markets",
    "itself", "privacy", "tool", "working", "from", "photo", "that", "you", "upload",
    "scours", "internet", "for", "your", "likeness", "presents", "results", "logic", "is",
    "if", "can", "find", "images", "parliament", "vote", "ban", "public", "spaces",
    "rejecting", "targeted", "exemptions", "police", "migration", "border", "security",
    "lawmakers", "committee", "plenary",
]  # fmt: skip
BASE_TIME = datetime(2023, 6, 14, 11, 29, tzinfo=UTC)
SECURED = "FbtjbGRSuUc4FgHtXe9OrAvCeGlMH3zGZogA7G5/tlQf4ttcPphbLSW6nhe/jrgPJARsGWbeqrncFL2proI4eM"


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    return " ".join(words).capitalize()


def _when(rng: random.Random) -> datetime:
    return BASE_TIME - timedelta(minutes=rng.randint(0, 60 * 24 * 30))


def _image(rng: random.Random, domain: str) -> dict[str, object]:
    key = f"{rng.getrandbits(128):032x}"
    url = f"https://static.{domain}/articles/stories/{key[:2]}/{key[2:4]}/1000x563_cmsv2_{key}.jpg"
    return {"url": url, "width": 1000, "height": 563, "isCached": True}


def make_article(index: int, rng: random.Random) -> str:
    """One file shaped like the seed: same fields, similar sizes, a unique webUrl."""
    name, domain = rng.choice(PROVIDERS)
    slug = "-".join(rng.choices(WORDS, k=8))
    url = f"https://www.{domain}/my-europe/2023/06/{index % 28 + 1:02d}/{slug}-{index}"
    title = _sentence(rng, 8, 18)
    excerpt = _sentence(rng, 25, 45) + "."
    published = _when(rng)
    quality = rng.randint(0, 100)
    heat = rng.choice([-1, -1, rng.randint(0, 500)])
    is_published = rng.choice([True, False])
    topics = rng.sample(TOPICS, rng.randint(1, 4))
    image = _image(rng, domain)
    related = []
    for position in range(rng.randint(0, 3)):
        r_name, r_domain = rng.choice(PROVIDERS)
        r_url = f"https://www.{r_domain}/story/{index}-{position}-" + "-".join(
            rng.choices(WORDS, k=6)
        )
        r_title = _sentence(rng, 6, 12)
        r_excerpt = _sentence(rng, 25, 40) + "."
        r_published = _when(rng)
        r_quality = rng.randint(0, 100)
        r_fields = {"ampWebUrl": r_url + "?_amp=true", "type": "article",
                    "images": [_image(rng, r_domain)]}  # fmt: skip
        related.append(Related(r_title, r_url, (r_name, r_domain), r_quality, r_published,
                               r_excerpt, r_fields))  # fmt: skip
    # Most files carry no or a short body, like the seed; one in twenty is a long read.
    body = ""
    if rng.random() < 0.05:
        paragraphs = [_sentence(rng, 60, 120) + "." for _ in range(rng.randint(10, 40))]
        body = "\n\n".join(paragraphs)
    elif rng.random() < 0.5:
        body = _sentence(rng, 20, 60) + "."
    return article_file(title, url, topics, published=published, excerpt=excerpt, body=body,
                        quality=quality, heat=heat, provider=(name, domain), related=related,
                        original_url=url, is_published=is_published, category="news",
                        kind="article", secured=SECURED * 4 + ";DpHhkjWn2dlqE+Au2kyygA==",
                        images=[image])  # fmt: skip


def generate(folder: Path, count: int, seed: int = 2023) -> int:
    """Write ``count`` articles in subfolders of 1,000; return the total bytes written."""
    rng = random.Random(seed)
    total = 0
    for index in range(count):
        data = make_article(index, rng).encode("utf-8")
        # Aged past the scan's settle time, so nothing is deferred.
        write_article(folder / f"batch-{index // 1000:03d}", f"article-{index:06d}.md", data)
        total += len(data)
    return total


def floor(folder: Path) -> int:
    """Read each file and parse its frontmatter with the C safe loader: the least possible."""
    count = 0
    for directory, _, names in os.walk(folder):
        for name in names:
            with open(os.path.join(directory, name), "rb") as handle:
                text = handle.read().decode("utf-8")
            end = text.index("\n---", 3)
            yaml.load(text[4:end], Loader=yaml.CSafeLoader)
            count += 1
    return count


def merge_bomb() -> bytes:
    """Nine levels of anchors, each merging the one below nine times: 9**9 pairs once
    PyYAML < 6.0.4 flattens them (20 s and 700 MB there)."""
    lines = ["---", "title: Bomb", "webUrl: https://example.com/bomb"]
    lines.append("publishedDateTime: 2023-06-14T11:29:00Z")
    lines.append("m0: &m0 {k: v, j: w}")
    for level in range(1, 10):
        refs = ", ".join([f"*m{level - 1}"] * 9)
        lines.append(f"m{level}: &m{level} {{<<: [{refs}], k{level}: v}}")
    return ("\n".join([*lines, "---", ""])).encode()


def bomb_seconds() -> tuple[float, str]:
    data = merge_bomb()
    started = time.perf_counter()
    try:
        parse_article_bytes(data)
        reason = "ACCEPTED"
    except ArticleError as exc:
        reason = str(exc)
    return time.perf_counter() - started, reason


def rescan_only(folder: Path, path: Path, files: int, repeat: int) -> int:
    """(d) alone, for a large folder: the full scan once, the re-scans timed."""
    db = open_db(path)
    try:
        full = timed(lambda: scan_folder(db, folder))
        cpu_runs: list[float] = []
        runs: list[float] = []
        for _ in range(repeat):
            cpu = time.process_time()
            runs.append(timed(lambda: scan_folder(db, folder)))
            cpu_runs.append(time.process_time() - cpu)
    finally:
        db.close()
    print()
    print(f"full scan of {files:,} files: {full:.1f} s")
    rescan, cpu = statistics.median(runs), statistics.median(cpu_runs)
    verdict = "ok" if rescan <= 0.5 else "MISSED"
    print(f"(d) re-scan, unchanged folder: {rescan:.3f} s (CPU {cpu:.3f} s), median of {repeat}"
          f"   target <= 0.5 s: {verdict}")  # fmt: skip
    print(f"load average: {os.getloadavg()[0]:.2f}")
    return 0


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=10_000, help="articles to generate")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measure (median)")
    parser.add_argument("--keep", type=Path, help="generate into DIR and keep it (for profiling)")
    parser.add_argument(
        "--rescan-only",
        action="store_true",
        help="only (d): one full scan, then --repeat re-scans of the unchanged folder",
    )
    args = parser.parse_args(argv)
    if args.files < 1 or args.repeat < 1:
        parser.error("--files and --repeat must be at least 1")

    print(f"machine:  {platform.platform()}")
    print(f"cpu:      {cpu_model()} x {os.cpu_count()} cores")
    print(f"python:   {platform.python_implementation()} {platform.python_version()}")
    print(f"sqlite:   {sqlite3.sqlite_version}   libyaml: {yaml.__with_libyaml__}")

    work = Path(tempfile.mkdtemp(prefix="newsdigest-bench-"))
    folder = args.keep or work / "articles"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        size = generate(folder, args.files)
        print(f"files:    {args.files} ({size / args.files / 1024:.1f} KiB average)")
        if args.rescan_only:
            return rescan_only(folder, work / "rescan.db", args.files, args.repeat)

        def ingest(workers: int | None, run: int) -> tuple[float, float]:
            """One full scan into a fresh database, then a re-scan of the unchanged folder."""
            db = open_db(work / f"bench-{workers}-{run}.db")
            try:
                full = timed(lambda: scan_folder(db, folder, workers=workers))
                rescan = timed(lambda: scan_folder(db, folder, workers=workers))
                count = db.execute("SELECT count(*) FROM articles").fetchone()[0]
                if count != args.files:
                    raise SystemExit(f"stored {count} articles, expected {args.files}")
            finally:
                db.close()
            return full, rescan

        # Rounds of every measure in turn, not all repeats of one then the next: on a
        # shared machine each round then sees about the same load, and so do the ratios.
        floor_runs: list[float] = []
        alone: list[tuple[float, float]] = []
        single: list[tuple[float, float]] = []
        multi: list[tuple[float, float]] = []
        load_before = os.getloadavg()[0]
        for run in range(args.repeat):
            floor_runs.append(timed(lambda: floor(folder)))
            alone.append(ingest(0, run))
            single.append(ingest(1, run))
            multi.append(ingest(None, run))
        load_after = os.getloadavg()[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    a = args.files / statistics.median(floor_runs)
    b = args.files / statistics.median(full for full, _ in single)
    c = args.files / statistics.median(full for full, _ in multi)
    zero = args.files / statistics.median(full for full, _ in alone)
    d = statistics.median(rescan for _, rescan in alone + single + multi)
    cores = os.cpu_count() or 1
    print()
    print(f"{'measure':<44}{'result':>14}{'target':>14}")
    print(f"{'(a) floor: read + CSafeLoader, 1 process':<44}{a:>8.0f} f/s{'':>14}")
    print(f"{'(b) scan_folder, workers=1':<44}{b:>8.0f} f/s{'>= 0.9x (a)':>14}")
    print(f"{f'(c) scan_folder, default workers ({cores})':<44}{c:>8.0f} f/s{'>= 1.5x (a)':>14}")
    print(f"{'(d) re-scan, unchanged folder':<44}{d:>10.3f} s{'<= 0.5 s':>14}")
    print(f"{'    scan_folder, workers=0 (in-process)':<44}{zero:>8.0f} f/s{'':>14}")
    bomb, reason = bomb_seconds()
    print(f"{'(e) merge-key bomb refused':<44}{bomb * 1000:>9.2f} ms{'<= 500 ms':>14}")
    print(f"{'    reason':<44}{reason}")
    print(f"{'(b)/(a)':<44}{b / a:>10.2f} x{'>= 0.90':>14}")
    print(f"{'(c)/(a)':<44}{c / a:>10.2f} x{'>= 1.50':>14}")
    print(f"{'    workers=0 / (a)':<44}{zero / a:>10.2f} x{'':>14}")
    print(f"\nload average: {load_before:.2f} before, {load_after:.2f} after the runs")
    if load_before > 0.5:
        print("warning: the machine was busy; the parallel figures (c) suffer most")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
