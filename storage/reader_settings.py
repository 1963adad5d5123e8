"""A subscription's settings: digest times and zone, pause, quiet hours, digest shape.

Every change that moves the schedule recomputes the next digest in the same transaction.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from digest.schedule import Cadence
from storage.db import to_db_time, write_transaction
from storage.readers import (
    DIGEST_SIZES,
    DigestShape,
    QuietHours,
    Reader,
    ReaderNotFound,
    get_reader,
    hhmm,
)


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
                hhmm(new_cadence.times[0]),
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
                hhmm(quiet.start) if quiet else None,
                hhmm(quiet.end) if quiet else None,
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


def set_language(db: Database, chat_id: int, language: str | None, now: datetime) -> bool:
    """The bot's language for a subscription (a supported code; None: back to the default).
    False when the chat has no subscription."""
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE readers SET language = ?, updated_at = ? WHERE chat_id = ?",
            (language, to_db_time(now), chat_id),
        )
    return bool(cursor.rowcount)


def remember_language(db: Database, chat_id: int, language: str, now: datetime) -> None:
    """Store ``language`` for a subscription that has none yet (one from before languages
    were stored), so its digests follow the language its answers come in."""
    with write_transaction(db):
        db.execute(
            "UPDATE readers SET language = ?, updated_at = ? "
            "WHERE chat_id = ? AND language IS NULL",
            (language, to_db_time(now), chat_id),
        )


def language_of(db: Database, chat_id: int) -> str | None:
    """The stored language of a chat's subscription (None: none stored, or no subscription)."""
    row = db.execute("SELECT language FROM readers WHERE chat_id = ?", (chat_id,)).fetchone()
    return row[0] if row is not None else None
