"""The time zone: /timezone (names, cities, abbreviations, offsets explained), a shared
location, the zone of the reader's language, common zones; asked right after /start.

Sharing a location is a private chat's (Telegram offers the button nowhere else); for a
channel managed from there it sets the channel's zone (the pending prompt names it).
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from telegram import KeyboardButton, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.constants import ChatType

from bot.chat.replies import answer, answer_stale
from bot.chat.screens import Screen, back_row, heading, local_time, rows, show
from bot.chat.target import editing, marked, reading
from bot.context import BotContext
from bot.i18n import N_, _, current_translator
from digest.callbacks import decode_any
from digest.html import escape
from digest.keyboard import Button
from digest.settings_callbacks import (
    ZONE_BUTTONS,
    LocationAsk,
    Prompt,
    PromptButton,
    SettingsHome,
    ZoneFixed,
    ZoneOfLanguage,
    ZonePick,
)
from digest.when import format_offset
from digest.zones import COMMON_ZONES, fixed_zone_for, language_zone, resolve_zone
from storage.db import utcnow
from storage.prompts import PROMPT_TTL, set_prompt
from storage.reader_settings import set_schedule
from storage.readers import Reader

_LOGGER = logging.getLogger(__name__)
START_ZONES = 4  # common zones offered under the /start greeting
SHARE_LOCATION = N_("📍 Share my location")
USAGE = N_(
    "Send a city or a zone name, e.g. <code>/timezone berlin</code>, "
    "<code>/timezone New York</code>, <code>/timezone Asia/Tokyo</code> or "
    "<code>/timezone JST</code>; or share your location."
)


def _language(update: Update) -> str | None:
    user = update.effective_user
    return language_zone(user.language_code if user else None)


def _private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE


def zone_screen(update: Update, reader: Reader) -> Screen:
    chat = reader.chat_id
    now = _("Now: {zone} (your digests: {schedule}).").format(
        zone=escape(reader.zone.key), schedule=reader.schedule.describe(current_translator())
    )
    pick = (
        _("Pick one or share your location.") if _private(update) else _("Pick one or type a city.")
    )
    title = heading(reader, N_("Time zone"))
    text = f"{title}\n{now}\n\n{pick}"
    keyboard: list[tuple[Button, ...]] = []
    spoken = _language(update)
    if spoken is not None:
        keyboard.append((ZoneOfLanguage(chat).button(f"🗣 {spoken}"),))
    keyboard.extend(rows([ZonePick(chat, i).button(z) for i, z in enumerate(COMMON_ZONES)], 3))
    typed = PromptButton(Prompt.ZONE, chat).button(_("Type a city…"))
    if _private(update):
        keyboard.append((LocationAsk(chat).button(_(SHARE_LOCATION)), typed))
    else:
        keyboard.append((typed,))
    keyboard.append(back_row(chat))
    return text, tuple(keyboard)


def start_zone_rows(
    update: Update, chat: int, *, location: bool = True
) -> list[tuple[Button, ...]]:
    """The zone choices under a /start greeting: the language's, a few common ones, and
    (``location``: in a private chat) the location keyboard."""
    spoken = _language(update)
    first: list[Button] = [ZoneOfLanguage(chat).button(f"🗣 {spoken}")] if spoken else []
    common = [ZonePick(chat, i).button(z) for i, z in enumerate(COMMON_ZONES[:START_ZONES])]
    found = rows([*first, *common], 3)
    if location:
        found.append((LocationAsk(chat).button(_(SHARE_LOCATION)),))
    return found


def location_keyboard(update: Update) -> ReplyKeyboardMarkup:
    """A reply keyboard: share the location, or tap a zone (sent as text, see prompts)."""
    spoken = _language(update)
    names = [z for z in (spoken, "UTC", "Europe/London", "America/New_York") if z]
    return ReplyKeyboardMarkup(
        [[KeyboardButton(_(SHARE_LOCATION), request_location=True)], names[:3]],
        resize_keyboard=True,
        one_time_keyboard=True,
        input_field_placeholder=_("a city, e.g. Berlin"),
    )


async def ask_zone(update: Update, text: str) -> None:
    """Ask where the reader is, with the share-location keyboard (private chats only)."""
    if _private(update):
        await answer(update, text, reply_keyboard=location_keyboard(update))


async def _set_zone(update: Update, context: BotContext, reader: Reader, zone: str) -> Reader:
    updated = await context.services.db.run(
        set_schedule, reader.chat_id, utcnow(), zone=ZoneInfo(zone)
    )
    _LOGGER.info("reader %s: zone %s", reader.chat_id, zone)
    return updated


def _done(reader: Reader) -> str:
    return marked(
        reader,
        _("Done: time zone {zone}. Your digests come at {schedule}; next: {when}.").format(
            zone=escape(reader.zone.key),
            schedule=reader.schedule.describe(current_translator()),
            when=local_time(reader.next_digest_at, reader),
        ),
    )


async def change_zone(
    update: Update, context: BotContext, text: str, chat_id: int | None = None
) -> bool:
    """Apply a typed zone (``chat_id``: another subscription's). False when ``text`` is no
    zone (the reply said so)."""
    reader = await editing(update, context, chat_id)
    if reader is None:
        return True
    if not text.strip():
        await show(update, zone_screen(update, reader))
        await ask_zone(update, _("Or share your location:"))
        return True
    choice = resolve_zone(text)
    shown = escape(" ".join(text.split())[:60])
    if choice.zone is not None:
        updated = await _set_zone(update, context, reader, choice.zone)
        await answer_removing_keyboard(update, _done(updated))
        return True
    if choice.offset_minutes is not None:
        offset = format_offset(choice.offset_minutes)
        if choice.fixed_zone is None:
            await answer(
                update,
                _(
                    "{offset} is a fixed offset I have no zone for. Send your city instead, "
                    "e.g. <code>/timezone Kolkata</code>: a city's zone also follows its "
                    "summer time."
                ).format(offset=offset),
            )
            return True
        use = _("Use {offset}").format(offset=offset)
        await answer(
            update,
            _(
                "{offset} is a fixed offset: it never changes for summer time, so where clocks "
                "go forward your digest would come an hour off for half the year. Better: send "
                "your city, e.g. <code>/timezone berlin</code>. Use the fixed offset anyway?"
            ).format(offset=offset),
            ((ZoneFixed(reader.chat_id, choice.offset_minutes).button(use),),),
        )
        return True
    if choice.options:
        listed = ", ".join(f"<code>{escape(o)}</code>" for o in choice.options)
        could = _("“{typed}” could be {options}. Send the one you mean.")
        await answer(update, could.format(typed=shown, options=listed))
        return True
    unknown = _("“{typed}” is not a time zone I know.").format(typed=shown)
    help_line = _("/help lists what I can do.")
    await answer(update, f"{unknown} {_(USAGE)} {help_line}")
    return False


async def answer_removing_keyboard(update: Update, text: str) -> None:
    """Reply, and take away the share-location keyboard if it is up."""
    if _private(update):
        await answer(update, text, reply_keyboard=ReplyKeyboardRemove())
    else:
        await answer(update, text)


async def cmd_timezone(update: Update, context: BotContext) -> None:
    """/timezone berlin | Europe/Berlin | JST | UTC+2 (no argument: the choices)."""
    await change_zone(update, context, " ".join(context.args or []))


async def open_zone(update: Update, context: BotContext, chat_id: int | None = None) -> None:
    reader = await reading(update, context, chat_id)
    if reader is not None:
        await show(update, zone_screen(update, reader))


async def on_zone_button(update: Update, context: BotContext) -> None:
    """zs:<chat>:<index> a common zone, zl:<chat> the language's, zf:<chat>:<minutes> a
    confirmed fixed offset."""
    query = update.callback_query
    if query is None:
        return
    pressed = decode_any(query.data, ZONE_BUTTONS)
    if isinstance(pressed, LocationAsk):
        reader = await editing(update, context, pressed.chat_id)
        if reader is None:
            return
        await query.answer()
        if query.from_user is not None:  # the location (or a city) answers for this chat
            now = utcnow()
            await context.services.db.run(
                set_prompt, query.from_user.id, reader.chat_id, Prompt.ZONE, now + PROMPT_TTL, now
            )
        await ask_zone(update, _("Tap “📍 Share my location” below (or send a city):"))
        return
    assert pressed is None or isinstance(pressed, ZonePick | ZoneOfLanguage | ZoneFixed)
    zone: str | None = None
    if isinstance(pressed, ZonePick) and pressed.index < len(COMMON_ZONES):
        zone = COMMON_ZONES[pressed.index]
    elif isinstance(pressed, ZoneOfLanguage):
        zone = _language(update)
    elif isinstance(pressed, ZoneFixed):
        zone = fixed_zone_for(pressed.minutes)
    if pressed is None or zone is None:
        await answer_stale(query)
        return
    reader = await editing(update, context, pressed.chat_id)
    if reader is None:
        return
    updated = await _set_zone(update, context, reader, zone)
    await query.answer(_("Time zone: {zone}").format(zone=zone))
    if isinstance(pressed, ZoneFixed) or not _on_zone_screen(update, reader.chat_id):
        await answer(update, _done(updated))
    else:
        await show(update, zone_screen(update, updated))


async def apply_location(update: Update, context: BotContext, chat_id: int | None = None) -> None:
    """A shared location: its zone, found offline (``chat_id``: another subscription's)."""
    message = update.effective_message
    location = message.location if message else None
    if location is None:
        return
    reader = await editing(update, context, chat_id)
    if reader is None:
        return
    zone = await context.services.zone_finder.zone_at(location.latitude, location.longitude)
    if zone is None:
        await answer(update, _("I found no time zone at that spot.") + " " + _(USAGE))
        return
    updated = await _set_zone(update, context, reader, zone)
    await answer_removing_keyboard(update, _done(updated))


def _on_zone_screen(update: Update, chat_id: int) -> bool:
    """The pressed button sits on a settings screen (with its Back), not under a greeting."""
    query = update.callback_query
    message = query.message if query else None
    if not isinstance(message, Message) or message.reply_markup is None:
        return False
    back = SettingsHome(chat_id).encode()
    return any(b.callback_data == back for row in message.reply_markup.inline_keyboard for b in row)
