"""A channel's settings screen, in the private chat of one of its administrators.

The same screens a reader uses, pointed at the channel: every button names the channel's
chat id and :func:`bot.chat.target.editing` checks, on each tap, that the presser is an
administrator of it. A channel cannot answer a text prompt, so its digest time and zone
are chosen from buttons here (:class:`PickTime`, :class:`PickZone`; they work for any
subscription the presser may change).
"""

from __future__ import annotations

import logging
from datetime import time
from zoneinfo import ZoneInfo

from telegram import Message, Update

from bot.chat.readers import format_local
from bot.chat.replies import answer, answer_stale, edit
from bot.chat.target import editing, marked
from bot.context import BotContext
from digest.callbacks import (
    ChannelButton,
    ChannelVerb,
    CommonZone,
    PickTime,
    PickZone,
    TopicsPage,
    decode_any,
)
from digest.html import escape
from digest.keyboard import Button, Keyboard
from storage.db import utcnow
from storage.readers import Reader, ReaderStatus, get_reader, set_schedule, set_status, subscribe
from storage.topics import topics_by_ids

_LOGGER = logging.getLogger(__name__)
HOURS = (6, 7, 8, 9, 10, 11, 12, 14, 16, 18, 20, 22)  # the digest times offered as buttons
CHOSEN = "✅ "


def _status(reader: Reader) -> str:
    if reader.status == ReaderStatus.ACTIVE:
        return "a digest every day"
    if reader.status == ReaderStatus.STOPPED:
        return "stopped (Resume below)"
    return (
        f"paused: {escape(reader.paused_reason or 'I cannot post there')}. Make me an "
        "administrator of the channel with “Post messages” again and it resumes by itself"
    )


def channel_view(reader: Reader, topic_names: list[str]) -> tuple[str, Keyboard]:
    """The screen's text and buttons."""
    topics = ", ".join(escape(n) for n in topic_names) or "all topics (none chosen)"
    next_line = (
        f"\nNext digest: {format_local(reader.next_digest_at, reader.zone)}"
        if reader.status == ReaderStatus.ACTIVE
        else ""
    )
    text = marked(
        reader,
        f"Status: {_status(reader)}\nTopics: {topics}\n"
        f"Daily digest: {reader.digest_time:%H:%M} ({escape(reader.zone.key)}){next_line}",
    )
    chat_id = reader.chat_id
    rows: list[tuple[Button, ...]] = [
        (
            TopicsPage(chat_id, 0).button("Topics"),
            ChannelButton(ChannelVerb.TIME, chat_id).button("Time"),
            ChannelButton(ChannelVerb.ZONE, chat_id).button("Time zone"),
        )
    ]
    if reader.status == ReaderStatus.ACTIVE:
        rows.append((ChannelButton(ChannelVerb.STOP, chat_id).button("Stop digests"),))
    elif reader.status == ReaderStatus.STOPPED:
        rows.append((ChannelButton(ChannelVerb.RESUME, chat_id).button("Resume digests"),))
    return text, tuple(rows)


def time_view(reader: Reader) -> tuple[str, Keyboard]:
    current = reader.digest_time.hour * 60 + reader.digest_time.minute
    buttons = [
        PickTime(reader.chat_id, hour * 60).button(
            (CHOSEN if hour * 60 == current else "") + f"{hour:02d}:00"
        )
        for hour in HOURS
    ]
    rows = [tuple(buttons[i : i + 4]) for i in range(0, len(buttons), 4)]
    rows.append((ChannelButton(ChannelVerb.OPEN, reader.chat_id).button("« Back"),))
    text = f"When should the daily digest come? Times in {escape(reader.zone.key)}."
    return marked(reader, text), tuple(rows)


def zone_view(reader: Reader) -> tuple[str, Keyboard]:
    buttons = [
        PickZone(reader.chat_id, zone).button((CHOSEN if zone == reader.zone.key else "") + zone)
        for zone in CommonZone
    ]
    rows = [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
    rows.append((ChannelButton(ChannelVerb.OPEN, reader.chat_id).button("« Back"),))
    text = f"Which time zone is the digest time in? Now: {escape(reader.zone.key)}."
    return marked(reader, text), tuple(rows)


async def show_channel(update: Update, context: BotContext, reader: Reader) -> None:
    """The screen, in place of the message whose button was pressed (or as a new one)."""
    names = [t.name for t in await context.services.db.run(topics_by_ids, reader.topic_ids)]
    await _show(update, channel_view(reader, names))


async def _show(update: Update, view: tuple[str, Keyboard]) -> None:
    query = update.callback_query
    if query is not None and isinstance(query.message, Message):
        await edit(query.message, *view)
    else:
        await answer(update, *view)


async def on_channel_button(update: Update, context: BotContext) -> None:
    """chan:<verb>:<chat>: open the screen, the time or zone choices, stop or resume."""
    query = update.callback_query
    if query is None:
        return
    pressed = ChannelButton.decode(query.data)
    if pressed is None:
        await answer_stale(query)
        return
    reader = await editing(update, context, pressed.chat_id, active=False)
    if reader is None:
        return
    store = context.services.db
    note = None
    if pressed.verb == ChannelVerb.TIME:
        await query.answer()
        await _show(update, time_view(reader))
        return
    if pressed.verb == ChannelVerb.ZONE:
        await query.answer()
        await _show(update, zone_view(reader))
        return
    if pressed.verb == ChannelVerb.STOP and reader.status == ReaderStatus.ACTIVE:
        await store.run(set_status, reader.chat_id, ReaderStatus.STOPPED, utcnow())
        note = "Stopped: no more digests there"
    elif pressed.verb == ChannelVerb.RESUME and reader.status == ReaderStatus.STOPPED:
        await store.run(
            subscribe,
            reader.chat_id,
            user_id=None,
            first_name="",
            username=None,
            default_time=reader.digest_time,
            default_zone=reader.zone,
            now=utcnow(),
            kind=reader.kind,
            title=reader.title,
        )
        note = "Resumed"
    _LOGGER.info("channel %s: %s by %s", reader.chat_id, pressed.verb, query.from_user.id)
    await query.answer(note)
    updated = await store.run(get_reader, reader.chat_id)
    if updated is not None:
        await show_channel(update, context, updated)


async def on_schedule_button(update: Update, context: BotContext) -> None:
    """st:<chat>:<minute> and sz:<chat>:<zone>: a digest time or zone from the buttons."""
    query = update.callback_query
    if query is None:
        return
    pressed = decode_any(query.data, (PickTime, PickZone))
    if not isinstance(pressed, PickTime | PickZone):
        await answer_stale(query)
        return
    if isinstance(pressed, PickTime) and not 0 <= pressed.minute < 24 * 60:
        await answer_stale(query)
        return
    reader = await editing(update, context, pressed.chat_id, active=False)
    if reader is None:
        return
    store, now = context.services.db, utcnow()
    if isinstance(pressed, PickTime):
        at = time(*divmod(pressed.minute, 60))
        updated = await store.run(set_schedule, reader.chat_id, now, digest_time=at)
    else:
        zone = ZoneInfo(pressed.zone.value)
        updated = await store.run(set_schedule, reader.chat_id, now, zone=zone)
    when = f"{updated.digest_time:%H:%M} ({updated.zone.key})"
    _LOGGER.info("subscription %s: digest at %s", reader.chat_id, when)
    await query.answer(f"Digest at {when}")
    if updated.is_channel:
        await show_channel(update, context, updated)
    else:
        done = f"Done: the digest comes daily at {escape(when)}."
        await _show(update, (marked(updated, done), ()))
