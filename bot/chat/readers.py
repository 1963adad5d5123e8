"""Subscription: /start (then the zone question), /stop, /help, unknown commands.

In a group /start and /stop are the administrators' (:mod:`bot.chat.groups`); the
settings themselves live in the /settings screens (:mod:`bot.chat.settings_menu`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.constants import ChatType

from bot.chat import groups
from bot.chat.replies import answer, is_admin
from bot.chat.screens import local_time
from bot.chat.target import editing
from bot.chat.zones import start_zone_rows
from bot.command_menus import group_help, private_help
from bot.context import BotContext
from bot.i18n import N_, _, current_language, current_translator, supported_language
from digest.html import escape
from digest.settings_callbacks import Prompt, TopicsPage
from digest.texts import moment_label
from storage.db import utcnow
from storage.prompts import PROMPT_TTL, set_prompt
from storage.readers import Reader, ReaderStatus
from storage.subscriptions import set_status, subscribe

_LOGGER = logging.getLogger(__name__)
UNKNOWN = N_("I did not understand that. /help lists what I can do.")


def format_local(moment: datetime | None, zone: ZoneInfo) -> str:
    """ "Mon 05 Jan, 07:30" in ``zone``, in the language of the update being handled."""
    if moment is None:
        return "—"
    return moment_label(moment.astimezone(zone), current_language.get())


def schedule_words(reader: Reader) -> str:
    """ "08:00 (Europe/Berlin)", "07:30, 19:00 (Europe/Berlin)": the digest times."""
    times = ", ".join(f"{t:%H:%M}" for t in reader.schedule.times)
    return f"{times} ({escape(reader.zone.key)})"


def paused_note(reader: Reader, now: datetime) -> str:
    """ " Paused until …: /resume ends it." for a subscription on /pause ("" otherwise)."""
    if not reader.is_paused(now):
        return ""
    until = local_time(reader.paused_until, reader)
    return " " + _("Paused until {until}: /resume ends it.").format(until=until)


async def cmd_start(update: Update, context: BotContext) -> None:
    """Subscribe (or come back with the old settings) and point at the next step."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return
    if chat.type != ChatType.PRIVATE:
        await groups.start_group(update, context)
        return
    settings, now = context.settings, utcnow()
    reader, is_new = await context.services.db.run(
        subscribe,
        chat.id,
        user_id=user.id if user else None,
        first_name=user.first_name if user else "",
        username=user.username if user else None,
        default_time=settings.digest_time,
        default_zone=settings.timezone,
        now=now,
        language=supported_language(user.language_code if user else None),
    )
    _LOGGER.info("reader %s %s", chat.id, "subscribed" if is_new else "re-activated")
    # TRANSLATORS: the name in "Hello, {name}!" when the user has none.
    name = escape(user.first_name) if user and user.first_name else _("there")
    when = schedule_words(reader)
    pick = (TopicsPage(chat.id, 0).button(_("Pick topics")),)
    if not is_new:
        text = (
            _(
                "Welcome back, {name}! Your settings are as you left them: digests at {when}."
            ).format(name=name, when=when)
            + paused_note(reader, now)
            + " "
            + _("/settings shows them.")
        )
        await answer(update, text, (pick,))
        return
    text = _(
        "Hello, {name}! I send you one digest of the news in your topics every day, "
        "at {when}.\n\nWhere are you? Tap your time zone below, send a city (e.g. Berlin) "
        "or share your location, so the digest comes at your morning.\n\n"
        "Next step: pick your topics with /topics (with none chosen you get everything). "
        "/help lists all commands. /language changes my language."
    ).format(name=name, when=when)
    if user is not None:
        # The next text (a city) or shared location answers the zone question.
        await context.services.db.run(
            set_prompt, user.id, reader.chat_id, Prompt.ZONE.value, now + PROMPT_TTL, now
        )
    await answer(update, text, (pick, *start_zone_rows(update, reader.chat_id)))


async def cmd_stop(update: Update, context: BotContext) -> None:
    """Unsubscribe; the settings are kept for a later /start."""
    reader = await editing(update, context, include_stopped=True)
    if reader is None:
        return
    await context.services.db.run(set_status, reader.chat_id, ReaderStatus.STOPPED, utcnow())
    _LOGGER.info("reader %s stopped", reader.chat_id)
    if reader.is_group:
        await answer(update, _(groups.STOPPED))
        return
    await answer(
        update,
        _(
            "You unsubscribed: no more digests or breaking news. Send /start any time to come "
            "back with the same settings."
        ),
    )


async def cmd_help(update: Update, context: BotContext) -> None:
    """List the commands (admins also see theirs)."""
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        await answer(update, group_help(current_translator()))
        return
    await answer(update, private_help(current_translator(), admin=is_admin(update, context)))


async def on_unknown(update: Update, context: BotContext) -> None:
    """Unknown commands and plain text get a pointer to /help."""
    await answer(update, _(UNKNOWN))
