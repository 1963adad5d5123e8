"""``newsdigest preview``: the digest a reader would get, printed, no token needed."""

from __future__ import annotations

import html
import re
import sys
import tempfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from newsdigest_examples import ARTICLES as EXAMPLE_ARTICLES

from bot.delivery.pool_cache import pool_since
from bot.settings import Settings
from digest.explain import explain_nothing
from digest.render import render_digest
from storage.db import open_db, utcnow
from storage.ingest import ScanError, scan_folder
from storage.topics import all_topics, topic_ids_by_names

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "": 3600}
_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.DOTALL)
_TAG = re.compile(r"</?[a-z][^>]*>")


def parse_duration(text: str) -> timedelta:
    """``90m``, ``24h``, ``7d``, ``2w`` (a bare number is hours)."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 90m, 24h or 7d")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


def html_to_text(markup: str) -> str:
    """Telegram HTML → terminal text: links as "title [url]", tags dropped, entities decoded."""
    text = _TAG.sub("", _LINK.sub(lambda m: f"{m.group(2)} [\x00{m.group(1)}\x00]", markup))
    return html.unescape(text.replace("\x00", ""))


def cmd_preview(
    settings: Settings, topics: str, since: str, limit: int, as_html: bool, examples: bool = False
) -> int:
    try:
        window = parse_duration(since)
    except ValueError as exc:
        print(f"newsdigest preview: --since: {exc}", file=sys.stderr)
        return 2
    if limit < 1:
        print("newsdigest preview: --limit must be at least 1", file=sys.stderr)
        return 2
    if examples:
        # The samples go into a throwaway database: they never mix with real articles.
        with tempfile.TemporaryDirectory(prefix="newsdigest-preview-") as scratch:
            sample = replace(
                settings, db_path=Path(scratch) / "examples.db", articles_dir=EXAMPLE_ARTICLES
            )
            return _preview(sample, topics, since, window, limit, as_html, examples=True)
    return _preview(settings, topics, since, window, limit, as_html, examples=False)


def _preview(
    settings: Settings,
    topics: str,
    since: str,
    window: timedelta,
    limit: int,
    as_html: bool,
    *,
    examples: bool,
) -> int:
    db = open_db(settings.db_path)
    try:
        if settings.articles_dir.is_dir():
            try:
                scan_folder(db, settings.articles_dir, wait_for_recent=True)
            except ScanError as exc:
                print(f"newsdigest preview: {exc}", file=sys.stderr)
        names = [n.strip() for n in topics.split(",") if n.strip()]
        topic_ids, unknown = topic_ids_by_names(db, names)
        if unknown:
            known = [t.name for t in all_topics(db)]
            print(f"newsdigest preview: unknown topics: {', '.join(unknown)}", file=sys.stderr)
            print(
                "known topics: " + (", ".join(known) if known else "none yet (no articles stored)"),
                file=sys.stderr,
            )
            if not topic_ids:
                return 2
        now = utcnow()
        start = now - window
        # The samples are from 2023: --examples shows them whatever their age.
        max_age = None if examples else settings.max_age
        pool = pool_since(db, start, now, max_age=max_age)
    finally:
        db.close()
    digest = pool.assemble(frozenset(topic_ids), start, cap=limit)
    if not digest.entries:
        why = explain_nothing(digest.nothing, max_age)
        if why:
            print(f"Nothing new in the last {since} for those topics: {why}.")
            print("NEWSDIGEST_MAX_AGE sets how old an article may be and still count as news.")
            return 0
        print(f"No articles stored in the last {since} for those topics.")
        if not examples:
            print(f"Put article files in {settings.articles_dir} or run `newsdigest ingest DIR`;")
            print("to see the shipped samples: `newsdigest preview --examples`.")
        return 0
    zone = settings.timezone
    heading = "Digest preview" + (f" · {', '.join(names)}" if names else " · all topics")
    for part in render_digest(digest, tz=zone, heading=heading, now=now):
        print(part.text if as_html else html_to_text(part.text))
        print()
    return 0
