"""``newsdigest health``: exit 0 when the bot on this database is running and well, else 1."""

from __future__ import annotations

from bot.service.health import assess
from bot.settings import Settings
from storage.db import check_db_path, open_db, utcnow
from storage.runtime import read_heartbeat


def cmd_health(settings: Settings) -> int:
    check_db_path(settings.db_path)  # a path that cannot be a database: exit 2, like all
    if not settings.db_path.exists():
        print(
            f"unhealthy: no database at {settings.db_path}: no bot has run with NEWSDIGEST_DB here"
        )
        return 1
    db = open_db(settings.db_path, migrate=False)
    try:
        beat = read_heartbeat(db) if db["state"].exists() else None
    finally:
        db.close()
    verdict = assess(beat, utcnow())
    if verdict.healthy:
        print(f"healthy: {verdict.summary}")
        return 0
    print(f"unhealthy: {verdict.summary}")
    for problem in verdict.problems:
        print(f"  - {problem}")
    return 1
