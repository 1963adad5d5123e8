"""Subscription and settings: /start, /stop, /time, /timezone, /settings, /help, fallbacks."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.constants import ChatType

from bot.chat import groups
from bot.chat.replies import answer, is_admin
from bot.chat.target import editing, reading
from bot.context import BotContext
from bot.settings import parse_hhmm, parse_timezone
from digest.callbacks import TopicsPage
from digest.html import escape
from storage.db import utcnow
from storage.readers import Reader, ReaderStatus, set_schedule, set_status, subscribe
from storage.topics import topics_by_ids

_LOGGER = logging.getLogger(__name__)
HELP_TEXT = (
    "<b>newsdigest</b> sends you one digest of the news in your topics each day.\n\n"
    "/topics — choose your topics (none chosen = everything)\n"
    "/digest — what is new for you, right now\n"
    "/related &lt;link or words&gt; — other coverage of a story\n"
    "/time HH:MM — when your daily digest comes (e.g. /time 07:30)\n"
    "/timezone Area/City — your time zone (e.g. /timezone Europe/Berlin)\n"
    "/settings — your topics, time and zone\n"
    "/channels — a daily digest in a channel you run\n"
    "/stop — unsubscribe (/start brings you back with the same settings)\n"
    "/help — this message"
)
ADMIN_HELP = (
    "\n\n<b>Admin</b>\n"
    "/breaking &lt;link or text&gt; — push an item now, after a preview\n"
    "/stats — readers, articles, outbox, last scan"
)


def format_local(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "—"
    return f"{moment.astimezone(zone):%a %d %b, %H:%M}"


def _schedule(reader: Reader) -> str:
    """ "08:00 (Europe/Berlin)": when the reader's daily digest comes."""
    return f"{reader.digest_time:%H:%M} ({escape(reader.zone.key)})"


