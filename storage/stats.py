"""The figures behind /stats, gathered in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from storage.articles import count_articles
from storage.db import from_db_time, get_state
from storage.files import Rejection, count_rejections, recent_rejections
from storage.outbox import StatusCounts, outbox_counts
from storage.reader_lists import ReaderCounts, next_digests, reader_counts
from storage.readers import GROUP_KINDS, ChatKind
from storage.subscriptions import PausedSubscription, paused_subscriptions


@dataclass(frozen=True, slots=True)
class Stats:
    readers: ReaderCounts  # private chats
    articles: int
    topics: int
    rejected_files: int
    recent_rejections: list[Rejection]
    outbox: StatusCounts
    last_scan_at: datetime | None
    next_digests: list[tuple[int, datetime]]
    groups: ReaderCounts  # groups and supergroups ("blocked": paused)
    channels: ReaderCounts
    paused: list[PausedSubscription]  # the latest paused groups and channels, with reasons


def gather_stats(db: Database) -> Stats:
    last_scan = get_state(db, "last_scan_at")  # written by storage.ingest at each scan
    return Stats(
        readers=reader_counts(db, (ChatKind.PRIVATE,)),
        articles=count_articles(db),
        topics=int(db.execute("SELECT count(*) FROM topics").fetchone()[0]),
        rejected_files=count_rejections(db),
        recent_rejections=recent_rejections(db, 5),
        outbox=outbox_counts(db),
        last_scan_at=from_db_time(last_scan) if last_scan else None,
        next_digests=next_digests(db, 5),
        groups=reader_counts(db, GROUP_KINDS),
        channels=reader_counts(db, (ChatKind.CHANNEL,)),
        paused=paused_subscriptions(db, 5),
    )
