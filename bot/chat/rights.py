"""Who is an administrator of a group or channel, and whether the bot may post there.

Telegram is the authority (``getChatMember``); its answers are kept for a minute, so a
group admin tapping through the topic picker costs one request, not one per tap, while a
demoted admin loses their rights within a minute. An anonymous admin writes as the group
itself (``sender_chat`` is the group): Telegram sends that only for administrators.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from telegram import ChatMember, ChatMemberAdministrator, ChatMemberRestricted, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ExtBot

_LOGGER = logging.getLogger(__name__)
MEMBER_TTL = 60.0  # seconds an answer of getChatMember is trusted
MAX_ENTRIES = 10_000
ADMIN_STATUSES = frozenset({ChatMember.OWNER, ChatMember.ADMINISTRATOR})
GONE_STATUSES = frozenset({ChatMember.LEFT, ChatMember.BANNED})


@dataclass(frozen=True, slots=True)
class Membership:
    """What Telegram says one user (or the bot) is in one chat."""

    status: str  # a ChatMember status, or UNKNOWN when Telegram would not say
    can_post: bool  # may send messages there (a channel: an admin with "Post messages")

    @property
    def is_admin(self) -> bool:
        return self.status in ADMIN_STATUSES

    @property
    def unknown(self) -> bool:
        return self.status == UNKNOWN


UNKNOWN = "unknown"
# Telegram refused to say: the chat is gone, or the bot is outside it (a channel's member
# list is closed to a bot that is not its administrator). Nobody counts as an admin then.
UNTOLD = Membership(UNKNOWN, can_post=False)


def membership_of(member: ChatMember, chat_type: str) -> Membership:
    """A ChatMember as the two facts the bot needs."""
    status = member.status
    if status == ChatMember.OWNER:
        return Membership(status, can_post=True)
    if chat_type == ChatType.CHANNEL:
        can_post = isinstance(member, ChatMemberAdministrator) and bool(member.can_post_messages)
    elif isinstance(member, ChatMemberRestricted):
        can_post = member.is_member and member.can_send_messages
    else:
        can_post = status not in GONE_STATUSES
    return Membership(status, can_post)


class MemberCache:
    """getChatMember answers by (chat, user), each trusted for ``ttl`` seconds."""

    def __init__(
        self, ttl: float = MEMBER_TTL, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[tuple[int, int], tuple[float, Membership]] = {}

    def get(self, chat_id: int, user_id: int) -> Membership | None:
        entry = self._entries.get((chat_id, user_id))
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def put(self, chat_id: int, user_id: int, membership: Membership) -> None:
        now = self._clock()
        if len(self._entries) >= MAX_ENTRIES:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
        self._entries[(chat_id, user_id)] = (now + self._ttl, membership)

    def forget(self, chat_id: int) -> None:
        """Telegram told us the chat changed (the bot was promoted, removed...)."""
        self._entries = {k: v for k, v in self._entries.items() if k[0] != chat_id}


class RightsUnknown(Exception):
    """Telegram could not be asked just now (network, flood wait): try again shortly."""


async def membership(
    bot: ExtBot[int], cache: MemberCache, chat_id: int, user_id: int, chat_type: str
) -> Membership:
    """What ``user_id`` is in ``chat_id``, from the cache or from Telegram.

    A refusal (unknown chat, the bot not in it, a channel's member list closed to a bot
    that is no admin) is :data:`UNTOLD`, no admin; raises :class:`RightsUnknown` when
    Telegram did not answer.
    """
    known = cache.get(chat_id, user_id)
    if known is not None:
        return known
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except (BadRequest, Forbidden) as exc:
        _LOGGER.info("getChatMember %s/%s refused: %s", chat_id, user_id, exc.message)
        found = UNTOLD
    except TelegramError as exc:
        raise RightsUnknown(exc.message) from exc
    else:
        found = membership_of(member, chat_type)
    cache.put(chat_id, user_id, found)
    return found


def is_anonymous_admin(update: Update) -> bool:
    """A message written by an anonymous admin: Telegram shows the group as its sender."""
    message = update.message  # not a button: a bot's own post carries sender_chat too
    chat = update.effective_chat
    return (
        message is not None
        and chat is not None
        and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
        and message.sender_chat is not None
        and message.sender_chat.id == chat.id
    )
