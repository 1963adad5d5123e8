"""/stats: readers, articles, rejected files, outbox and schedule at a glance (admins)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import Update

from bot.chat.replies import NOT_ALLOWED, answer, is_admin
from bot.context import BotContext
from digest.html import escape
from storage.db import from_db_time
from storage.stats import gather_stats


async def cmd_stats(update: Update, context: BotContext) -> None:
    """Readers, articles, rejected files, outbox and schedule at a glance."""
    if not is_admin(update, context):
        await answer(update, NOT_ALLOWED)
        return
    stats = await context.services.db.run(gather_stats)
    zone = ZoneInfo(context.settings.timezone)

    def local(text: str | None) -> str:
        return "never" if not text else f"{from_db_time(text).astimezone(zone):%d %b %H:%M:%S}"

    lines = [
        "<b>newsdigest stats</b>",
        f"Readers: {stats.readers.active} active, {stats.readers.stopped} stopped, "
        f"{stats.readers.blocked} blocked",
        f"Articles: {stats.articles} · topics: {stats.topics}",
        f"Files rejected: {stats.rejected_files}",
    ]
    lines += [
        f"  • {escape(r.path[-80:])}: {escape(r.reason[:120])}" for r in stats.recent_rejections
    ]
    outbox = stats.outbox
    lines += [
        f"Outbox: {outbox['pending']} pending, {outbox['sent']} sent, "
        f"{outbox['failed']} failed, {outbox['dropped']} dropped, {outbox['expired']} expired",
        f"Last folder scan: {local(stats.last_scan_at)}",
        "Next digests: "
        + (
            ", ".join(
                f"{chat} at {at.astimezone(zone):%d %b %H:%M}" for chat, at in stats.next_digests
            )
            or "none"
        ),
    ]
    await answer(update, "\n".join(lines))
