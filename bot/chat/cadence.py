"""When digests come: /time (several a day, weekdays, weekly), /pause, /resume, and the
times and pause screens of /settings."""

from __future__ import annotations

import logging
from datetime import time, timedelta

from telegram import Update

from bot.chat.replies import answer, answer_stale
from bot.chat.screens import Screen, back_row, heading, local_time, rows, show
from bot.chat.target import editing, marked, reading
from bot.context import BotContext
from bot.i18n import N_, _, current_translator, ngettext
from digest.html import escape
from digest.keyboard import Button
from digest.schedule import MAX_TIMES, WEEKLY, Cadence, CadenceError, Days
from digest.settings_callbacks import DaysSet, DaysWord, PauseFor, Prompt, PromptButton, TimeToggle
from digest.texts import weekday_short
from digest.when import WhenError, parse_cadence, parse_pause
from storage.db import utcnow
from storage.reader_settings import set_pause, set_schedule
from storage.readers import Reader

_LOGGER = logging.getLogger(__name__)
PRESET_TIMES = (time(6), time(7), time(8), time(9), time(12), time(17), time(18), time(21))
PAUSE_DAYS = (1, 3, 7, 14, 30)
TIME_USAGE = N_(
    "Send up to 4 times, and the days if not every day, e.g. <code>/time 07:30</code>, "
    "<code>/time 07:30 19:00</code>, <code>/time weekdays 7.30</code> or "
    "<code>/time mon 8am</code>."
)
PAUSE_USAGE = N_(
    "Pause for a while or until a date: <code>/pause 7d</code>, <code>/pause 2w</code> or "
    "<code>/pause 2027-01-10</code>; /resume ends it."
)


def schedule_text(reader: Reader) -> str:
    """ "07:30 and 19:00, every day (Europe/Berlin)" """
    return f"{reader.schedule.describe(current_translator())} ({escape(reader.zone.key)})"


def pause_text(reader: Reader) -> str:
    now = utcnow()
    if reader.is_paused(now):
        return _("paused until {when}").format(when=local_time(reader.paused_until, reader))
    return _("not paused")


def times_screen(update: Update, reader: Reader) -> Screen:
    chat, cadence = reader.chat_id, reader.schedule
    text = (
        heading(reader, N_("Digest times"))
        + "\n"
        + _("Your digests: {schedule}").format(schedule=schedule_text(reader))
        + "\n"
        + _("Next: {when}").format(when=local_time(reader.next_digest_at, reader))
        + "\n\n"
        + _("Tap times to add or remove them (up to {count} a day), then the days.").format(
            count=MAX_TIMES
        )
    )
    chosen = set(cadence.times)
    times = sorted({*PRESET_TIMES, *chosen})
    time_buttons = [
        TimeToggle(chat, t.hour * 60 + t.minute).button(
            ("✅ " if t in chosen else "") + f"{t:%H:%M}"
        )
        for t in times
    ]

    def day(word: DaysWord, label: str) -> Button:
        mark = "✅ " if cadence.days.value == word.value else ""
        return DaysSet(chat, word).button(mark + label)

    keyboard: list[tuple[Button, ...]] = rows(time_buttons, 4)
    keyboard.append((day(DaysWord.DAILY, _("Every day")), day(DaysWord.WEEKDAYS, _("Mon–Fri"))))
    language = current_translator().language
    weekly = [
        day(DaysWord(d.value), weekday_short(n, language).capitalize())
        for n, d in enumerate(WEEKLY)
    ]
    keyboard.extend(rows(weekly, 7))
    keyboard.append((PromptButton(Prompt.TIME, chat).button(_("Another time…")),))
    keyboard.append(back_row(chat))
    return text, tuple(keyboard)


def pause_screen(update: Update, reader: Reader) -> Screen:
    chat = reader.chat_id
    text = (
        heading(reader, N_("Pause"))
        + "\n"
        + _("Digests and breaking news: {pause}.").format(pause=pause_text(reader))
        + "\n"
        + _("Next digest: {when}").format(when=local_time(reader.next_digest_at, reader))
    )
    buttons = [
        PauseFor(chat, days).button(ngettext("{n} day", "{n} days", days).format(n=days))
        for days in PAUSE_DAYS
    ]
    keyboard: list[tuple[Button, ...]] = rows(buttons, 5)
    if reader.is_paused(utcnow()):
        keyboard.append((PauseFor(chat, 0).button(_("▶ Resume now")),))
    keyboard.append((PromptButton(Prompt.PAUSE, chat).button(_("Until a date…")),))
    keyboard.append(back_row(chat))
    return text, tuple(keyboard)


