"""The /stats figures as lines of text: one layout for the chat (HTML) and the terminal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from storage.outbox import OutboxStatus
from storage.reader_lists import ReaderCounts
from storage.readers import ChatKind
from storage.stats import Stats


def _plain(text: str) -> str:
    return text


def stats_lines(
    stats: Stats, zone: ZoneInfo, *, escape: Callable[[str], str] = _plain, short: bool = False
) -> list[str]:
    """Readers (private chats), groups and channels apart, articles, rejections, outbox,
    last scan, next digests.

    ``escape``: applied to file paths and reasons (untrusted text) for an HTML chat;
    ``short``: paths and reasons trimmed to fit a chat message, dates without the year.
    """
    date = "%d %b %H:%M" if short else "%Y-%m-%d %H:%M"

    def local(moment: datetime | None) -> str:
        return "never" if moment is None else f"{moment.astimezone(zone):{date}:%S}"

    outbox = stats.outbox
    rejections = [
        (r.path[-80:], r.reason[:120]) if short else (r.path, r.reason)
        for r in stats.recent_rejections
    ]
    paused = [
        (
            f"{'📢' if p.kind == ChatKind.CHANNEL else '👥'} {p.title[:60] if short else p.title}"
            f" ({p.chat_id})",
            p.reason[:120] if short else p.reason,
        )
        for p in stats.paused
    ]
    return [
        f"Readers: {stats.readers.active} active, {stats.readers.stopped} stopped, "
        f"{stats.readers.blocked} blocked",
        f"Groups: {_shared(stats.groups)}",
        f"Channels: {_shared(stats.channels)}",
        *[f"  • {escape(name)} paused: {escape(reason)}" for name, reason in paused],
        f"Articles: {stats.articles} · topics: {stats.topics}",
        f"Files rejected: {stats.rejected_files}",
        *[f"  • {escape(path)}: {escape(reason)}" for path, reason in rejections],
        "Outbox: "
        + ", ".join(f"{outbox.get(status, 0)} {status.value}" for status in OutboxStatus),
        f"Last folder scan: {local(stats.last_scan_at)}",
        "Next digests: "
        + (
            ", ".join(f"{chat} at {at.astimezone(zone):{date}}" for chat, at in stats.next_digests)
            or "none"
        ),
    ]


def _shared(counts: ReaderCounts) -> str:
    """A group or channel the bot may not post to is "paused" (it resumes by itself)."""
    return f"{counts.active} active, {counts.stopped} stopped, {counts.blocked} paused"
