"""Which subscription an update reads or changes, and whether its sender may change it.

Every handler that shows or changes a subscription's settings resolves it here, so the
rules live in one place:

- a private chat: the reader's own subscription, theirs to read and change;
- a group or supergroup: the group's subscription; everyone may read it (/digest,
  /related, /settings), only its administrators change it (an anonymous admin writes as
  the group), on every command, button and typed answer;
- a channel cannot send commands: it is managed from a private chat, whose buttons (and
  pending text prompts) name the channel's chat id; only an administrator of the channel
  may read or change it, as Telegram says now (:mod:`bot.chat.rights`, answers kept a
  minute). Buttons under a channel's posts change nothing: anyone reading it could press.

A subscription is active, stopped (/stop: settings kept) or blocked (the reader blocked
the bot; a group or channel the bot may no longer post to is "paused" with a reason).
Only an active one is read or changed unless the caller passes ``include_stopped`` (the
/settings screen shows the others with how to bring them back). A /pause (``paused_until``)
keeps a subscription active: its settings stay open.

Both functions tell the user why when they return None (a pop-up for a button press,
which answers the query, or a reply), so callers simply return. Screens show whose
settings they are with :func:`subscription_title` and :func:`marked`.
"""

from __future__ import annotations

import logging

from telegram import Chat, Update
from telegram.constants import ChatType

from bot.chat.replies import answer
from bot.chat.rights import RightsUnknown, is_anonymous_admin, membership
from bot.context import BotContext
from bot.i18n import N_, _
from digest.html import escape
from storage.readers import ChatKind, Reader, ReaderStatus, get_reader

_LOGGER = logging.getLogger(__name__)
NOT_SUBSCRIBED = N_("You are not subscribed yet. Send /start to begin.")
UNSUBSCRIBED = N_("You unsubscribed; /start to come back (your settings are kept).")
GROUP_NOT_SUBSCRIBED = N_("This group is not subscribed yet: an administrator sends /start here.")
GROUP_UNSUBSCRIBED = N_(
    "This group unsubscribed; an administrator sends /start to bring it back (its settings "
    "are kept)."
)
NOT_YOURS = N_("This button belongs to another chat's settings.")
GROUP_ADMINS_ONLY = N_("Only this group's administrators can change its settings.")
IN_A_CHANNEL = N_("Buttons do nothing in a channel. Write to me in a private chat instead.")
RIGHTS_UNKNOWN = N_("I could not check your rights with Telegram just now. Try again in a minute.")
GROUP_TYPES = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})
POPUP_CHARS = 200  # Telegram's limit on a callback query's answer


def channel_admins_only(reader: Reader) -> str:
    return _("Only administrators of {name} can change its settings.").format(
        name=subscription_name(reader)
    )


def channel_unseen(reader: Reader) -> str:
    return _(
        "I cannot see who administers {name}: I am not its administrator any more. Make me "
        "one again (with “Post messages”), then try again."
    ).format(name=subscription_name(reader))


def not_active(reader: Reader) -> str:
    """Why a stopped or paused subscription refuses a change (plain text)."""
    name = subscription_name(reader)
    if reader.is_channel:
        if reader.status == ReaderStatus.STOPPED:
            return _("{name} is stopped: Resume it on its /channels screen.").format(name=name)
        reason = reader.paused_reason or _("I cannot post")
        return _("{name} is paused: {reason}.").format(name=name, reason=reason)
    if reader.status == ReaderStatus.STOPPED:
        return _(GROUP_UNSUBSCRIBED if reader.is_group else UNSUBSCRIBED)
    return _(GROUP_NOT_SUBSCRIBED if reader.is_group else NOT_SUBSCRIBED)


async def _refuse(update: Update, text: str) -> None:
    """``text`` is plain: a pop-up shows it as it is, a reply escapes it."""
    if update.callback_query is not None:
        shown = text if len(text) <= POPUP_CHARS else text[: POPUP_CHARS - 1] + "…"
        await update.callback_query.answer(shown, show_alert=True)
    else:
        await answer(update, escape(text))


