"""``newsdigest stats [--json]``: the figures of /stats, for a terminal or a script."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from bot.settings import Settings
from storage.db import from_db_time, open_db
from storage.stats import Stats, gather_stats


def stats_json(stats: Stats) -> dict[str, object]:
    return {
        "readers": {
            "active": stats.readers.active,
            "stopped": stats.readers.stopped,
            "blocked": stats.readers.blocked,
        },
        "articles": stats.articles,
        "topics": stats.topics,
        "rejected_files": stats.rejected_files,
        "recent_rejections": [
            {"path": r.path, "reason": r.reason} for r in stats.recent_rejections
        ],
        "outbox": dict(stats.outbox),
        "last_scan_at": stats.last_scan_at,
        "next_digests": [
            {"chat_id": chat_id, "at": at.isoformat()} for chat_id, at in stats.next_digests
        ],
    }


def stats_text(stats: Stats, zone: ZoneInfo) -> list[str]:
    def local(text: str | None) -> str:
        return "never" if not text else f"{from_db_time(text).astimezone(zone):%Y-%m-%d %H:%M:%S}"

    outbox = stats.outbox
    lines = [
        f"Readers: {stats.readers.active} active, {stats.readers.stopped} stopped, "
        f"{stats.readers.blocked} blocked",
        f"Articles: {stats.articles} · topics: {stats.topics}",
        f"Files rejected: {stats.rejected_files}",
        *[f"  • {r.path}: {r.reason}" for r in stats.recent_rejections],
        f"Outbox: {outbox.get('pending', 0)} pending, {outbox.get('sent', 0)} sent, "
        f"{outbox.get('failed', 0)} failed, {outbox.get('dropped', 0)} dropped",
        f"Last folder scan: {local(stats.last_scan_at)}",
        "Next digests: "
        + (
            ", ".join(
                f"{chat} at {at.astimezone(zone):%Y-%m-%d %H:%M}" for chat, at in stats.next_digests
            )
            or "none"
        ),
    ]
    return lines


def cmd_stats(settings: Settings, *, as_json: bool) -> int:
    db = open_db(settings.db_path)
    try:
        stats = gather_stats(db)
    finally:
        db.close()
    if as_json:
        print(json.dumps(stats_json(stats), ensure_ascii=False, indent=2))
    else:
        print("\n".join(stats_text(stats, ZoneInfo(settings.timezone))))
    return 0
