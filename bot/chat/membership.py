"""my_chat_member: a reader blocked or unblocked the bot; a group or channel removed,
demoted or re-added it.

A group or channel the bot may no longer post to is paused at once, its queue dropped
and the reason kept for /stats; when the bot may post again it resumes with its settings.
"""

from __future__ import annotations

import logging

from telegram import ChatMember, ChatMemberUpdated, Update
from telegram.constants import ChatType

from bot.chat.groups import WELCOME
from bot.chat.rights import membership_of
from bot.context import BotContext
from bot.i18n import _
from storage.db import utcnow
from storage.readers import ReaderStatus, get_reader
from storage.subscriptions import drop_chat, pause, resume, set_status

_LOGGER = logging.getLogger(__name__)
_GONE = {ChatMember.BANNED, ChatMember.LEFT}


async def on_my_chat_member(update: Update, context: BotContext) -> None:
    """Blocked → stop sending at once and drop what was queued; unblocked → active again."""
    change = update.my_chat_member
    if change is None:
        return
    if change.chat.type != ChatType.PRIVATE:
        await _shared_chat_changed(change, context)
        return
    chat_id = change.chat.id
    store = context.services.db
    reader = await store.run(get_reader, chat_id)
    if reader is None:
        return
    if change.new_chat_member.status in _GONE:
        await store.run(drop_chat, chat_id, "reader blocked the bot", utcnow())
        _LOGGER.info("reader %s blocked the bot: deactivated", chat_id)
    elif reader.status == ReaderStatus.BLOCKED:
        await store.run(set_status, chat_id, ReaderStatus.ACTIVE, utcnow())
        _LOGGER.info("reader %s unblocked the bot: active again", chat_id)


def pause_reason(chat_type: str, status: str) -> str:
    """Why the bot cannot post in a group or channel, as /stats shows it."""
    where = "the channel" if chat_type == ChatType.CHANNEL else "the group"
    if status == ChatMember.BANNED:
        return f"the bot was banned from {where}"
    if status == ChatMember.LEFT:
        return f"the bot was removed from {where}"
    if chat_type == ChatType.CHANNEL:
        return "the bot is no longer an administrator of the channel with “Post messages”"
    return "the bot may not send messages in the group"


async def _shared_chat_changed(change: ChatMemberUpdated, context: BotContext) -> None:
    chat = change.chat
    services = context.services
    services.members.forget(chat.id)  # the bot's rights (and maybe others') changed
    now_may = membership_of(change.new_chat_member, chat.type)
    before = membership_of(change.old_chat_member, chat.type)
    reader = await services.db.run(get_reader, chat.id)
    if reader is None:
        if chat.type != ChatType.CHANNEL and now_may.can_post and not before.can_post:
            await context.bot.send_message(chat.id, _(WELCOME))  # just added to a group
        return
    if not now_may.can_post:
        if reader.status == ReaderStatus.STOPPED:
            return  # unsubscribed already: stays so, even once the bot is back
        reason = pause_reason(chat.type, change.new_chat_member.status)
        await services.db.run(pause, chat.id, reason, utcnow())
        _LOGGER.info("%s %s paused: %s", chat.type, chat.id, reason)
    elif reader.status == ReaderStatus.BLOCKED:
        await services.db.run(resume, chat.id, utcnow(), title=chat.title or "")
        _LOGGER.info("%s %s: the bot may post again, resumed", chat.type, chat.id)