async def reading(
    update: Update,
    context: BotContext,
    chat_id: int | None = None,
    *,
    include_stopped: bool = False,
) -> Reader | None:
    """The subscription this update is about (``chat_id``: named by a button or prompt).

    None, after telling the user, when it is not subscribed, not active (unless
    ``include_stopped``: a stopped or paused one too), or not the user's to see.
    """
    return await _resolve(update, context, chat_id, change=False, include_stopped=include_stopped)


async def editing(
    update: Update,
    context: BotContext,
    chat_id: int | None = None,
    *,
    include_stopped: bool = False,
) -> Reader | None:
    """As :func:`reading`, for a change: also None (after a refusal) when the sender may
    not change this subscription's settings (a group's non-admin; a channel's non-admin).
    A reader may always change their own."""
    return await _resolve(update, context, chat_id, change=True, include_stopped=include_stopped)


async def _resolve(
    update: Update,
    context: BotContext,
    chat_id: int | None,
    *,
    change: bool,
    include_stopped: bool,
) -> Reader | None:
    chat = update.effective_chat
    if chat is None:
        return None
    if chat.type == ChatType.CHANNEL:
        await _refuse(update, _(IN_A_CHANNEL))
        return None
    if chat_id is not None and chat_id != chat.id:
        reader = await _managed_channel(update, context, chat, chat_id)
    else:
        reader = await context.services.db.run(get_reader, chat.id)
        group = chat.type in GROUP_TYPES
        if reader is None:
            await _refuse(update, _(GROUP_NOT_SUBSCRIBED if group else NOT_SUBSCRIBED))
            return None
        if change and group and not await require_group_admin(update, context):
            return None
    if reader is None:
        return None
    if reader.status != ReaderStatus.ACTIVE and not include_stopped:
        await _refuse(update, not_active(reader))
        return None
    return reader


async def _managed_channel(
    update: Update, context: BotContext, chat: Chat, chat_id: int
) -> Reader | None:
    """A channel's subscription, named by a button in a private chat of one of its admins."""
    reader = await context.services.db.run(get_reader, chat_id)
    user = update.effective_user
    if chat.type != ChatType.PRIVATE or reader is None or not reader.is_channel or user is None:
        await _refuse(update, _(NOT_YOURS))
        return None
    try:
        found = await membership(
            context.bot, context.services.members, chat_id, user.id, ChatType.CHANNEL
        )
    except RightsUnknown:
        await _refuse(update, _(RIGHTS_UNKNOWN))
        return None
    if not found.is_admin:
        _LOGGER.info("user %s refused: not an administrator of channel %s", user.id, chat_id)
        refusal = channel_unseen(reader) if found.unknown else channel_admins_only(reader)
        await _refuse(update, refusal)
        return None
    return reader


async def require_group_admin(update: Update, context: BotContext) -> bool:
    """True when the sender administers this group; else False, after a refusal.

    For what changes a group before it has a subscription (its /start)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or chat.type not in GROUP_TYPES:
        return False
    if is_anonymous_admin(update):
        return True
    if user is None:
        await _refuse(update, _(GROUP_ADMINS_ONLY))
        return False
    try:
        found = await membership(context.bot, context.services.members, chat.id, user.id, chat.type)
    except RightsUnknown:
        await _refuse(update, _(RIGHTS_UNKNOWN))
        return False
    if not found.is_admin:
        _LOGGER.info("user %s refused: not an administrator of group %s", user.id, chat.id)
        await _refuse(update, _(GROUP_ADMINS_ONLY))
        return False
    return True


def subscription_name(reader: Reader) -> str:
    """How screens name a subscription, as plain text: "📢 Tech News" for a channel,
    "👥 Team chat" for a group, "your chat" for a reader's own private chat."""
    if reader.kind == ChatKind.PRIVATE:
        return _("your chat")
    name = reader.title[:64] if reader.title else str(reader.chat_id)
    return f"📢 {name}" if reader.is_channel else f"👥 {name}"


def subscription_title(reader: Reader) -> str:
    """:func:`subscription_name`, escaped for an HTML message."""
    return escape(subscription_name(reader))


def marked(reader: Reader, text: str) -> str:
    """``text`` under a "Settings for 📢 <name>" line when it is about a channel, whose
    screens live in a private chat among the reader's own; other screens are unchanged."""
    if not reader.is_channel:
        return text
    title = _("Settings for {name}").format(name=subscription_title(reader))
    return f"<b>{title}</b>\n\n{text}"
