"""Muted sources: "Mute a source" under a digest, /sources with an unmute button each."""

from __future__ import annotations

import logging

from telegram import Message, Update

from bot.chat.replies import answer_stale, edit
from bot.chat.screens import Screen, back_row, heading, rows, show
from bot.chat.target import editing, reading
from bot.context import BotContext
from bot.i18n import N_, _
from digest.assemble import provider_key
from digest.html import escape
from digest.keyboard import Button
from digest.settings_callbacks import MUTE_BUTTONS, MuteBack, MuteMenu, MuteProvider, SourceUnmute
from storage.controls import (
    MutedSource,
    article_provider,
    mute_source,
    muted_sources,
    sent_digest,
    unmute_source,
)
from storage.db import utcnow
from storage.outbox import keyboard_from_json
from storage.readers import Reader

_LOGGER = logging.getLogger(__name__)
LABEL_CHARS = 28


def _label(name: str) -> str:
    return name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1] + "…"


def sources_screen(update: Update, reader: Reader, muted: list[MutedSource]) -> Screen:
    chat = reader.chat_id
    lines = [heading(reader, N_("Muted sources"))]
    if muted:
        names = ", ".join(escape(m.provider) for m in muted)
        lines.append(_("You never see: {sources}").format(sources=names))
        lines.append(_("A story they cover still comes through its other sources."))
    else:
        lines.append(_("None. Mute one with 🔇 under any digest."))
    buttons = [SourceUnmute(chat, m.id).button(f"🔈 {_label(m.provider)}") for m in muted]
    return "\n".join(lines), (*rows(buttons, 2), back_row(chat))


async def open_sources(update: Update, context: BotContext, chat_id: int | None = None) -> None:
    reader = await reading(update, context, chat_id)
    if reader is None:
        return
    muted = await context.services.db.run(muted_sources, reader.chat_id)
    await show(update, sources_screen(update, reader, muted))


async def cmd_sources(update: Update, context: BotContext) -> None:
    """/sources: the muted sources, an unmute button each."""
    await open_sources(update, context)


async def on_unmute_button(update: Update, context: BotContext) -> None:
    """su:<chat>:<muted id>: unmute one source."""
    query = update.callback_query
    if query is None:
        return
    pressed = SourceUnmute.decode(query.data)
    if pressed is None:
        await answer_stale(query)
        return
    reader = await editing(update, context, pressed.chat_id)
    if reader is None:
        return
    name = await context.services.db.run(unmute_source, reader.chat_id, pressed.muted_id)
    await query.answer(
        _("{source} is back").format(source=_label(name)) if name else _("Not muted any more")
    )
    await open_sources(update, context, reader.chat_id)


async def on_mute_button(update: Update, context: BotContext) -> None:
    """Under a digest: ms opens a "Mute <provider>" menu, mp mutes one, mb closes the menu."""
    query = update.callback_query
    if query is None:
        return
    pressed = next((f.decode(query.data) for f in MUTE_BUTTONS if f.decode(query.data)), None)
    message = query.message if isinstance(query.message, Message) else None
    if pressed is None or message is None:
        await answer_stale(query)
        return
    assert isinstance(pressed, MuteMenu | MuteProvider | MuteBack)
    reader = await editing(update, context, pressed.chat_id)
    if reader is None:
        return
    store = context.services.db
    sent = await store.run(sent_digest, message.chat_id, message.message_id)
    if sent is None:
        await answer_stale(query, N_("This digest is no longer stored."))
        return
    own = keyboard_from_json(sent.keyboard_json)
    if isinstance(pressed, MuteMenu):
        await query.answer()
        buttons = [
            MuteProvider(reader.chat_id, article_id).button(f"🔇 {_label(name)}")
            for article_id, name in sent.sources
        ]
        menu: list[tuple[Button, ...]] = rows(buttons, 2)
        menu.append((MuteBack(reader.chat_id).button(_("◀ Back")),))
        await edit(message, message.text_html, tuple(menu))
        return
    if isinstance(pressed, MuteProvider):
        name = await store.run(article_provider, pressed.article_id)
        if name is None:
            await answer_stale(query, N_("That source is no longer known."))
            return
        added = await store.run(mute_source, reader.chat_id, name, provider_key(name), utcnow())
        _LOGGER.info("reader %s muted %r", reader.chat_id, name)
        await query.answer(
            (
                _("Muted {source}: you will not see it again. /sources to undo.")
                if added
                else _("{source} was muted already.")
            ).format(source=_label(name))
        )
    else:
        await query.answer()
    await edit(message, message.text_html, own)


def sources_summary(muted_names: list[str]) -> str:
    return ", ".join(escape(n) for n in muted_names) if muted_names else _("none")
