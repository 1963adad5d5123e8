"""/settings: one screen showing every setting, each opening its own screen, edited in
place with Back; the commands (/topics, /time, /keywords, …) stay as shortcuts."""

from __future__ import annotations

from telegram import Update

from bot.chat import cadence, keywords, quiet, shape, sources, topics, zones
from bot.chat.replies import answer_stale
from bot.chat.screens import Screen, heading, local_time, rows, show
from bot.chat.target import reading
from bot.context import BotContext
from digest.callbacks import Section, SettingsHome, SettingsOpen
from digest.html import escape
from storage.controls import muted_sources
from storage.db import utcnow
from storage.readers import Reader, ReaderStatus
from storage.topics import topics_by_ids

LABELS = {
    Section.TOPICS: "🗂 Topics",
    Section.TIMES: "⏰ Times",
    Section.ZONE: "🌍 Time zone",
    Section.KEYWORDS: "🔎 Keywords",
    Section.SOURCES: "🔇 Sources",
    Section.QUIET: "🌙 Quiet hours",
    Section.SHAPE: "📰 Digest shape",
    Section.PAUSE: "⏸ Pause",
}
OPEN = {
    Section.TOPICS: topics.open_topics,
    Section.TIMES: cadence.open_times,
    Section.ZONE: zones.open_zone,
    Section.KEYWORDS: keywords.open_keywords,
    Section.SOURCES: sources.open_sources,
    Section.QUIET: quiet.open_quiet,
    Section.SHAPE: shape.open_shape,
    Section.PAUSE: cadence.open_pause,
}


def home_screen(update: Update, reader: Reader, topic_names: list[str], muted: list[str]) -> Screen:
    stopped = reader.status != ReaderStatus.ACTIVE
    now = utcnow()
    if stopped:
        status, upcoming = "unsubscribed — /start to come back", "none (unsubscribed)"
    elif reader.is_paused(now):
        status = cadence.pause_text(reader)
        upcoming = local_time(reader.next_digest_at, reader)
    else:
        status, upcoming = "subscribed", local_time(reader.next_digest_at, reader)
    lines = [
        heading(update, reader, "Your settings"),
        f"Status: {status}",
        "Topics: " + (", ".join(escape(n) for n in topic_names) or "all topics (none chosen)"),
        f"Digests: {cadence.schedule_text(reader)}",
        f"Next digest: {upcoming}",
        f"Last digest: {local_time(reader.last_digest_at, reader)}",
        f"Keywords: {keywords.keywords_summary(reader)}",
        f"Muted sources: {sources.sources_summary(muted)}",
        f"Quiet hours: {quiet.quiet_text(reader)}",
        f"Digest shape: {shape.shape_text(reader)}",
    ]
    if stopped:
        return "\n".join(lines), ()
    lines.append("\nTap a setting to change it.")
    buttons = [SettingsOpen(section, reader.chat_id).button(LABELS[section]) for section in Section]
    return "\n".join(lines), tuple(rows(buttons, 2))


async def open_home(update: Update, context: BotContext, chat_id: int | None = None) -> None:
    reader = await reading(update, context, chat_id, include_stopped=chat_id is None)
    if reader is None:
        return
    store = context.services.db
    names = [t.name for t in await store.run(topics_by_ids, reader.topic_ids)]
    muted = [m.provider for m in await store.run(muted_sources, reader.chat_id)]
    await show(update, home_screen(update, reader, names, muted))


async def cmd_settings(update: Update, context: BotContext) -> None:
    """Every setting, and a button for each."""
    await open_home(update, context)


async def on_settings_button(update: Update, context: BotContext) -> None:
    """set:<chat> the home screen, so:<section>:<chat> one of its screens."""
    query = update.callback_query
    if query is None:
        return
    pressed = SettingsHome.decode(query.data) or SettingsOpen.decode(query.data)
    if pressed is None:
        await answer_stale(query)
        return
    if await reading(update, context, pressed.chat) is None:
        return  # refused, with a pop-up that answered the query
    await query.answer()
    if isinstance(pressed, SettingsHome):
        await open_home(update, context, pressed.chat)
    else:
        await OPEN[pressed.section](update, context, pressed.chat)
