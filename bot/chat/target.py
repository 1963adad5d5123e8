"""Which subscription an update reads or changes, and whether its sender may change it.

Every handler that shows or changes a subscription's settings resolves it here, so the
rules live in one place. Today a subscription is a reader's own private chat. Groups
(changed by their administrators) and channels (managed from a private chat, so a
button names the channel's chat id) plug in here: a settings button carries the chat
id of the subscription it changes, and :func:`editing` checks that the presser may.

Both functions tell the user why when they return None (a pop-up for a button press,
which answers the query, or a reply), so callers simply return.
"""

from __future__ import annotations

from telegram import Update

from bot.chat.replies import answer
from bot.context import BotContext
from storage.readers import Reader, ReaderStatus, get_reader

NOT_SUBSCRIBED = "You are not subscribed yet. Send /start to begin."
UNSUBSCRIBED = "You unsubscribed; /start to come back (your settings are kept)."
NOT_YOURS = "This button belongs to another chat's settings."


async def _refuse(update: Update, text: str) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await answer(update, text)


async def reading(
    update: Update,
    context: BotContext,
    chat_id: int | None = None,
    *,
    include_stopped: bool = False,
) -> Reader | None:
    """The active subscription this update is about (``chat_id``: named by a button).

    None, after telling the user, when it is not subscribed or not the user's to see.
    ``include_stopped``: a stopped subscription too (/settings shows it as stopped).
    """
    chat = update.effective_chat
    if chat is None:
        return None
    if chat_id is not None and chat_id != chat.id:
        await _refuse(update, NOT_YOURS)
        return None
    reader = await context.services.db.run(get_reader, chat.id)
    if reader is not None and reader.status == ReaderStatus.STOPPED and not include_stopped:
        await _refuse(update, UNSUBSCRIBED)
        return None
    if reader is None or reader.status not in (ReaderStatus.ACTIVE, ReaderStatus.STOPPED):
        await _refuse(update, NOT_SUBSCRIBED)
        return None
    return reader


async def editing(update: Update, context: BotContext, chat_id: int | None = None) -> Reader | None:
    """As :func:`reading`, for a change: also None (after a refusal) when the sender may
    not change this subscription's settings. A reader may always change their own."""
    return await reading(update, context, chat_id)


def subscription_title(update: Update, reader: Reader) -> str | None:
    """The name to head a settings screen with when it shows another chat's subscription
    (a group or channel managed from here); None for the chat the user is in.

    Today a subscription is always the user's own chat, so this is None; groups and
    channels (issue 10) return their title here.
    """
    chat = update.effective_chat
    if chat is None or chat.id == reader.chat_id:
        return None
    return None