async def change_times(
    update: Update, context: BotContext, args: list[str], chat_id: int | None = None
) -> None:
    """Set the cadence from ``/time`` arguments (``chat_id``: another subscription's)."""
    reader = await editing(update, context, chat_id)
    if reader is None:
        return
    if not args:
        await show(update, times_screen(update, reader))
        return
    raw = " ".join(args)
    try:
        days, times = parse_cadence(args)
        cadence = Cadence.of(times, days if days is not None else reader.schedule.days)
    except (WhenError, CadenceError) as exc:
        why = escape(exc.translated(current_translator()))
        await answer(update, f"“{escape(raw[:40])}”: {why}. {_(TIME_USAGE)}")
        return
    updated = await context.services.db.run(set_schedule, reader.chat_id, utcnow(), cadence=cadence)
    _LOGGER.info("reader %s: digests at %s", reader.chat_id, cadence.describe())
    await answer(
        update,
        marked(
            updated,
            _("Done: your digests come at {schedule}. Next: {when}.").format(
                schedule=schedule_text(updated), when=local_time(updated.next_digest_at, updated)
            ),
        ),
    )


async def cmd_time(update: Update, context: BotContext) -> None:
    """/time 07:30 [19:00 …] | /time weekdays 07:30 | /time mon 08:00 (no argument: buttons)."""
    await change_times(update, context, list(context.args or []))


async def change_pause(
    update: Update, context: BotContext, text: str, chat_id: int | None = None
) -> None:
    reader = await editing(update, context, chat_id)
    if reader is None:
        return
    if not text.strip():
        await show(update, pause_screen(update, reader))
        return
    now = utcnow()
    try:
        until = parse_pause(text, now, reader.zone)
    except WhenError as exc:
        why = escape(exc.translated(current_translator()))
        await answer(update, f"“{escape(text[:40])}”: {why}. {_(PAUSE_USAGE)}")
        return
    updated = await context.services.db.run(set_pause, reader.chat_id, until, now)
    await answer(update, marked(updated, _paused_reply(updated)))


def _paused_reply(reader: Reader) -> str:
    return _(
        "Paused until {until}: no digests or breaking news until then. Next digest: {when}. "
        "/resume ends it."
    ).format(
        until=local_time(reader.paused_until, reader),
        when=local_time(reader.next_digest_at, reader),
    )


async def cmd_pause(update: Update, context: BotContext) -> None:
    """/pause 7d | /pause 2027-01-10: no digests or pushes until then."""
    await change_pause(update, context, " ".join(context.args or []))


async def cmd_resume(update: Update, context: BotContext) -> None:
    """/resume: end a pause now."""
    reader = await editing(update, context)
    if reader is None:
        return
    updated = await context.services.db.run(set_pause, reader.chat_id, None, utcnow())
    await answer(
        update,
        _("Resumed: your digests come at {schedule}. Next: {when}.").format(
            schedule=schedule_text(updated), when=local_time(updated.next_digest_at, updated)
        ),
    )


async def open_times(update: Update, context: BotContext, chat_id: int | None = None) -> None:
    reader = await reading(update, context, chat_id)
    if reader is not None:
        await show(update, times_screen(update, reader))


async def open_pause(update: Update, context: BotContext, chat_id: int | None = None) -> None:
    reader = await reading(update, context, chat_id)
    if reader is not None:
        await show(update, pause_screen(update, reader))


async def on_cadence_button(update: Update, context: BotContext) -> None:
    """ct:<chat>:<minute> toggles a time, cd:<chat>:<days> sets the days,
    pa:<chat>:<days> pauses (0: resumes)."""
    query = update.callback_query
    if query is None:
        return
    pressed = (
        TimeToggle.decode(query.data) or DaysSet.decode(query.data) or PauseFor.decode(query.data)
    )
    if pressed is None:
        await answer_stale(query)
        return
    reader = await editing(update, context, pressed.chat_id)
    if reader is None:
        return
    store, now = context.services.db, utcnow()
    if isinstance(pressed, PauseFor):
        if pressed.days not in (0, *PAUSE_DAYS):
            await answer_stale(query)
            return
        until = now + timedelta(days=pressed.days) if pressed.days else None
        updated = await store.run(set_pause, reader.chat_id, until, now)
        await query.answer(
            ngettext("Paused for {n} day", "Paused for {n} days", pressed.days).format(
                n=pressed.days
            )
            if until
            else _("Resumed")
        )
        await show(update, pause_screen(update, updated))
        return
    cadence = reader.schedule
    if isinstance(pressed, TimeToggle):
        if pressed.minute >= 24 * 60:
            await answer_stale(query)
            return
        at = time(pressed.minute // 60, pressed.minute % 60)
        times = set(cadence.times) ^ {at}
        if not times:
            await query.answer(_("Keep at least one time (or /pause, or /stop)."), show_alert=True)
            return
        if len(times) > MAX_TIMES:
            await query.answer(
                _("At most {count} times a day.").format(count=MAX_TIMES), show_alert=True
            )
            return
        cadence = Cadence.of(sorted(times), cadence.days)
    else:
        cadence = Cadence(cadence.times, Days(pressed.days.value))
    updated = await store.run(set_schedule, reader.chat_id, now, cadence=cadence)
    await query.answer(cadence.describe(current_translator()))
    await show(update, times_screen(update, updated))
