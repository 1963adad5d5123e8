"""The running bot's own rows in ``state``: its heartbeat, and the webhook secret.

The heartbeat is one JSON row the bot rewrites every few seconds; ``newsdigest
health`` (another process, maybe a container's HEALTHCHECK) reads it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

from sqlite_utils import Database

from storage.db import get_state, set_state, write_transaction

HEARTBEAT_KEY = "heartbeat"
WEBHOOK_SECRET_KEY = "webhook_secret"


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Times are database text (``storage.db.to_db_time``); ``None`` = not yet."""

    pid: int
    mode: str  # "polling" | "webhook"
    status: str  # "running" | "stopped"
    started_at: str
    beat_at: str
    contact_at: str | None = None  # last successful answer from the Bot API (any method)
    poll_at: str | None = None  # last successful getUpdates (polling mode)
    update_at: str | None = None  # last update received (either mode)
    tick_at: str | None = None  # last digest tick finished
    tick_interval: float = 20.0  # seconds between digest ticks
    conflict: str | None = None  # getUpdates Conflict going on, since when
    webhook_error: str | None = None  # Telegram's last_error_message for our webhook


def write_heartbeat(db: Database, beat: Heartbeat) -> None:
    set_state(db, HEARTBEAT_KEY, json.dumps(asdict(beat)))


def read_heartbeat(db: Database) -> Heartbeat | None:
    raw = get_state(db, HEARTBEAT_KEY)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        known = {f.name for f in fields(Heartbeat)}
        return Heartbeat(**{k: v for k, v in data.items() if k in known})
    except (ValueError, TypeError):
        return None  # a row from another version: as good as none


def webhook_secret(db: Database, generate: Callable[[], str]) -> str:
    """The stored webhook secret, created with ``generate()`` on first use."""
    with write_transaction(db):
        secret = get_state(db, WEBHOOK_SECRET_KEY)
        if secret is None:
            secret = generate()
            set_state(db, WEBHOOK_SECRET_KEY, secret)
    return secret
