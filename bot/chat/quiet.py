"""/quiet 22:00-07:00: breaking pushes in those hours arrive silently, or wait until morning."""

from __future__ import annotations

import logging
from datetime import time

from telegram import Update

from bot.chat.replies import answer, answer_stale
from bot.chat.screens import Screen, back_row, heading, show
from bot.chat.target import editing, marked, reading
from bot.context import BotContext
from bot.i18n import N_, _, current_translator
from digest.html import escape
from digest.keyboard import Button
from digest.settings_callbacks import Prompt, PromptButton, QuietModeSet, QuietPreset, QuietWord
from digest.when import WhenError, parse_window
from storage.db import utcnow
from storage.reader_settings import set_quiet
from storage.readers import QuietHours, QuietMode, Reader

_LOGGER = logging.getLogger(__name__)
PRESETS = ((time(22), time(7)), (time(23), time(8)), (time(21), time(6)))  # qs:1..3
MODES = {QuietMode.SILENT: N_("🔕 silently"), QuietMode.HOLD: N_("⏸ held until they end")}
USAGE = N_(
    "Send the hours, e.g. <code>/quiet 22:00-07:00</code>; <code>/quiet hold</code> holds "
    "pushes until the end instead of sending them silently, <code>/quiet off</code> ends it."
)


def quiet_text(reader: Reader) -> str:
    quiet = reader.quiet
    if quiet is None:
        return _("off")
    return _("{start}–{end}, breaking news {mode}").format(
        start=f"{quiet.start:%H:%M}", end=f"{quiet.end:%H:%M}", mode=_(MODES[quiet.mode])
    )


def quiet_screen(update: Update, reader: Reader) -> Screen:
    chat, quiet = reader.chat_id, reader.quiet
    now = _("Now: {quiet} ({zone}).").format(quiet=quiet_text(reader), zone=escape(reader.zone.key))
    either = _("Digests come at their times either way.")
    title = heading(reader, N_("Quiet hours"))
    text = f"{title}\n{now}\n{either}"
    presets = [
        QuietPreset(chat, n).button(
            ("✅ " if quiet and (quiet.start, quiet.end) == p else "") + f"{p[0]:%H}–{p[1]:%H}"
        )
        for n, p in enumerate(PRESETS, 1)
    ]
    mode = quiet.mode if quiet else None
    keyboard: list[tuple[Button, ...]] = [
        tuple(presets),
        (
            QuietModeSet(chat, QuietWord.SILENT).button(
                ("✅ " if mode is QuietMode.SILENT else "") + _("🔕 Silent")
            ),
            QuietModeSet(chat, QuietWord.HOLD).button(
                ("✅ " if mode is QuietMode.HOLD else "") + _("⏸ Hold until morning")
            ),
        ),
        (PromptButton(Prompt.QUIET, chat).button(_("Other hours…")),),
    ]
    if quiet:
        keyboard.append((QuietPreset(chat, 0).button(_("Off")),))
    keyboard.append(back_row(chat))
    return text, tuple(keyboard)


async def change_quiet(
    update: Update, context: BotContext, text: str, chat_id: int | None = None
) -> None:
    reader = await editing(update, context, chat_id)
    if reader is None:
        return
    value = " ".join(text.split()).lower()
    if not value:
        await show(update, quiet_screen(update, reader))
        return
    quiet: QuietHours | None
    mode = reader.quiet.mode if reader.quiet else QuietMode.SILENT
    words = value.split()
    if words[-1] in ("hold", "silent"):
        mode = QuietMode(words[-1])
        value = " ".join(words[:-1])
    if value == "off":
        quiet = None
    elif not value:
        if reader.quiet is None:
            await answer(update, _("No quiet hours yet.") + " " + _(USAGE))
            return
        quiet = QuietHours(reader.quiet.start, reader.quiet.end, mode)
    else:
        try:
            start, end = parse_window(value)
        except WhenError as exc:
            why = escape(exc.translated(current_translator()))
            await answer(update, f"“{escape(text[:40])}”: {why}. {_(USAGE)}")
            return
        quiet = QuietHours(start, end, mode)
    updated = await context.services.db.run(set_quiet, reader.chat_id, quiet, utcnow())
    _LOGGER.info("reader %s: quiet hours %s", reader.chat_id, quiet_text(updated))
    done = _("Quiet hours: {quiet}.").format(quiet=quiet_text(updated))
    await answer(update, marked(updated, done))


async def cmd_quiet(update: Update, context: BotContext) -> None:
    """/quiet 22:00-07:00 [hold] | /quiet off (no argument: the buttons)."""
    await change_quiet(update, context, " ".join(context.args or []))


async def open_quiet(update: Update, context: BotContext, chat_id: int | None = None) -> None:
    reader = await reading(update, context, chat_id)
    if reader is not None:
        await show(update, quiet_screen(update, reader))


async def on_quiet_button(update: Update, context: BotContext) -> None:
    """qs:<chat>:<preset> (0: off), qm:<chat>:<silent|hold>."""
    query = update.callback_query
    if query is None:
        return
    pressed = QuietPreset.decode(query.data) or QuietModeSet.decode(query.data)
    if pressed is None or (isinstance(pressed, QuietPreset) and pressed.preset > len(PRESETS)):
        await answer_stale(query)
        return
    reader = await editing(update, context, pressed.chat_id)
    if reader is None:
        return
    current = reader.quiet
    quiet: QuietHours | None
    if isinstance(pressed, QuietPreset):
        if pressed.preset == 0:
            quiet = None
        else:
            start, end = PRESETS[pressed.preset - 1]
            quiet = QuietHours(start, end, current.mode if current else QuietMode.SILENT)
    else:
        start, end = (current.start, current.end) if current else PRESETS[0]
        quiet = QuietHours(start, end, QuietMode(pressed.mode.value))
    updated = await context.services.db.run(set_quiet, reader.chat_id, quiet, utcnow())
    await query.answer(_("Quiet hours: {quiet}").format(quiet=quiet_text(updated)))
    await show(update, quiet_screen(update, updated))
