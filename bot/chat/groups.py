"""Groups and supergroups: /start there, the group's /help, and the upgrade to a supergroup.

Everyone in a group may read (/digest, /related, /settings, /help); its administrators
change it (:mod:`bot.chat.target`). In a forum the digest goes to the topic where /start
was last sent. With privacy mode on, the bot sees only commands and replies to it here.
"""

from __future__ import annotations

import logging

from telegram import Update

from bot.chat.replies import answer, thread_of
from bot.chat.target import require_group_admin
from bot.chat.zones import start_zone_rows
from bot.context import BotContext
from digest.html import escape
from digest.keyboard import Button
from digest.settings_callbacks import TopicsPage
from storage.db import utcnow
from storage.readers import ChatKind, Reader, ReaderStatus, get_reader
from storage.subscriptions import migrate_chat, subscribe

_LOGGER = logging.getLogger(__name__)
GROUP_HELP = (
    "<b>newsdigest</b> posts digests of the news in this group's topics.\n\n"
    "<b>Everyone</b>\n"
    "/digest — what is new, right now\n"
    "/related &lt;link or words&gt; — other coverage of a story\n"
    "/following — stories the group follows (administrators tap 🔔 Follow under a "
    "story's coverage)\n"
    "/settings — this group's settings (administrators change them with the buttons)\n"
    "/keywords, /sources — its keyword filters and muted sources\n"
    "/help — this message\n\n"
    "<b>Administrators</b>\n"
    "/start — subscribe this group (in a forum: to the topic you send it in)\n"
    "/topics — choose the topics (none chosen = everything)\n"
    "/time 07:30 19:00 — when digests come (up to 4 a day; /time weekdays 7:30)\n"
    "/timezone berlin — the group's time zone (a city, Europe/Berlin, JST)\n"
    '/include word "a phrase", /exclude word — only or never stories with these words\n'
    "/quiet 22:00-07:00 — breaking news silently at night\n"
    "/pause 7d, /resume — no digests for a while\n"
    "/stop — no more digests (/start brings them back with the same settings)"
)
STOPPED = (
    "Unsubscribed: no more digests in this group. An administrator sends /start to bring "
    "them back with the same settings."
)
WELCOME = (
    "Hello! I post one digest of the news a day. An administrator sends /start to "
    "subscribe this group (in a forum: in the topic it should go to); /help lists the rest."
)


def _when(reader: Reader) -> str:
    times = ", ".join(f"{t:%H:%M}" for t in reader.schedule.times)
    return f"{times} ({escape(reader.zone.key)})"


async def start_group(update: Update, context: BotContext) -> None:
    """An administrator's /start in a group: subscribe it; in a forum, to this topic."""
    chat = update.effective_chat
    if chat is None or not await require_group_admin(update, context):
        return
    thread = thread_of(update) if chat.is_forum else None
    store = context.services.db
    before = await store.run(get_reader, chat.id)
    reader, is_new = await store.run(
        subscribe,
        chat.id,
        user_id=None,
        first_name="",
        username=chat.username,
        default_time=context.settings.digest_time,
        default_zone=context.settings.timezone,
        now=utcnow(),
        kind=ChatKind(chat.type),
        title=chat.title or "",
        thread_id=thread,
    )
    _LOGGER.info("group %s subscribed (new: %s, topic %s)", chat.id, is_new, thread)
    here = " in this topic" if thread is not None else ""
    if is_new:
        text = (
            f"Subscribed: this group gets one digest of the news a day at {_when(reader)}"
            f"{here}.\n\nNext steps: an administrator taps the group's time zone below and "
            "picks its topics (with none chosen it gets everything). /help lists all commands."
        )
    elif before is not None and chat.is_forum and before.thread_id != thread:
        where = "this topic" if thread is not None else "the General topic"
        text = f"Moved: the daily digest now comes to {where}, at {_when(reader)}."
    elif before is not None and before.status == ReaderStatus.ACTIVE:
        text = f"This group is subscribed already: digest at {_when(reader)}{here}."
    else:
        text = (
            f"Welcome back: this group's settings are as they were, digest at {_when(reader)}"
            f"{here}. /settings shows them."
        )
    keyboard: list[tuple[Button, ...]] = [(TopicsPage(chat.id, 0).button("Pick topics"),)]
    if is_new:  # and where the group is, for its digest time (an admin taps)
        keyboard.extend(start_zone_rows(update, chat.id, location=False))
    await answer(update, text, tuple(keyboard))


async def on_migrate(update: Update, context: BotContext) -> None:
    """A group became a supergroup (a new chat id): its subscription moves along."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id is not None:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id is not None:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    await context.services.db.run(migrate_chat, old, new)
    context.services.members.forget(old)
    _LOGGER.info("group %s is now supergroup %s: its subscription moved", old, new)
