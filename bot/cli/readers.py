"""``newsdigest readers [list|block|unblock] [CHAT_ID]``: who gets digests, and stopping a chat."""

from __future__ import annotations

import sys

from bot.settings import Settings
from storage.db import open_db, utcnow
from storage.reader_lists import list_readers
from storage.readers import ReaderStatus, get_reader
from storage.subscriptions import drop_chat, set_status


def cmd_readers(settings: Settings, action: str, chat_id: int | None, status: str | None) -> int:
    if action == "list":
        if chat_id is not None:
            print("newsdigest readers: list takes no chat id (use --status)", file=sys.stderr)
            return 2
        return _list(settings, status)
    if chat_id is None:
        print(f"newsdigest readers: {action} needs a chat id, e.g. `readers {action} 12345`",
              file=sys.stderr)  # fmt: skip
        return 2
    db = open_db(settings.db_path)
    try:
        reader = get_reader(db, chat_id)
        if reader is None:
            print(f"newsdigest readers: no reader with chat id {chat_id} "
                  "(see `newsdigest readers`)", file=sys.stderr)  # fmt: skip
            return 1
        if action == "block":
            # As when the reader blocks the bot: nothing more is sent, the queue is dropped.
            drop_chat(db, chat_id, "blocked by an operator (newsdigest readers block)", utcnow())
            print(f"Chat {chat_id} blocked: no digests or pushes; its queued messages dropped.")
            print("It becomes active again with `newsdigest readers unblock` or its own /start.")
        else:
            if reader.status != ReaderStatus.BLOCKED:
                print(f"Chat {chat_id} is {reader.status}, not blocked: nothing to do.")
                return 0
            set_status(db, chat_id, ReaderStatus.ACTIVE, utcnow())
            print(f"Chat {chat_id} unblocked: active again.")
    finally:
        db.close()
    return 0


def _list(settings: Settings, status: str | None) -> int:
    db = open_db(settings.db_path)
    try:
        rows = list_readers(db, status)
    finally:
        db.close()
    zone = settings.timezone
    print(
        f"{'chat id':>14}  {'status':<8} {'time':<5} {'zone':<20} {'next digest':<16} name, topics"
    )
    for row in rows:
        name = row.first_name + (f" (@{row.username})" if row.username else "")
        upcoming = (
            f"{row.next_digest_at.astimezone(zone):%Y-%m-%d %H:%M}" if row.next_digest_at else "-"
        )
        topics = ", ".join(row.topics) or "all topics"
        print(f"{row.chat_id:>14}  {row.status:<8} {row.digest_time:<5} {row.timezone:<20} "
              f"{upcoming:<16} {name}: {topics}")  # fmt: skip
    print(f"{len(rows)} readers" + (f" ({status})" if status else ""))
    return 0
