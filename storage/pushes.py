"""Breaking pushes: a preview first, then one outbox row per reader in the audience."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum

from sqlite_utils import Database

from digest.assemble import provider_key
from digest.keywords import KeywordFilter, Searchable
from digest.quiet import quiet_end
from storage.articles import article_by_id
from storage.controls import keyword_filters, muted_keys
from storage.db import to_db_time, write_transaction
from storage.outbox import PRIORITY_BREAKING, MessageKind, OutgoingMessage, enqueue
from storage.reader_lists import audience
from storage.readers import QuietMode, load_zone
from storage.subscriptions import thread_ids

_TAG = re.compile(r"<[^>]+>")


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
                len(_audience(db, article_id, topic_ids, text, now)),
                PushStatus.PREVIEW,
                to_db_time(now),
            ),
        ).fetchone()
        push = get_push(db, push_id)
    assert push is not None
    return push


def _audience(
    db: Database,
    article_id: int | None,
    topic_ids: frozenset[int] | None,
    text: str = "",
    now: datetime | None = None,
) -> list[int]:
    readers = audience(db, topic_ids, now)
    if article_id is None:
        return _by_keywords(db, readers, None, text)
    # The article may already have reached some readers (a digest, an earlier push).
    have = {
        chat_id
        for (chat_id,) in db.execute(
            "SELECT chat_id FROM deliveries WHERE article_id = ?", (article_id,)
        )
    }
    return _by_keywords(db, [c for c in readers if c not in have], article_id, text)


def _by_keywords(db: Database, readers: list[int], article_id: int | None, text: str) -> list[int]:
    """Readers' own filters apply to pushes as to digests: an article push skips readers
    whose exclude list it matches, whose include list it misses, or who muted its source;
    a free-text push (an announcement to all) skips only those whose exclude list it
    matches."""
    filters = keyword_filters(db, readers)
    muted = muted_keys(db, readers) if article_id is not None else {}
    if not filters and not muted:
        return readers
    article = article_by_id(db, article_id) if article_id is not None else None
    if article is not None:
        searchable = Searchable.of(article.title, article.excerpt)
        source = provider_key(article.provider) if article.provider else None
    else:
        searchable = Searchable.of(html.unescape(_TAG.sub(" ", text)), "")
        source = None

    def admits(chat_id: int) -> bool:
        if source is not None and source in muted.get(chat_id, ()):
            return False
        found = filters.get(chat_id)
        if found is None:
            return True
        if article is None:
            found = KeywordFilter(exclude=found.exclude)
        return found.admits(searchable)

    return [chat_id for chat_id in readers if admits(chat_id)]


def _quiet(
    db: Database, readers: list[int], now: datetime
) -> dict[int, tuple[bool, datetime | None]]:
    """Per reader in quiet hours now: (silent, hold until). Others are absent."""
    found: dict[int, tuple[bool, datetime | None]] = {}
    wanted = set(readers)
    for chat_id, zone, start, end, mode in db.execute(
        "SELECT chat_id, timezone, quiet_start, quiet_end, quiet_mode FROM readers "
        "WHERE quiet_start IS NOT NULL AND quiet_end IS NOT NULL"
    ):
        if chat_id not in wanted:
            continue
        try:
            ends = quiet_end(_clock(start), _clock(end), load_zone(zone), now)
        except ValueError:
            continue
        if ends is not None:
            found[chat_id] = (True, ends if mode == QuietMode.HOLD else None)
    return found


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


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
    db: Database,
    push_id: int,
    topic_ids: frozenset[int] | None,
    now: datetime,
    *,
    texts_by_language: Mapping[str, str] | None = None,
) -> int | None:
    """Confirm a push: queue it for its audience as of now. None if it was not awaiting.

    ``texts_by_language``: the push as readers of those languages see it (its labels and
    date translated); everyone else gets the previewed text.
    The status check and the queueing are one transaction, so a double tap on
    "Send" queues it once.
    """
    with write_transaction(db):
        push = get_push(db, push_id)
        if push is None or push.status != PushStatus.PREVIEW:
            return None
        readers = _audience(db, push.article_id, topic_ids, push.text, now)
        article_ids = (push.article_id,) if push.article_id is not None else ()
        threads = thread_ids(db, readers)  # a forum group gets it in its digest's topic
        quiet = _quiet(db, readers, now)
        languages = _languages(db, texts_by_language or {})
        enqueue(
            db,
            [
                OutgoingMessage(
                    chat_id=chat_id,
                    text=(texts_by_language or {}).get(languages.get(chat_id, ""), push.text),
                    kind=MessageKind.BREAKING,
                    priority=PRIORITY_BREAKING,
                    article_ids=article_ids,
                    push_id=push_id,
                    thread_id=threads.get(chat_id),
                    disable_notification=quiet.get(chat_id, (False, None))[0],
                    hold_until=quiet.get(chat_id, (False, None))[1],
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


def _languages(db: Database, wanted: Mapping[str, str]) -> dict[int, str]:
    """The readers whose stored language is one of ``wanted``'s, by chat id."""
    if not wanted:
        return {}
    marks = ", ".join("?" for _ in wanted)
    rows = db.execute(
        f"SELECT chat_id, language FROM readers WHERE language IN ({marks})", tuple(wanted)
    )
    return {int(chat_id): language for chat_id, language in rows}


def cancel_push(db: Database, push_id: int) -> bool:
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE pushes SET status = ? WHERE id = ? AND status = ?",
            (PushStatus.CANCELLED, push_id, PushStatus.PREVIEW),
        )
    return bool(cursor.rowcount)