async def cmd_start(update: Update, context: BotContext) -> None:
    """Subscribe (or come back with the old settings) and point at the next step."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return
    if chat.type != ChatType.PRIVATE:
        await groups.start_group(update, context)
        return
    settings = context.settings
    reader, is_new = await context.services.db.run(
        subscribe,
        chat.id,
        user_id=user.id if user else None,
        first_name=user.first_name if user else "",
        username=user.username if user else None,
        default_time=settings.digest_time,
        default_zone=settings.timezone,
        now=utcnow(),
    )
    _LOGGER.info("reader %s %s", chat.id, "subscribed" if is_new else "re-activated")
    name = escape(user.first_name) if user and user.first_name else "there"
    when = _schedule(reader)
    if is_new:
        text = (
            f"Hello, {name}! I send you one digest of the news in your topics every day, "
            f"at {when}.\n\nNext step: pick your topics with /topics (with none chosen you "
            "get everything). /help lists all commands."
        )
    else:
        text = (
            f"Welcome back, {name}! Your settings are as you left them: digest at {when}. "
            "/settings shows them."
        )
    await answer(update, text, ((TopicsPage(chat.id, 0).button("Pick topics"),),))


async def cmd_stop(update: Update, context: BotContext) -> None:
    """Unsubscribe; the settings are kept for a later /start."""
    reader = await editing(update, context, active=False)
    if reader is None:
        return
    await context.services.db.run(set_status, reader.chat_id, ReaderStatus.STOPPED, utcnow())
    _LOGGER.info("reader %s stopped", reader.chat_id)
    if reader.is_group:
        await answer(update, groups.STOPPED)
        return
    await answer(
        update,
        "You are unsubscribed: no more digests. Send /start any time to come back "
        "with the same topics and time.",
    )


@dataclass(frozen=True, slots=True)
class _ScheduleCommand:
    """What /time and /timezone say around the one change each makes to the schedule."""

    usage: Callable[[Reader], str]  # no argument (or several): the current value, an example
    parse: Callable[[str], tuple[time | None, ZoneInfo | None]]  # raises ValueError
    refusal: Callable[[str], str]  # for an argument that does not parse (raw: escape it)
    done: Callable[[Reader], str]  # the reader as changed


async def _change_schedule(update: Update, context: BotContext, command: _ScheduleCommand) -> None:
    reader = await editing(update, context)
    if reader is None:
        return
    args = context.args or []
    if len(args) != 1:
        await answer(update, command.usage(reader))
        return
    try:
        digest_time, zone = command.parse(args[0])
    except ValueError:
        await answer(update, command.refusal(args[0]))
        return
    updated = await context.services.db.run(
        set_schedule, reader.chat_id, utcnow(), digest_time=digest_time, zone=zone
    )
    _LOGGER.info("reader %s: digest at %s", reader.chat_id, _schedule(updated))
    await answer(update, command.done(updated))


TIME_COMMAND = _ScheduleCommand(
    usage=lambda reader: (
        f"Your digest comes at {_schedule(reader)}.\n"
        "To change it, send the time as HH:MM, e.g. <code>/time 07:30</code>."
    ),
    parse=lambda value: (parse_hhmm(value), None),
    refusal=lambda value: (
        f"“{escape(value[:40])}” is not a time of day. Use 24-hour HH:MM, "
        "e.g. <code>/time 07:30</code> or <code>/time 18:00</code>."
    ),
    done=lambda reader: (
        f"Done: your digest comes daily at {_schedule(reader)}. "
        f"Next: {format_local(reader.next_digest_at, reader.zone)}."
    ),
)
TIMEZONE_COMMAND = _ScheduleCommand(
    usage=lambda reader: (
        f"Your time zone is {escape(reader.zone.key)}.\nTo change it, send an IANA zone name, "
        "e.g. <code>/timezone Europe/Berlin</code> or <code>/timezone America/New_York</code>."
    ),
    parse=lambda value: (None, parse_timezone(value)),
    refusal=lambda value: (
        f"“{escape(value[:60])}” is not a time zone I know. Use an IANA name like "
        "<code>/timezone Europe/Berlin</code>, <code>/timezone Asia/Tokyo</code> or "
        "<code>/timezone UTC</code>."
    ),
    done=lambda reader: (
        f"Done: time zone {escape(reader.zone.key)}. Your digest comes at "
        f"{reader.digest_time:%H:%M}; next: {format_local(reader.next_digest_at, reader.zone)}."
    ),
)


async def cmd_time(update: Update, context: BotContext) -> None:
    """/time HH:MM — when the daily digest comes."""
    await _change_schedule(update, context, TIME_COMMAND)


async def cmd_timezone(update: Update, context: BotContext) -> None:
    """/timezone Area/City — the zone the digest time is in."""
    await _change_schedule(update, context, TIMEZONE_COMMAND)


async def cmd_settings(update: Update, context: BotContext) -> None:
    """Show topics, digest time, zone and the next digest."""
    reader = await reading(update, context, active=False)
    if reader is None:
        return
    topics = await context.services.db.run(topics_by_ids, reader.topic_ids)
    topic_text = ", ".join(escape(t.name) for t in topics) or "all topics (none chosen)"
    status = {
        ReaderStatus.ACTIVE: "subscribed",
        ReaderStatus.STOPPED: "unsubscribed (/start to resume)",
    }.get(reader.status, reader.status)
    await answer(
        update,
        "<b>Your settings</b>\n"
        f"Status: {status}\n"
        f"Topics: {topic_text}\n"
        f"Daily digest: {_schedule(reader)}\n"
        f"Next digest: {format_local(reader.next_digest_at, reader.zone)}\n"
        f"Last digest: {format_local(reader.last_digest_at, reader.zone)}\n\n"
        "Change with /topics, /time, /timezone.",
    )


async def cmd_help(update: Update, context: BotContext) -> None:
    """List the commands (admins also see theirs)."""
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        await answer(update, groups.GROUP_HELP)
        return
    await answer(update, HELP_TEXT + (ADMIN_HELP if is_admin(update, context) else ""))


async def on_unknown(update: Update, context: BotContext) -> None:
    """Unknown commands and plain text get a pointer to /help."""
    await answer(update, "I did not understand that. /help lists what I can do.")
