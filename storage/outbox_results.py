"""Recording what Telegram answered for outbox rows, in one transaction per batch.

``sent`` keeps the message id; ``retry`` waits (``not_before``); ``failed`` keeps the
reason and releases the row's articles; ``expired`` releases them too and moves a
digest's window back (``storage.expiry``); ``blocked`` (a 403, or a group or channel
refusing every message) pauses the subscription and drops its queue
(``storage.subscriptions.drop_chat``); ``migrated`` moves the group to its supergroup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlite_utils import Database

from storage.db import to_db_time, write_transaction
from storage.expiry import expire_rows
from storage.subscriptions import drop_chat_now, migrate_chat

SendOutcome = Literal["sent", "retry", "failed", "blocked", "migrated", "expired"]


@dataclass(frozen=True, slots=True)
class SendResult:
    outbox_id: int
    chat_id: int
    outcome: SendOutcome
    message_id: int | None = None
    error: str | None = None
    retry_at: datetime | None = None
    new_chat_id: int | None = None
    attempted: bool = True  # a send was made (False: expired before it was tried)


@dataclass(frozen=True, slots=True)
class RecordSummary:
    blocked_chats: tuple[int, ...] = ()
    pushes_touched: frozenset[int] = field(default_factory=frozenset)
    pushes_finished: frozenset[int] = field(default_factory=frozenset)  # nothing pending left


def record_results(db: Database, results: Sequence[SendResult], now: datetime) -> RecordSummary:
    """Write what Telegram answered, in one transaction."""
    now_text = to_db_time(now)
    blocked: list[int] = []
    with write_transaction(db):
        conn = db.conn
        sent = [r for r in results if r.outcome == "sent"]
        conn.executemany(
            "UPDATE outbox SET status = 'sent', message_id = ?, sent_at = ?, "
            "attempts = attempts + 1 WHERE id = ?",
            [(r.message_id, now_text, r.outbox_id) for r in sent],
        )
        conn.executemany(
            "UPDATE deliveries SET sent_at = ? WHERE outbox_id = ?",
            [(now_text, r.outbox_id) for r in sent],
        )
        for r in results:
            if r.outcome == "retry":
                conn.execute(
                    "UPDATE outbox SET attempts = attempts + 1, not_before = ?, last_error = ? "
                    "WHERE id = ?",
                    (to_db_time(r.retry_at) if r.retry_at else None, r.error, r.outbox_id),
                )
            elif r.outcome == "failed" and _topic_gone(db, r):
                pass  # still pending, now for the group itself: sent again at once
            elif r.outcome == "failed":
                conn.execute(
                    "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ? "
                    "WHERE id = ?",
                    (r.error, r.outbox_id),
                )
                conn.execute("DELETE FROM deliveries WHERE outbox_id = ?", (r.outbox_id,))
                if _no_rights(db, r, now_text):
                    blocked.append(r.chat_id)
            elif r.outcome == "expired":
                expire_rows(db, [r.outbox_id], r.error or "expired", attempted=r.attempted)
            elif r.outcome == "blocked":
                drop_chat_now(db, r.chat_id, r.error or "blocked", now_text)
                blocked.append(r.chat_id)
            elif r.outcome == "migrated" and r.new_chat_id is not None:
                migrate_chat(db, r.chat_id, r.new_chat_id)
    pushes = frozenset(
        push_id
        for (push_id,) in db.execute(
            f"SELECT DISTINCT push_id FROM outbox WHERE push_id IS NOT NULL AND id IN "
            f"({','.join('?' * len(results)) or 'NULL'})",
            [r.outbox_id for r in results],
        )
    )
    finished = frozenset(
        push_id
        for push_id in pushes
        if db.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM outbox WHERE push_id = ? AND status = 'pending')",
            (push_id,),
        ).fetchone()[0]
    )
    return RecordSummary(
        blocked_chats=tuple(blocked), pushes_touched=pushes, pushes_finished=finished
    )


# Refusals that mean a group or channel will refuse every later message too (the bot was
# demoted in a channel, or may not write in a group): paused like a 403, not a daily loop.
NO_RIGHTS = ("need administrator rights", "not enough rights to send", "chat_write_forbidden")
THREAD_GONE = "message thread not found"


def _no_rights(db: Database, r: SendResult, now_text: str) -> bool:
    """A refusal that the chat will repeat for every message: pause it (True)."""
    error = (r.error or "").lower()
    if not any(marker in error for marker in NO_RIGHTS):
        return False
    drop_chat_now(db, r.chat_id, r.error or "no rights", now_text)
    return True


def _topic_gone(db: Database, r: SendResult) -> bool:
    """A forum topic was deleted (True): this message and what follows go to the group
    itself (its General topic), the message at once; nothing is lost."""
    if THREAD_GONE not in (r.error or "").lower():
        return False
    conn = db.conn
    conn.execute("UPDATE readers SET thread_id = NULL WHERE chat_id = ?", (r.chat_id,))
    conn.execute(
        "UPDATE outbox SET thread_id = NULL WHERE chat_id = ? AND status = 'pending'",
        (r.chat_id,),
    )
    conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
        (r.error, r.outbox_id),
    )
    return True
