"""Pending text prompts: a settings button asked a user to type something for a chat.

One prompt per user (the latest wins), with an expiry, so a reply typed much later is
not taken for an answer to a question long gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from storage.db import from_db_time, to_db_time, write_transaction

PROMPT_TTL = timedelta(minutes=15)  # how long a question waits for its answer


@dataclass(frozen=True, slots=True)
class PendingPrompt:
    user_id: int
    chat_id: int  # the subscription the answer changes
    kind: str
    expires_at: datetime


def set_prompt(
    db: Database, user_id: int, chat_id: int, kind: str, expires_at: datetime, now: datetime
) -> None:
    with write_transaction(db):
        db.table("prompts").upsert(
            {
                "user_id": user_id,
                "chat_id": chat_id,
                "kind": kind,
                "expires_at": to_db_time(expires_at),
                "created_at": to_db_time(now),
            },
            pk="user_id",
        )


def take_prompt(
    db: Database, user_id: int, now: datetime, *, chat_id: int | None = None
) -> PendingPrompt | None:
    """The user's pending prompt, removed (an expired one is removed and not returned).

    ``chat_id``: only a prompt for that subscription (a group's question is answered in
    the group; the user's question for another chat stays pending)."""
    with write_transaction(db):
        row = db.execute(
            "SELECT chat_id, kind, expires_at FROM prompts WHERE user_id = ?", (user_id,)
        ).fetchone()
        if row is None or (chat_id is not None and int(row[0]) != chat_id):
            return None
        db.execute("DELETE FROM prompts WHERE user_id = ?", (user_id,))
    expires = from_db_time(row[2])
    if expires <= now:
        return None
    return PendingPrompt(user_id, int(row[0]), str(row[1]), expires)
