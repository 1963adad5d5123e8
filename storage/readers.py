"""Readers (subscribed private chats), their topics and their digest schedule."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from digest.keywords import KeywordFilter
from digest.render import LinkPreviews
from digest.schedule import Cadence, Days, next_digest, next_occurrence
from digest.zones import canonical_zones
from storage.controls import keyword_filters, move_controls, muted_keys
from storage.db import from_db_time, to_db_time, write_transaction

_LOGGER = logging.getLogger(__name__)
UTC_ZONE = ZoneInfo("UTC")
E = TypeVar("E", bound=StrEnum)


class ReaderStatus(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"  # /stop: settings kept for a later /start
    BLOCKED = "blocked"  # the reader blocked the bot (or the chat is gone)


CATCH_UP_LIMIT = timedelta(days=7)  # after long downtime, one digest of at most a week
FIRST_DIGEST_WINDOW = timedelta(days=1)


class ReaderNotFound(LookupError):
    pass


class QuietMode(StrEnum):
    SILENT = "silent"  # pushes in the window arrive without sound
    HOLD = "hold"  # pushes in the window wait until it ends


class DigestOrder(StrEnum):
    RANKED = "ranked"
    NEWEST = "newest"  # the same stories, the most recently published first


DIGEST_SIZES = (5, 10, 20)
DEFAULT_SIZE = 10


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: time
    end: time
    mode: QuietMode = QuietMode.SILENT


@dataclass(frozen=True, slots=True)
class DigestShape:
    size: int = DEFAULT_SIZE
    previews: LinkPreviews = LinkPreviews.OFF
    order: DigestOrder = DigestOrder.RANKED


@dataclass(frozen=True, slots=True)
class Reader:
    chat_id: int
    status: ReaderStatus
    digest_time: time  # local wall-clock time of the daily digest
    zone: ZoneInfo  # the zone digest_time is in
    topic_ids: frozenset[int]
    next_digest_at: datetime | None
    last_digest_at: datetime | None
    digest_since: datetime | None
    user_id: int | None = None
    first_name: str = ""
    cadence: Cadence | None = None  # None: daily at digest_time
    paused_until: datetime | None = None
    quiet: QuietHours | None = None
    shape: DigestShape = field(default_factory=DigestShape)
    keywords: KeywordFilter = field(default_factory=KeywordFilter)
    muted: frozenset[str] = frozenset()  # provider keys (digest.assemble.provider_key)

    @property
    def schedule(self) -> Cadence:
        return self.cadence if self.cadence is not None else Cadence((self.digest_time,))

    def window_start(self, now: datetime) -> datetime:
        """Articles ingested after this are new to the reader."""
        if self.digest_since is None:
            return now - FIRST_DIGEST_WINDOW
        return max(self.digest_since, now - CATCH_UP_LIMIT)

    def is_paused(self, now: datetime) -> bool:
        return self.paused_until is not None and self.paused_until > now

    def next_digest_after(self, moment: datetime) -> datetime:
        start = self.paused_until if self.is_paused(moment) and self.paused_until else moment
        return next_digest(self.schedule, self.zone, start)


# The digest time is stored as "HH:MM" and the zone by its IANA key: both converted here only.
@functools.cache
def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _hhmm(at: time) -> str:
    return f"{at:%H:%M}"


def _opt_time(text: str | None) -> datetime | None:
    return from_db_time(text) if text else None


READER_COLUMNS = (
    "chat_id, status, digest_time, timezone, next_digest_at, last_digest_at, digest_since, "
    "user_id, first_name, digest_times, digest_days, paused_until, quiet_start, quiet_end, "
    "quiet_mode, digest_size, link_previews, digest_order"
)


@functools.cache
def load_zone(key: str) -> ZoneInfo:
    """A stored zone; one that cannot be loaded here (not in tzdata, a broken file) falls
    back to UTC with one log line, so one reader's bad data never stops anyone else's."""
    try:
        if key not in canonical_zones():
            raise ValueError("not a zone of the installed tzdata")
        return ZoneInfo(key)
    except (ValueError, OSError) as exc:
        _LOGGER.warning("stored time zone %r cannot be loaded (%s): using UTC", key, exc)
        return UTC_ZONE


def _cadence(digest_time: time, times: str | None, days: str | None) -> Cadence | None:
    if not times and not days:
        return None
    try:
        clocks = [_clock(t) for t in times.split(",")] if times else [digest_time]
        return Cadence.of(clocks, Days(days) if days else Days.DAILY)
    except ValueError:
        _LOGGER.warning("stored cadence %r %r is not valid: daily at %s", times, days, digest_time)
        return None


def reader_from_row(
    row: Sequence[Any],
    topic_ids: frozenset[int],
    keywords: KeywordFilter | None = None,
    muted: frozenset[str] = frozenset(),
) -> Reader:
    """A row of ``SELECT {READER_COLUMNS}``, the reader's topics, keywords and muted
    sources as a :class:`Reader`."""
    digest_time = _clock(row[2])
    quiet = None
    if row[12] and row[13]:
        quiet = QuietHours(_clock(row[12]), _clock(row[13]), _enum(QuietMode, row[14]))
    size = row[15] if row[15] in DIGEST_SIZES else DEFAULT_SIZE
    return Reader(
        chat_id=int(row[0]),
        status=ReaderStatus(row[1]),
        digest_time=digest_time,
        zone=load_zone(row[3]),
        topic_ids=topic_ids,
        next_digest_at=_opt_time(row[4]),
        last_digest_at=_opt_time(row[5]),
        digest_since=_opt_time(row[6]),
        user_id=row[7],
        first_name=row[8] or "",
        cadence=_cadence(digest_time, row[9], row[10]),
        paused_until=_opt_time(row[11]),
        quiet=quiet,
        shape=DigestShape(size, _enum(LinkPreviews, row[16]), _enum(DigestOrder, row[17])),
        keywords=keywords if keywords is not None else KeywordFilter(),
        muted=muted,
    )


def _enum(kind: type[E], value: str | None) -> E:
    """A stored word as its enum; NULL or an unknown word is the first (the default)."""
    try:
        return kind(value or "")
    except ValueError:
        return next(iter(kind))


def get_reader(db: Database, chat_id: int) -> Reader | None:
    row = db.execute(
        f"SELECT {READER_COLUMNS} FROM readers WHERE chat_id = ?", (chat_id,)
    ).fetchone()
    if row is None:
        return None
    topics = frozenset(
        tid
        for (tid,) in db.execute("SELECT topic_id FROM reader_topics WHERE chat_id = ?", (chat_id,))
    )
    return reader_from_row(
        row,
        topics,
        keyword_filters(db, [chat_id]).get(chat_id),
        muted_keys(db, [chat_id]).get(chat_id, frozenset()),
    )


def subscribe(
    db: Database,
    chat_id: int,
    *,
    user_id: int | None,
    first_name: str,
    username: str | None,
    default_time: time,
    default_zone: ZoneInfo,
    now: datetime,
) -> tuple[Reader, bool]:
    """Subscribe a chat, or re-activate it with its old settings. Returns (reader, is_new)."""
    now_text = to_db_time(now)
    with write_transaction(db):
        existing = get_reader(db, chat_id)
        if existing is None:
            db.table("readers").insert(
                {
                    "chat_id": chat_id,
                    "user_id": user_id,
                    "username": username,
                    "first_name": first_name,
                    "status": ReaderStatus.ACTIVE,
                    "digest_time": _hhmm(default_time),
                    "timezone": default_zone.key,
                    "next_digest_at": to_db_time(next_occurrence(default_time, default_zone, now)),
                    "created_at": now_text,
                    "updated_at": now_text,
                }
            )
        else:
            next_at = existing.next_digest_after(now)
            db.execute(
                "UPDATE readers SET status = ?, user_id = ?, username = ?, first_name = ?, "
                "next_digest_at = ?, updated_at = ? WHERE chat_id = ?",
                (
                    ReaderStatus.ACTIVE,
                    user_id,
                    username,
                    first_name,
                    to_db_time(next_at),
                    now_text,
                    chat_id,
                ),
            )
        reader = get_reader(db, chat_id)
    assert reader is not None
    return reader, existing is None


def set_status(db: Database, chat_id: int, status: ReaderStatus, now: datetime) -> bool:
    """Mark a reader active/stopped/blocked; False when the chat is unknown."""
    cursor = db.execute(  # one statement: sqlite-utils commits it
        "UPDATE readers SET status = ?, updated_at = ? WHERE chat_id = ?",
        (status, to_db_time(now), chat_id),
    )
    return bool(cursor.rowcount)


def set_schedule(
    db: Database,
    chat_id: int,
    now: datetime,
    *,
    digest_time: time | None = None,
    zone: ZoneInfo | None = None,
    cadence: Cadence | None = None,
) -> Reader:
    """A new digest time (one a day, on the current days), cadence and/or zone; the next
    digest moves to match (after the pause, if one is on)."""
    with write_transaction(db):
        reader = get_reader(db, chat_id)
        if reader is None:
            raise ReaderNotFound(chat_id)
        if cadence is None and digest_time is not None:
            cadence = Cadence((digest_time,), reader.schedule.days)
        new_cadence = reader.schedule if cadence is None else cadence
        new_zone = reader.zone if zone is None else zone
        db.execute(
            "UPDATE readers SET digest_time = ?, digest_times = ?, digest_days = ?, timezone = ?, "
            "updated_at = ? WHERE chat_id = ?",
            (
                _hhmm(new_cadence.times[0]),
                new_cadence.encode_times(),
                new_cadence.days,
                new_zone.key,
                to_db_time(now),
                chat_id,
            ),
        )
        return _reschedule(db, chat_id, now)


def _reschedule(db: Database, chat_id: int, now: datetime) -> Reader:
    """Recompute the next digest from the stored settings (inside a transaction)."""
    reader = get_reader(db, chat_id)
    if reader is None:
        raise ReaderNotFound(chat_id)
    db.execute(
        "UPDATE readers SET next_digest_at = ? WHERE chat_id = ?",
        (to_db_time(reader.next_digest_after(now)), chat_id),
    )
    updated = get_reader(db, chat_id)
    assert updated is not None
    return updated


def set_pause(db: Database, chat_id: int, until: datetime | None, now: datetime) -> Reader:
    """Pause digests and pushes until ``until`` (None: resume now)."""
    with write_transaction(db):
        db.execute(
            "UPDATE readers SET paused_until = ?, updated_at = ? WHERE chat_id = ?",
            (to_db_time(until) if until else None, to_db_time(now), chat_id),
        )
        return _reschedule(db, chat_id, now)


def set_quiet(db: Database, chat_id: int, quiet: QuietHours | None, now: datetime) -> Reader:
    """Quiet hours for breaking pushes (None: none)."""
    with write_transaction(db):
        db.execute(
            "UPDATE readers SET quiet_start = ?, quiet_end = ?, quiet_mode = ?, updated_at = ? "
            "WHERE chat_id = ?",
            (
                _hhmm(quiet.start) if quiet else None,
                _hhmm(quiet.end) if quiet else None,
                quiet.mode if quiet else None,
                to_db_time(now),
                chat_id,
            ),
        )
        return _found(db, chat_id)


def set_shape(db: Database, chat_id: int, shape: DigestShape, now: datetime) -> Reader:
    if shape.size not in DIGEST_SIZES:
        raise ValueError(f"a digest holds {', '.join(map(str, DIGEST_SIZES))} entries")
    with write_transaction(db):
        db.execute(
            "UPDATE readers SET digest_size = ?, link_previews = ?, digest_order = ?, "
            "updated_at = ? WHERE chat_id = ?",
            (shape.size, shape.previews, shape.order, to_db_time(now), chat_id),
        )
        return _found(db, chat_id)


def _found(db: Database, chat_id: int) -> Reader:
    reader = get_reader(db, chat_id)
    if reader is None:
        raise ReaderNotFound(chat_id)
    return reader


def migrate_chat(db: Database, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: the reader, its topics and its queue move to the new id."""
    with write_transaction(db):
        # reader_topics points at readers.chat_id: check the keys once all rows have moved.
        db.execute("PRAGMA defer_foreign_keys = ON")
        if get_reader(db, new_chat_id) is None:
            db.execute(
                "UPDATE readers SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id)
            )
            db.execute(
                "UPDATE reader_topics SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id)
            )
            move_controls(db, old_chat_id, new_chat_id, keep_new=False)
        else:
            # The new chat is subscribed already: the old reader retires, or it would get
            # a second digest a day, redirected to the same chat.
            db.execute("DELETE FROM reader_topics WHERE chat_id = ?", (old_chat_id,))
            move_controls(db, old_chat_id, new_chat_id, keep_new=True)
            db.execute("DELETE FROM readers WHERE chat_id = ?", (old_chat_id,))
        db.execute("UPDATE outbox SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id))
        db.execute(
            "UPDATE OR IGNORE deliveries SET chat_id = ? WHERE chat_id = ?",
            (new_chat_id, old_chat_id),
        )


@dataclass(frozen=True, slots=True)
class ReaderCounts:
    active: int
    stopped: int
    blocked: int


def reader_counts(db: Database) -> ReaderCounts:
    counts = dict(db.execute("SELECT status, count(*) FROM readers GROUP BY status").fetchall())
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
            next_digest_at=_opt_time(next_at),
        )
        for chat_id, state, first, username, at, zone, next_at, names in rows
    ]
