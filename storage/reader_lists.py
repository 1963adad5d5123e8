"""Questions about many subscriptions at once: counts by status and kind, the next
digests, the audience of a breaking push, the ``newsdigest readers`` listing."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from storage.db import from_db_time, to_db_time
from storage.readers import UTC_ZONE, ChatKind, ReaderStatus


@dataclass(frozen=True, slots=True)
class ReaderCounts:
    active: int
    stopped: int
    blocked: int


def reader_counts(db: Database, kinds: Collection[ChatKind] | None = None) -> ReaderCounts:
    """Subscriptions by status: of every kind, or of ``kinds`` only."""
    wanted = tuple(ChatKind if kinds is None else kinds)
    marks = ",".join("?" * len(wanted)) or "NULL"
    counts = dict(
        db.execute(
            f"SELECT status, count(*) FROM readers WHERE chat_kind IN ({marks}) GROUP BY status",
            wanted,
        ).fetchall()
    )
    return ReaderCounts(
        counts.get(ReaderStatus.ACTIVE, 0),
        counts.get(ReaderStatus.STOPPED, 0),
        counts.get(ReaderStatus.BLOCKED, 0),
    )


def next_digests(db: Database, limit: int = 5) -> list[tuple[int, datetime]]:
    return [
        (chat_id, from_db_time(at))
        for chat_id, at in db.execute(
            "SELECT chat_id, next_digest_at FROM readers WHERE status = ? "
            "ORDER BY next_digest_at LIMIT ?",
            (ReaderStatus.ACTIVE, limit),
        )
    ]


def audience(
    db: Database, topic_ids: Iterable[int] | None, now: datetime | None = None
) -> list[int]:
    """Active readers who would get an item on these topics (no topics chosen = everything),
    not paused at ``now`` (default: the wall clock).

    ``None`` means "everyone" (a free-text push).
    """
    awake = "(r.paused_until IS NULL OR r.paused_until <= ?)"
    now_text = to_db_time(now if now is not None else datetime.now(UTC_ZONE))
    if topic_ids is None:
        return [
            c
            for (c,) in db.execute(
                f"SELECT chat_id FROM readers r WHERE status = ? AND {awake}",
                (ReaderStatus.ACTIVE, now_text),
            )
        ]
    ids = sorted(set(topic_ids))
    marks = ",".join("?" * len(ids)) or "NULL"
    return [
        chat_id
        for (chat_id,) in db.execute(
            f"SELECT r.chat_id FROM readers r WHERE r.status = ? AND {awake} AND ("
            " NOT EXISTS (SELECT 1 FROM reader_topics rt WHERE rt.chat_id = r.chat_id)"
            f" OR EXISTS (SELECT 1 FROM reader_topics rt WHERE rt.chat_id = r.chat_id"
            f" AND rt.topic_id IN ({marks})))",
            (ReaderStatus.ACTIVE, now_text, *ids),
        )
    ]


@dataclass(frozen=True, slots=True)
class ReaderRow:
    """One line of ``newsdigest readers``."""

    chat_id: int
    status: str
    first_name: str
    username: str | None
    digest_time: str
    timezone: str
    topics: tuple[str, ...]
    next_digest_at: datetime | None


def list_readers(db: Database, status: str | None = None) -> list[ReaderRow]:
    """Readers by chat id (with their topic names), optionally of one status only."""
    where, params = ("WHERE r.status = ?", (status,)) if status else ("", ())
    rows = db.execute(
        "SELECT r.chat_id, r.status, r.first_name, r.username, r.digest_time, r.timezone, "
        "r.next_digest_at, (SELECT group_concat(t.name, '\x1f') FROM reader_topics rt "
        "JOIN topics t ON t.id = rt.topic_id WHERE rt.chat_id = r.chat_id) "
        f"FROM readers r {where} ORDER BY r.chat_id",
        params,
    ).fetchall()
    return [
        ReaderRow(
            chat_id=int(chat_id),
            status=str(state),
            first_name=str(first or ""),
            username=username,
            digest_time=str(at),
            timezone=str(zone),
            topics=tuple(sorted(str(names).split("\x1f"), key=str.casefold)) if names else (),
            next_digest_at=from_db_time(next_at) if next_at else None,
        )
        for chat_id, state, first, username, at, zone, next_at, names in rows
    ]
