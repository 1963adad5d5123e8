"""The outbox: every digest and breaking message is written here first, then sent.

A row is ``pending`` until Telegram returns its ``message_id`` (``sent``), or it ends
``failed`` (Telegram refused it: the reason is kept) or ``dropped`` (the reader blocked
the bot). Articles carried by a row are reserved in ``deliveries`` when it is queued,
so no later digest repeats them; a row that fails releases them again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from sqlite_utils import Database

from digest.keyboard import Button, Keyboard
from storage.db import to_db_time, write_transaction
from storage.readers import ReaderStatus, migrate_chat
from storage.schedules import DigestDone, write_schedule_advances

PRIORITY_ANSWER = 0
PRIORITY_BREAKING = 1
PRIORITY_DIGEST = 2


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # Telegram refused it; last_error says why
    DROPPED = "dropped"  # the reader blocked the bot before it went out


class MessageKind(StrEnum):
    """What a row carries; also ``deliveries.via``, how its articles reached the reader."""

    DIGEST = "digest"
    BREAKING = "breaking"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    chat_id: int
    text: str
    kind: MessageKind
    priority: int
    keyboard: Keyboard = ()
    article_ids: tuple[int, ...] = ()
    push_id: int | None = None
    disable_notification: bool = False  # quiet hours: arrives without sound
    hold_until: datetime | None = None  # quiet hours: not sent before (others pass it)
    link_preview_url: str | None = None  # None: no link preview


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    id: int
    chat_id: int
    text: str
    priority: int
    kind: str
    attempts: int
    keyboard: Keyboard = ()
    push_id: int | None = None
    disable_notification: bool = False
    link_preview_url: str | None = None


SendOutcome = Literal["sent", "retry", "failed", "blocked", "migrated"]


@dataclass(frozen=True, slots=True)
class SendResult:
    outbox_id: int
    chat_id: int
    outcome: SendOutcome
    message_id: int | None = None
    error: str | None = None
    retry_at: datetime | None = None
    new_chat_id: int | None = None


@dataclass(frozen=True, slots=True)
class RecordSummary:
    blocked_chats: tuple[int, ...] = ()
    pushes_touched: frozenset[int] = field(default_factory=frozenset)
    pushes_finished: frozenset[int] = field(default_factory=frozenset)  # nothing pending left


def keyboard_json(keyboard: Keyboard) -> str | None:
    """The outbox's ``reply_markup`` column: Bot API JSON, as rows have always held it."""
    if not keyboard:
        return None
    rows = [[{"text": b.label, "callback_data": b.callback_data} for b in row] for row in keyboard]
    return json.dumps({"inline_keyboard": rows})


def keyboard_from_json(text: str | None) -> Keyboard:
    """A stored ``reply_markup`` back as rows of buttons (() for none)."""
    if not text:
        return ()
    rows = json.loads(text)["inline_keyboard"]
    return tuple(tuple(Button(b["text"], b["callback_data"]) for b in row) for row in rows if row)


def enqueue(db: Database, messages: Sequence[OutgoingMessage], now: datetime) -> list[int]:
    """Queue messages (in order) and reserve their articles for their readers."""
    with write_transaction(db):
        return _enqueue(db, messages, to_db_time(now))


def _enqueue(db: Database, messages: Sequence[OutgoingMessage], now_text: str) -> list[int]:
    ids: list[int] = []
    conn = db.conn
    for message in messages:
        (outbox_id,) = conn.execute(
            "INSERT INTO outbox (chat_id, priority, kind, text, reply_markup, push_id, status, "
            "attempts, created_at, disable_notification, hold_until, link_preview_url) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?) RETURNING id",
            (
                message.chat_id,
                message.priority,
                message.kind,
                message.text,
                keyboard_json(message.keyboard),
                message.push_id,
                OutboxStatus.PENDING,
                now_text,
                int(message.disable_notification) or None,
                to_db_time(message.hold_until) if message.hold_until else None,
                message.link_preview_url,
            ),
        ).fetchone()
        ids.append(outbox_id)
        if message.article_ids:
            conn.executemany(
                "INSERT OR IGNORE INTO deliveries (chat_id, article_id, outbox_id, via, queued_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (message.chat_id, a, outbox_id, message.kind, now_text)
                    for a in message.article_ids
                ],
            )
    return ids


