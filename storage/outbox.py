"""The outbox: every digest and breaking message is written here first, then sent.

A row is ``pending`` until Telegram returns its ``message_id`` (``sent``), or it ends
``failed`` (Telegram refused it: the reason is kept), ``dropped`` (the reader blocked
the bot) or ``expired`` (it could not be delivered while it was worth sending: a digest
once the reader's next one is due, a breaking push after its maximum age; the last error
is kept). Articles carried by a row are reserved in ``deliveries`` when it is queued,
so no later digest repeats them; a row that fails or expires releases them again, and an
expired digest moves its reader's window back, so the next digest carries its articles.

This module queues rows and reads them for the sender; ``storage.outbox_results`` writes
what Telegram answered. A row carries its send options: the forum topic (``thread_id``),
quiet hours (``disable_notification``, ``hold_until``: a held push waits alone, the
chat's other messages pass it) and the link to preview (``link_preview_url``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlite_utils import Database

from digest.keyboard import Button, Keyboard
from digest.parts import DigestPart
from storage.db import from_db_time, to_db_time, write_transaction
from storage.schedules import DigestDone, write_schedule_advances

PRIORITY_ANSWER = 0
PRIORITY_BREAKING = 1
PRIORITY_DIGEST = 2


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # Telegram refused it; last_error says why
    DROPPED = "dropped"  # the reader blocked the bot before it went out
    EXPIRED = "expired"  # no longer worth sending (outage); its articles went back


class MessageKind(StrEnum):
    """What a row carries; also ``deliveries.via``, how its articles reached the reader."""

    DIGEST = "digest"
    BREAKING = "breaking"
    ANSWER = "answer"  # a reply of several messages, paced through the outbox
    FOLLOW = "follow"  # news on followed stories (digest.follow), at digest priority


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    chat_id: int
    text: str
    kind: MessageKind
    priority: int
    keyboard: Keyboard = ()
    article_ids: tuple[int, ...] = ()
    push_id: int | None = None
    thread_id: int | None = None  # a forum topic (message_thread_id); None: the chat itself
    disable_notification: bool = False  # quiet hours: arrives without sound
    hold_until: datetime | None = None  # quiet hours: not sent before (others pass it)
    link_preview_url: str | None = None  # None: no link preview
    part: DigestPart | None = None  # a digest message: what renders it again (story cards)


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    id: int
    chat_id: int
    text: str
    priority: int
    kind: str
    attempts: int
    reply_markup: str | None = None  # the stored JSON: decoded where a bad row is recorded
    push_id: int | None = None
    created_at: datetime | None = None
    next_digest_at: datetime | None = None  # the reader's: a digest is worth sending until then
    thread_id: int | None = None
    disable_notification: bool = False
    hold_until: datetime | None = None  # a push held for quiet hours: its age counts from here
    link_preview_url: str | None = None

    @property
    def keyboard(self) -> Keyboard:
        """The row's buttons; raises on a malformed stored keyboard (recorded on the row)."""
        return keyboard_from_json(self.reply_markup)


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
            "attempts, created_at, thread_id, disable_notification, hold_until, link_preview_url, "
            "digest_part) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                message.chat_id,
                message.priority,
                message.kind,
                message.text,
                keyboard_json(message.keyboard),
                message.push_id,
                OutboxStatus.PENDING,
                now_text,
                message.thread_id,
                int(message.disable_notification) or None,
                to_db_time(message.hold_until) if message.hold_until else None,
                message.link_preview_url,
                message.part.to_text() if message.part is not None else None,
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
        "SELECT o.id, o.chat_id, o.text, o.priority, o.kind, o.attempts, o.reply_markup, "
        "o.push_id, o.created_at, r.next_digest_at, o.thread_id, o.disable_notification, "
        "o.hold_until, o.link_preview_url FROM outbox o "
        "LEFT JOIN readers r ON r.chat_id = o.chat_id "
        "WHERE o.status = 'pending' AND (o.not_before IS NULL OR o.not_before <= ?) "
        # A push held for quiet hours waits alone: the chat's other messages go by it.
        "AND (o.hold_until IS NULL OR o.hold_until <= ?) "
        # A chat waiting to retry one message waits with all its later ones: order holds.
        "AND o.chat_id NOT IN (SELECT chat_id FROM outbox WHERE status = 'pending' "
        "AND not_before > ?) ORDER BY o.priority, o.id LIMIT ?",
        (to_db_time(now), to_db_time(now), to_db_time(now), limit + len(skip)),
    ).fetchall()
    return [
        QueuedMessage(
            id=row[0],
            chat_id=row[1],
            text=row[2],
            priority=row[3],
            kind=row[4],
            attempts=row[5],
            reply_markup=row[6],
            push_id=row[7],
            created_at=from_db_time(row[8]) if row[8] else None,
            next_digest_at=from_db_time(row[9]) if row[9] else None,
            thread_id=row[10],
            disable_notification=bool(row[11]),
            hold_until=from_db_time(row[12]) if row[12] else None,
            link_preview_url=row[13],
        )
        for row in rows
        if row[0] not in skip
    ][:limit]


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
