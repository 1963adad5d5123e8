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
from bot.i18n import N_, _, current_language
from digest.html import escape
from digest.keyboard import Button
from digest.settings_callbacks import TopicsPage
from storage.db import utcnow
from storage.readers import ChatKind, Reader, ReaderStatus, get_reader
from storage.subscriptions import migrate_chat, subscribe

_LOGGER = logging.getLogger(__name__)
STOPPED = N_(
    "Unsubscribed: no more digests in this group. An administrator sends /start to bring "
    "them back with the same settings."
)
WELCOME = N_(
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
        # The administrator's language until one of them chooses with /language.
        language=current_language.get(),
    )
    _LOGGER.info("group %s subscribed (new: %s, topic %s)", chat.id, is_new, thread)
    when = _when(reader)
    in_topic = thread is not None
    if is_new:
        text = (
            (
                _(
                    "Subscribed: this group gets one digest of the news a day at {when} in "
                    "this topic."
                )
                if in_topic
                else _("Subscribed: this group gets one digest of the news a day at {when}.")
            ).format(when=when)
            + "\n\n"
            + _(
                "Next steps: an administrator taps the group's time zone below and picks its "
                "topics (with none chosen it gets everything). /help lists all commands; "
                "/language sets the group's language."
            )
        )
    elif before is not None and chat.is_forum and before.thread_id != thread:
        text = (
            _("Moved: the daily digest now comes to this topic, at {when}.")
            if in_topic
            else _("Moved: the daily digest now comes to the General topic, at {when}.")
        ).format(when=when)
    elif before is not None and before.status == ReaderStatus.ACTIVE:
        text = (
            _("This group is subscribed already: digest at {when} in this topic.")
            if in_topic
            else _("This group is subscribed already: digest at {when}.")
        ).format(when=when)
    else:
        text = (
            _(
                "Welcome back: this group's settings are as they were, digest at {when} in "
                "this topic. /settings shows them."
            )
            if in_topic
            else _(
                "Welcome back: this group's settings are as they were, digest at {when}. "
                "/settings shows them."
            )
        ).format(when=when)
    keyboard: list[tuple[Button, ...]] = [(TopicsPage(chat.id, 0).button(_("Pick topics")),)]
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
