"""Sent digest messages as story cards find them: by the message a button was pressed on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from digest.parts import DigestPart
from storage.db import from_db_time

_COLUMNS = "id, chat_id, message_id, digest_part, created_at, link_preview_url"


@dataclass(frozen=True, slots=True)
class SentDigest:
    """A digest message Telegram has (an outbox row sent as ``message_id``)."""

    outbox_id: int
    chat_id: int
    message_id: int
    part: DigestPart
    rendered_at: datetime  # when it was queued: the "now" its times were shown for
    preview_url: str | None


def _sent(row: tuple[object, ...] | None) -> SentDigest | None:
    if row is None:
        return None
    outbox_id, chat_id, message_id, part_text, created, preview = row
    part = DigestPart.from_text(part_text if isinstance(part_text, str) else None)
    if part is None or not isinstance(created, str):
        return None
    assert isinstance(outbox_id, int) and isinstance(chat_id, int)
    assert isinstance(message_id, int)
    return SentDigest(
        outbox_id,
        chat_id,
        message_id,
        part,
        from_db_time(created),
        preview if isinstance(preview, str) else None,
    )


def digest_of_message(db: Database, chat_id: int, message_id: int) -> SentDigest | None:
    """The digest message ``message_id`` of ``chat_id`` (None: not one, or not kept)."""
    return _sent(
        db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE chat_id = ? AND message_id = ? "
            "AND kind = 'digest' AND digest_part IS NOT NULL ORDER BY id DESC LIMIT 1",
            (chat_id, message_id),
        ).fetchone()
    )


def sent_digest(db: Database, outbox_id: int) -> SentDigest | None:
    """The digest message sent as outbox row ``outbox_id`` (None: no such sent digest)."""
    return _sent(
        db.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE id = ? AND kind = 'digest' "
            "AND message_id IS NOT NULL AND digest_part IS NOT NULL",
            (outbox_id,),
        ).fetchone()
    )
