"""Breaking pushes: a preview first, then one outbox row per reader in the audience."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlite_utils import Database

from storage.db import to_db_time, write_transaction
from storage.outbox import PRIORITY_BREAKING, MessageKind, OutgoingMessage, enqueue
from storage.readers import audience
from storage.subscriptions import thread_ids


class PushStatus(StrEnum):
    PREVIEW = "preview"  # awaiting the admin's Send or Cancel
    SENDING = "sending"  # queued in the outbox for its audience
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Push:
    id: int
    created_by: int | None
    article_id: int | None
    text: str
    audience: int
    status: PushStatus
    preview_chat_id: int | None
    preview_message_id: int | None


def create_push(
    db: Database,
    *,
    created_by: int | None,
    article_id: int | None,
    text: str,
    topic_ids: frozenset[int] | None,
    now: datetime,
) -> Push:
    """Record a push awaiting confirmation, with the audience size it would have now."""
    with write_transaction(db):
        (push_id,) = db.conn.execute(
            "INSERT INTO pushes (created_by, article_id, text, audience, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (
                created_by,
                article_id,
                text,
                len(_audience(db, article_id, topic_ids)),
                PushStatus.PREVIEW,
                to_db_time(now),
            ),
        ).fetchone()
        push = get_push(db, push_id)
    assert push is not None
    return push


def _audience(db: Database, article_id: int | None, topic_ids: frozenset[int] | None) -> list[int]:
    readers = audience(db, topic_ids)
    if article_id is None:
        return readers
    # The article may already have reached some readers (a digest, an earlier push).
    have = {
        chat_id
        for (chat_id,) in db.execute(
            "SELECT chat_id FROM deliveries WHERE article_id = ?", (article_id,)
        )
    }
    return [chat_id for chat_id in readers if chat_id not in have]


def get_push(db: Database, push_id: int) -> Push | None:
    row = db.execute(
        "SELECT id, created_by, article_id, text, audience, status, preview_chat_id, "
        "preview_message_id FROM pushes WHERE id = ?",
        (push_id,),
    ).fetchone()
    if row is None:
        return None
    push_id, created_by, article_id, text, size, status, preview_chat, preview_message = row
    return Push(
        push_id,
        created_by,
        article_id,
        text,
        size,
        PushStatus(status),
        preview_chat,
        preview_message,
    )


def set_preview_message(db: Database, push_id: int, chat_id: int, message_id: int) -> None:
    db.execute(
        "UPDATE pushes SET preview_chat_id = ?, preview_message_id = ? WHERE id = ?",
        (chat_id, message_id, push_id),
    )


def start_push(
    db: Database, push_id: int, topic_ids: frozenset[int] | None, now: datetime
) -> int | None:
    """Confirm a push: queue it for its audience as of now. None if it was not awaiting.

    The status check and the queueing are one transaction, so a double tap on
    "Send" queues it once.
    """
    with write_transaction(db):
        push = get_push(db, push_id)
        if push is None or push.status != PushStatus.PREVIEW:
            return None
        readers = _audience(db, push.article_id, topic_ids)
        article_ids = (push.article_id,) if push.article_id is not None else ()
        threads = thread_ids(db, readers)  # a forum group gets it in its digest's topic
        enqueue(
            db,
            [
                OutgoingMessage(
                    chat_id=chat_id,
                    text=push.text,
                    kind=MessageKind.BREAKING,
                    priority=PRIORITY_BREAKING,
                    article_ids=article_ids,
                    push_id=push_id,
                    thread_id=threads.get(chat_id),
                )
                for chat_id in readers
            ],
            now,
        )
        db.execute(
            "UPDATE pushes SET status = ?, audience = ? WHERE id = ?",
            (PushStatus.SENDING, len(readers), push_id),
        )
    return len(readers)


def cancel_push(db: Database, push_id: int) -> bool:
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE pushes SET status = ? WHERE id = ? AND status = ?",
            (PushStatus.CANCELLED, push_id, PushStatus.PREVIEW),
        )
    return bool(cursor.rowcount)
