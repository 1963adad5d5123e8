"""Shared by the story-card tests: a two-source story (Reuters leads, the BBC's take) and
the sender's part in short (pending rows sent, their message ids recorded)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.markup import inline_markup
from digest.model import Article
from storage.db import utcnow
from storage.outbox import pending_batch
from storage.outbox_results import SendResult, record_results
from tests.chat.harness import Offline
from tests.factories import article


def fed_story(now: datetime) -> tuple[Article, Article]:
    """ "Fed raises rates" (Reuters, a 700-word body, relating the BBC's take) and the BBC's take."""
    return (
        article(
            "Fed raises rates", "https://reuters.example/fed", ["Economy"], now=now,
            provider=("Reuters", "reuters.example"), body="word " * 700,
            related=[("Fed: the BBC's take", "https://bbc.example/fed", "BBC")],
        ),
        article(
            "Fed: the BBC's take", "https://bbc.example/fed", ["Economy"], now=now,
            provider=("BBC", "bbc.example"), quality=40,
        ),
    )  # fmt: skip


async def deliver(offline: Offline, db: Database) -> list[dict[str, Any]]:
    """The sender's part, in short: each pending row sent, its message id recorded."""
    results, sent = [], []
    for row in pending_batch(db, utcnow(), limit=100):
        message = await offline.bot.send_message(
            chat_id=row.chat_id,
            message_thread_id=row.thread_id,
            text=row.text,
            parse_mode="HTML",
            reply_markup=inline_markup(row.keyboard),
        )
        results.append(SendResult(row.id, row.chat_id, "sent", message_id=message.message_id))
        sent.append(offline.message(row.chat_id, message.message_id))
    record_results(db, results, utcnow())
    return sent
