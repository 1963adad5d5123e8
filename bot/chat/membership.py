"""my_chat_member: a reader blocked or unblocked the bot."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update

from bot.context import BotContext
from storage.db import utcnow
from storage.outbox import drop_chat
from storage.readers import ReaderStatus, get_reader, set_status

_LOGGER = logging.getLogger(__name__)
_GONE = {ChatMember.BANNED, ChatMember.LEFT}


async def on_my_chat_member(update: Update, context: BotContext) -> None:
    """Blocked → stop sending at once and drop what was queued; unblocked → active again."""
    change = update.my_chat_member
    if change is None:
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
