"""The digest schedule in the readers table: who is due, and moving each reader on."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from storage.controls import keyword_filters, muted_keys
from storage.db import from_db_time, to_db_time
from storage.readers import (
    CATCH_UP_LIMIT,
    FIRST_DIGEST_WINDOW,
    READER_COLUMNS,
    Reader,
    ReaderStatus,
    reader_from_row,
)

_LOGGER = logging.getLogger(__name__)
BROKEN_RETRY = timedelta(days=1)  # a reader whose row cannot be read is tried again then


def due_readers(
    db: Database, now: datetime, limit: int = 100_000, broken: list[int] | None = None
) -> list[Reader]:
    """Active readers whose next digest time has passed, with their topics, keywords and
    muted sources. A row that cannot be read is logged, left out, and its chat id added to
    ``broken`` (see :func:`postpone`): one reader's bad data never stops the others."""
    rows = db.execute(
        f"SELECT {READER_COLUMNS} FROM readers WHERE status = ? AND next_digest_at <= ? "
        "ORDER BY next_digest_at LIMIT ?",
        (ReaderStatus.ACTIVE, to_db_time(now), limit),
    ).fetchall()
    if not rows:
        return []
    topics: dict[int, set[int]] = {}
    for chat_id, topic_id in db.execute(
        "SELECT rt.chat_id, rt.topic_id FROM reader_topics rt JOIN readers r "
        "ON r.chat_id = rt.chat_id WHERE r.status = ? AND r.next_digest_at <= ?",
        (ReaderStatus.ACTIVE, to_db_time(now)),
    ):
        topics.setdefault(chat_id, set()).add(topic_id)
    ids = [int(row[0]) for row in rows]
    filters = keyword_filters(db, ids)
    muted = muted_keys(db, ids)
    readers: list[Reader] = []
    for row in rows:
        chat_id = int(row[0])
        try:
            readers.append(
                reader_from_row(
                    row,
                    frozenset(topics.get(chat_id, ())),
                    filters.get(chat_id),
                    muted.get(chat_id, frozenset()),
                )
            )
        except Exception:
            _LOGGER.exception("reader %s: stored settings cannot be read; skipped", chat_id)
            if broken is not None:
                broken.append(chat_id)
    return readers


def postpone(db: Database, chat_ids: Sequence[int], now: datetime) -> None:
    """Readers whose data broke a tick wait :data:`BROKEN_RETRY` before the next try."""
    db.conn.executemany(
        "UPDATE readers SET next_digest_at = ? WHERE chat_id = ?",
        [(to_db_time(now + BROKEN_RETRY), chat_id) for chat_id in chat_ids],
    )
    db.conn.commit()


def earliest_window(db: Database, now: datetime) -> datetime | None:
    """The earliest window start among readers due now (None: nobody is due)."""
    count, first_time, earliest = db.execute(
        "SELECT count(*), count(*) - count(digest_since), min(digest_since) FROM readers "
        "WHERE status = ? AND next_digest_at <= ?",
        (ReaderStatus.ACTIVE, to_db_time(now)),
    ).fetchone()
    if not count:
        return None
    # Mirrors Reader.window_start, taken over every due reader at once.
    starts = [now - FIRST_DIGEST_WINDOW] if first_time else []
    if earliest is not None:
        starts.append(max(from_db_time(earliest), now - CATCH_UP_LIMIT))
    return min(starts)


def earliest_active_window(db: Database, now: datetime) -> datetime:
    """The earliest window start of any active reader, due or not (at least a first
    digest's): what a pool must hold to serve every reader's ``/digest``."""
    (earliest,) = db.execute(
        "SELECT min(digest_since) FROM readers WHERE status = ?", (ReaderStatus.ACTIVE,)
    ).fetchone()
    start = now - FIRST_DIGEST_WINDOW
    if earliest is not None:
        start = min(start, max(from_db_time(earliest), now - CATCH_UP_LIMIT))
    return start


@dataclass(frozen=True, slots=True)
class DigestDone:
    """What assembling one reader's digest changes in their schedule."""

    chat_id: int
    next_digest_at: datetime
    sent: bool  # a digest was enqueued (an empty one is not sent)
    exhausted: bool  # nothing left over: the window moves to now
    window_start: datetime | None = None  # the window used; kept while stories are left over


def write_schedule_advances(db: Database, done: Sequence[DigestDone], now: datetime) -> None:
    """Move each reader on after a tick; inside the caller's transaction (see commit_digests)."""
    now_text = to_db_time(now)
    db.conn.executemany(
        "UPDATE readers SET next_digest_at = ?, "
        "last_digest_at = CASE WHEN ? THEN ? ELSE last_digest_at END, "
        # Leftovers ("+N more") stay new: the window only moves past what was all shown.
        "digest_since = CASE WHEN ? THEN ? WHEN ? THEN ? ELSE digest_since END, updated_at = ? "
        "WHERE chat_id = ?",
        [
            (
                to_db_time(d.next_digest_at),
                d.sent,
                now_text,
                d.sent and d.exhausted,
                now_text,
                d.sent and d.window_start is not None,
                to_db_time(d.window_start) if d.window_start is not None else None,
                now_text,
                d.chat_id,
            )
            for d in done
        ],
    )


def mark_digest_sent(
    db: Database, chat_id: int, now: datetime, *, exhausted: bool, window_start: datetime
) -> None:
    """An on-demand digest: it moves the window like a scheduled one, not the schedule."""
    now_text = to_db_time(now)
    db.execute(
        "UPDATE readers SET last_digest_at = ?, digest_since = ?, updated_at = ? WHERE chat_id = ?",
        (now_text, now_text if exhausted else to_db_time(window_start), now_text, chat_id),
    )
