"""Expiring outbox rows that are no longer worth sending, without losing their articles.

A digest is worth sending until its reader's next digest is due, a breaking push until
``NEWSDIGEST_BREAKING_MAX_AGE``; after that the row ends ``expired`` with its reason.
Its articles are released from ``deliveries`` and, for a digest, the reader's window
(``digest_since``) moves back to before them: the next digest carries what this one
could not deliver. The window follows what was delivered, not what was attempted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlite_utils import Database

from storage.db import from_db_time, to_db_time, write_transaction
from storage.outbox import OutboxStatus


def expire_stale_digests(db: Database, now: datetime) -> int:
    """Digests still pending for readers whose next digest is due: expire them, so the
    digest assembled now carries their articles. Returns how many expired."""
    with write_transaction(db):
        ids = [
            outbox_id
            for (outbox_id,) in db.execute(
                "SELECT o.id FROM readers r JOIN outbox o ON o.chat_id = r.chat_id "
                "WHERE r.status = 'active' AND r.next_digest_at <= ? "
                "AND o.status = 'pending' AND o.kind = 'digest'",
                (to_db_time(now),),
            )
        ]
        expire_rows(db, ids, "not delivered before the reader's next digest was due")
    return len(ids)


def expire_rows(db: Database, ids: Sequence[int], reason: str, *, attempted: bool = False) -> None:
    """Mark rows expired, release their articles, and move an expired digest's reader's
    window back to before its articles (the window follows what was delivered)."""
    conn = db.conn
    for start in range(0, len(ids), 900):
        chunk = list(ids[start : start + 900])
        marks = ",".join("?" * len(chunk))
        windows = conn.execute(
            "SELECT o.chat_id, min(a.ingested_at) FROM outbox o "
            "JOIN deliveries d ON d.outbox_id = o.id JOIN articles a ON a.id = d.article_id "
            f"WHERE o.id IN ({marks}) AND o.kind = 'digest' AND o.status = 'pending' "
            "GROUP BY o.chat_id",
            chunk,
        ).fetchall()
        for chat_id, earliest in windows:
            before = to_db_time(from_db_time(earliest) - timedelta(microseconds=1))
            conn.execute(
                "UPDATE readers SET digest_since = ? WHERE chat_id = ? AND digest_since > ?",
                (before, chat_id, before),
            )
        conn.execute(
            "UPDATE outbox SET status = ?, last_error = ?, "
            f"attempts = attempts + ? WHERE id IN ({marks}) AND status = 'pending'",
            (OutboxStatus.EXPIRED, reason, int(attempted), *chunk),
        )
        conn.execute(f"DELETE FROM deliveries WHERE outbox_id IN ({marks})", chunk)
