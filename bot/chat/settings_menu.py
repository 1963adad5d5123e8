"""/settings: one screen showing every setting, each opening its own screen, edited in
place with Back; the commands (/topics, /time, /keywords, …) stay as shortcuts.

The same screens serve a reader's own chat, a group (everyone may look, its
administrators change) and a channel managed from a private chat: /channels opens a
channel's home screen, marked with its name, with Stop and Resume buttons (a channel
cannot send /stop or /start).
"""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import Update

from bot.chat import cadence, keywords, quiet, shape, sources, topics, zones
from bot.chat.replies import answer_stale
from bot.chat.screens import Screen, local_time, rows, show
from bot.chat.target import editing, marked, reading
from bot.context import BotContext
from bot.i18n import LANGUAGE_NAMES, N_, _, supported_language
from digest.callbacks import ChannelButton, ChannelVerb, decode_any
from digest.html import escape
from digest.keyboard import Button
from digest.settings_callbacks import Section, SettingsHome, SettingsOpen, TopicsDone
from storage.controls import muted_sources
from storage.db import utcnow
from storage.readers import ChatKind, Reader, ReaderStatus, get_reader
from storage.subscriptions import set_status, subscribe
from storage.topics import all_topics, topics_by_ids

_LOGGER = logging.getLogger(__name__)
LABELS = {
    Section.TOPICS: N_("🗂 Topics"),
    Section.TIMES: N_("⏰ Times"),
    Section.ZONE: N_("🌍 Time zone"),
    Section.KEYWORDS: N_("🔎 Keywords"),
    Section.SOURCES: N_("🔇 Sources"),
    Section.QUIET: N_("🌙 Quiet hours"),
    Section.SHAPE: N_("📰 Digest shape"),
    Section.PAUSE: N_("⏸ Pause"),
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
HOME_BUTTONS = (SettingsHome, SettingsOpen, TopicsDone, ChannelButton)


def status_text(reader: Reader, now: datetime) -> str:
    """A subscription's state in words (HTML): active, paused by /pause, stopped by /stop,
    or paused because the bot may not post there (a group or channel) or is blocked."""
    if reader.status == ReaderStatus.STOPPED:
        if reader.is_channel:
            return _("stopped (Resume below)")
        if reader.is_group:
            return _("unsubscribed — an administrator sends /start to bring it back")
        return _("unsubscribed — /start to come back")
    if reader.status == ReaderStatus.BLOCKED:
        if reader.kind == ChatKind.PRIVATE:
            return _("blocked (you blocked me) — /start to come back")
        reason = escape(reader.paused_reason or _("I cannot post there"))
        if reader.is_channel:
            return _(
                "paused: {reason}. Make me an administrator of the channel with “Post "
                "messages” again and it resumes by itself"
            ).format(reason=reason)
        return _(
            "paused: {reason}. Add me to the group again (allowed to send messages) and it "
            "resumes by itself"
        ).format(reason=reason)
    if reader.is_paused(now):
        ends = _("⏸ Pause below ends it") if reader.is_channel else _("/resume ends it")
        return f"{cadence.pause_text(reader)} ({ends})"
    return _("subscribed")


def _title(reader: Reader) -> str:
    if reader.is_channel:
        return marked(reader, "").rstrip()  # "Settings for 📢 <name>" alone
    return _("<b>This group's settings</b>") if reader.is_group else _("<b>Your settings</b>")


def home_screen(reader: Reader, topic_names: list[str], muted: list[str]) -> Screen:
    now = utcnow()
    active = reader.status == ReaderStatus.ACTIVE
    if active:
        upcoming = local_time(reader.next_digest_at, reader)
    elif reader.status == ReaderStatus.STOPPED:
        upcoming = _("none (stopped)") if reader.is_channel else _("none (unsubscribed)")
    else:
        upcoming = _("none (paused)")
    chosen = ", ".join(escape(n) for n in topic_names) or _("all topics (none chosen)")
    lines = [
        _title(reader),
        _("Status: {status}").format(status=status_text(reader, now)),
        _("Topics: {topics}").format(topics=chosen),
        _("Digests: {schedule}").format(schedule=cadence.schedule_text(reader)),
        _("Next digest: {when}").format(when=upcoming),
        _("Last digest: {when}").format(when=local_time(reader.last_digest_at, reader)),
        _("Keywords: {keywords}").format(keywords=keywords.keywords_summary(reader)),
        _("Muted sources: {sources}").format(sources=sources.sources_summary(muted)),
        _("Quiet hours: {quiet}").format(quiet=quiet.quiet_text(reader)),
        _("Digest shape: {shape}").format(shape=shape.shape_text(reader)),
        _("Language: {language}").format(
            language=LANGUAGE_NAMES[supported_language(reader.language)]
        ),
    ]
    keyboard: list[tuple[Button, ...]] = []
    if active:
        tap = (
            _("Administrators tap a setting to change it.")
            if reader.is_group
            else _("Tap a setting to change it.")
        )
        lines.append(f"\n{tap}")
        buttons = [SettingsOpen(s, reader.chat_id).button(_(LABELS[s])) for s in Section]
        keyboard.extend(rows(buttons, 2))
    if reader.is_channel and reader.status == ReaderStatus.ACTIVE:
        stop = ChannelButton(ChannelVerb.STOP, reader.chat_id).button(_("Stop digests"))
        keyboard.append((stop,))
    elif reader.is_channel and reader.status == ReaderStatus.STOPPED:
        resume = ChannelButton(ChannelVerb.RESUME, reader.chat_id).button(_("Resume digests"))
        keyboard.append((resume,))
    return "\n".join(lines), tuple(keyboard)


async def show_home(update: Update, context: BotContext, reader: Reader, note: str = "") -> None:
    """``reader``'s home screen (``note``: a line above it), edited in place or sent."""
    store = context.services.db
    names = [t.name for t in await store.run(topics_by_ids, reader.topic_ids)]
    muted = [m.provider for m in await store.run(muted_sources, reader.chat_id)]
    text, keyboard = home_screen(reader, names, muted)
    await show(update, (f"{note}\n\n{text}" if note else text, keyboard))


async def open_home(update: Update, context: BotContext, chat_id: int | None = None) -> None:
    reader = await reading(update, context, chat_id, include_stopped=True)
    if reader is not None:
        await show_home(update, context, reader)


async def cmd_settings(update: Update, context: BotContext) -> None:
    """Every setting, and a button for each."""
    await open_home(update, context)


async def on_settings_button(update: Update, context: BotContext) -> None:
    """set:<chat> the home screen, so:<section>:<chat> one of its screens, td:<chat> the
    topic picker's Done, chan:<stop|resume>:<chat> a channel's Stop and Resume."""
    query = update.callback_query
    if query is None:
        return
    pressed = decode_any(query.data, HOME_BUTTONS)
    if pressed is None:
        await answer_stale(query)
        return
    if isinstance(pressed, ChannelButton):
        await _stop_or_resume(update, context, pressed)
        return
    assert isinstance(pressed, SettingsHome | SettingsOpen | TopicsDone)
    # A press edits the message the screen is in: in a group, its administrators' alone
    # (anyone may send /settings for a look).
    reader = await editing(update, context, pressed.chat_id, include_stopped=True)
    if reader is None:
        return  # refused, with a pop-up that answered the query
    if isinstance(pressed, TopicsDone):
        chosen = topics.topics_summary(reader, await context.services.db.run(all_topics))
        await query.answer(_("Topics: {topics}").format(topics=chosen)[:200])
        await show_home(update, context, reader)
        return
    await query.answer()
    if isinstance(pressed, SettingsHome):
        await show_home(update, context, reader)
    else:
        await OPEN[pressed.section](update, context, pressed.chat_id)


async def _stop_or_resume(update: Update, context: BotContext, pressed: ChannelButton) -> None:
    query = update.callback_query
    assert query is not None
    reader = await editing(update, context, pressed.chat_id, include_stopped=True)
    if reader is None:
        return
    if not reader.is_channel:  # a chat that can send commands has /stop and /start
        await answer_stale(query)
        return
    store, now = context.services.db, utcnow()
    note = None
    if pressed.verb == ChannelVerb.STOP and reader.status == ReaderStatus.ACTIVE:
        await store.run(set_status, reader.chat_id, ReaderStatus.STOPPED, now)
        note = _("Stopped: no more digests there")
    elif pressed.verb == ChannelVerb.RESUME and reader.status == ReaderStatus.STOPPED:
        await store.run(
            subscribe,
            reader.chat_id,
            user_id=None,
            first_name="",
            username=None,
            default_time=reader.digest_time,
            default_zone=reader.zone,
            now=now,
            kind=reader.kind,
            title=reader.title,
        )
        note = _("Resumed")
    _LOGGER.info("channel %s: %s by %s", reader.chat_id, pressed.verb, query.from_user.id)
    await query.answer(note)
    updated = await store.run(get_reader, reader.chat_id)
    if updated is not None:
        await show_home(update, context, updated)