def commit_digests(
    db: Database, messages: Sequence[OutgoingMessage], done: Sequence[DigestDone], now: datetime
) -> None:
    """Queue a tick's digests and advance those readers' schedules in one transaction.

    A crash before the commit loses neither: the readers are still due and are
    assembled again; after it, the outbox holds the messages.
    """
    with write_transaction(db):
        _enqueue(db, messages, to_db_time(now))
        write_schedule_advances(db, done, now)


def pending_batch(
    db: Database, now: datetime, *, limit: int, skip_ids: Iterable[int] = ()
) -> list[QueuedMessage]:
    """The next pending messages, most urgent first, oldest first within a priority."""
    skip = set(skip_ids)
    rows = db.execute(
        "SELECT id, chat_id, text, priority, kind, attempts, reply_markup, push_id, "
        "disable_notification, link_preview_url FROM outbox "
        "WHERE status = 'pending' AND (not_before IS NULL OR not_before <= ?) "
        # A push held for quiet hours waits alone: the chat's other messages go by it.
        "AND (hold_until IS NULL OR hold_until <= ?) "
        # A chat waiting to retry one message waits with all its later ones: order holds.
        "AND chat_id NOT IN (SELECT chat_id FROM outbox WHERE status = 'pending' "
        "AND not_before > ?) ORDER BY priority, id LIMIT ?",
        (to_db_time(now), to_db_time(now), to_db_time(now), limit + len(skip)),
    ).fetchall()
    return [
        QueuedMessage(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            row[5],
            keyboard_from_json(row[6]),
            row[7],
            disable_notification=bool(row[8]),
            link_preview_url=row[9],
        )
        for row in rows
        if row[0] not in skip
    ][:limit]


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
            elif r.outcome == "failed":
                conn.execute(
                    "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ? "
                    "WHERE id = ?",
                    (r.error, r.outbox_id),
                )
                conn.execute("DELETE FROM deliveries WHERE outbox_id = ?", (r.outbox_id,))
            elif r.outcome == "blocked":
                _drop_chat(db, r.chat_id, r.error or "blocked", now_text)
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


def _drop_chat(db: Database, chat_id: int, reason: str, now_text: str) -> None:
    """A reader blocked the bot (or the chat is gone): stop, and drop what was queued."""
    conn = db.conn
    conn.execute(
        "UPDATE readers SET status = ?, updated_at = ? WHERE chat_id = ?",
        (ReaderStatus.BLOCKED, now_text, chat_id),
    )
    conn.execute(
        "DELETE FROM deliveries WHERE outbox_id IN "
        "(SELECT id FROM outbox WHERE chat_id = ? AND status = 'pending')",
        (chat_id,),
    )
    conn.execute(
        "UPDATE outbox SET status = 'dropped', last_error = ? "
        "WHERE chat_id = ? AND status = 'pending'",
        (reason, chat_id),
    )


def drop_chat(db: Database, chat_id: int, reason: str, now: datetime) -> None:
    with write_transaction(db):
        _drop_chat(db, chat_id, reason, to_db_time(now))


StatusCounts = dict[OutboxStatus, int]


def _status_counts(db: Database, where: str, params: Sequence[object]) -> StatusCounts:
    counts = dict.fromkeys(OutboxStatus, 0)
    for status, count in db.execute(
        f"SELECT status, count(*) FROM outbox WHERE {where} GROUP BY status", params
    ):
        counts[OutboxStatus(status)] = count
    return counts


def outbox_counts(db: Database) -> StatusCounts:
    return _status_counts(db, "1", ())


def push_counts(db: Database, push_id: int) -> StatusCounts:
    return _status_counts(db, "push_id = ?", (push_id,))


def delivered_among(db: Database, since: datetime, chat_ids: Sequence[int]) -> dict[int, set[int]]:
    """Per chat, the articles ingested after ``since`` already sent or queued to it."""
    since_text = to_db_time(since)
    delivered: dict[int, set[int]] = {}
    for start in range(0, len(chat_ids), 900):
        chunk = chat_ids[start : start + 900]
        for chat_id, article_id in db.execute(
            "SELECT d.chat_id, d.article_id FROM deliveries d "
            "JOIN articles a ON a.id = d.article_id "
            f"WHERE d.chat_id IN ({','.join('?' * len(chunk))}) AND a.ingested_at > ?",
            (*chunk, since_text),
        ):
            delivered.setdefault(chat_id, set()).add(article_id)
    return delivered


def delivered_to(db: Database, chat_id: int) -> set[int]:
    return {
        a for (a,) in db.execute("SELECT article_id FROM deliveries WHERE chat_id = ?", (chat_id,))
    }
