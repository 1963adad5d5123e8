"""``newsdigest stats [--json]``: the figures of /stats, for a terminal or a script."""

from __future__ import annotations

import json

from bot.settings import Settings
from bot.stats_view import stats_lines
from storage.db import open_db
from storage.stats import Stats, gather_stats


def stats_json(stats: Stats) -> dict[str, object]:
    return {
        "readers": {
            "active": stats.readers.active,
            "stopped": stats.readers.stopped,
            "blocked": stats.readers.blocked,
        },
        **{
            name: {
                "active": counts.active,
                "stopped": counts.stopped,
                "paused": counts.blocked,
            }
            for name, counts in (("groups", stats.groups), ("channels", stats.channels))
        },
        "paused": [
            {"chat_id": p.chat_id, "kind": p.kind, "title": p.title, "reason": p.reason}
            for p in stats.paused
        ],
        "articles": stats.articles,
        "topics": stats.topics,
        "rejected_files": stats.rejected_files,
        "recent_rejections": [
            {"path": r.path, "reason": r.reason} for r in stats.recent_rejections
        ],
        "outbox": dict(stats.outbox),
        "last_scan_at": stats.last_scan_at.isoformat() if stats.last_scan_at else None,
        "next_digests": [
            {"chat_id": chat_id, "at": at.isoformat()} for chat_id, at in stats.next_digests
        ],
    }


def cmd_stats(settings: Settings, *, as_json: bool) -> int:
    db = open_db(settings.db_path)
    try:
        stats = gather_stats(db)
    finally:
        db.close()
    if as_json:
        print(json.dumps(stats_json(stats), ensure_ascii=False, indent=2))
    else:
        print("\n".join(stats_lines(stats, settings.timezone)))
    return 0
