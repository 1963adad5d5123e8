"""The simulated users: they write, press buttons, block the bot; groups migrate."""

from __future__ import annotations

import time

from .html import utf16_len
from .records import Chat
from .rules import BOT_COMMAND_PREFIX, JsonDict
from .state import ApiState


class UserActions(ApiState):
    """The simulated users: they write, press buttons, block the bot; groups migrate."""

    def add_user(
        self,
        user_id: int,
        first_name: str = "Reader",
        username: str | None = None,
        language_code: str | None = "en",
    ) -> JsonDict:
        """Make ``user_id`` known; their private chat does not exist until they write."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user: JsonDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self._users[user_id] = user
        chat = self._chats.get(user_id)
        if chat is None:
            self._chats[user_id] = Chat(id=user_id, type="private", user=user)
        else:
            chat.user = user
        return user

    async def send_text(self, user_id: int, text: str) -> int:
        """The user writes ``text`` to the bot in their private chat; returns the update_id."""
        chat = self._private_chat(user_id)
        if chat.blocked:
            # Writing to a blocked bot means pressing "Restart", which unblocks it first.
            self.unblock(user_id)
        chat.started = True
        message: JsonDict = {
            "message_id": self._new_message_id(user_id),
            "from": chat.user,
            "chat": chat.as_json(),
            "date": int(time.time()),
            "text": text,
        }
        command = BOT_COMMAND_PREFIX.match(text)
        if command is not None:
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}
            ]
        return self._queue_update("message", message)

    async def send_location(self, user_id: int, latitude: float, longitude: float) -> int:
        """The user shares a location (the reply keyboard's request_location button)."""
        chat = self._private_chat(user_id)
        chat.started = True
        return self._queue_update(
            "message",
            {
                "message_id": self._new_message_id(user_id),
                "from": chat.user,
                "chat": chat.as_json(),
                "date": int(time.time()),
                "location": {"latitude": latitude, "longitude": longitude},
            },
        )

    async def press_button(self, user_id: int, message_id: int, callback_data: str) -> str:
        """The user presses an inline button; returns the callback_query id.

        The button must be in the message's *current* keyboard, so a test cannot press a
        button the bot never showed (or already removed).
        """
        message = self._messages.get((user_id, message_id))
        assert message is not None, f"no bot message {message_id} in chat {user_id}"
        assert not message.deleted, f"message {message_id} in chat {user_id} was deleted"
        available = message.callback_data()
        assert callback_data in available, (
            f"message {message_id} in chat {user_id} has no button with callback_data "
            f"{callback_data!r}; current buttons: {available!r}"
        )
        chat = self._private_chat(user_id)
        query_id = str(self._next_query_id)
        self._next_query_id += 1
        self._pending_queries.add(query_id)
        self._queue_update(
            "callback_query",
            {
                "id": query_id,
                "from": chat.user,
                "message": self._message_json(message),
                "chat_instance": str(-(7_000_000_000 + user_id)),
                "data": callback_data,
            },
        )
        return query_id

    def block(self, user_id: int) -> None:
        """The user blocks the bot; sends to them now fail with 403."""
        chat = self._private_chat(user_id)
        if not chat.blocked:
            chat.blocked = True
            self._queue_member_change(chat, "member", "kicked")

    def unblock(self, user_id: int) -> None:
        chat = self._private_chat(user_id)
        if chat.blocked:
            chat.blocked = False
            self._queue_member_change(chat, "kicked", "member")

    def add_group(self, chat_id: int, title: str) -> None:
        """A group the bot is a member of (ids below -10**12 are supergroups)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        kind = "supergroup" if chat_id < -1_000_000_000_000 else "group"
        self._chats[chat_id] = Chat(id=chat_id, type=kind, title=title)

    def migrate_group(self, old_chat_id: int, new_chat_id: int) -> None:
        """Upgrade a group to a supergroup; sends to the old id now get ChatMigrated."""
        old = self._chats.get(old_chat_id)
        if old is None or old.user is not None:
            raise ValueError(f"{old_chat_id} is not a known group")
        old.migrated_to = new_chat_id
        new = Chat(id=new_chat_id, type="supergroup", title=old.title)
        self._chats[new_chat_id] = new
        # Telegram announces the upgrade with service messages in both chats.
        admin = {"id": 777_000, "is_bot": False, "first_name": "Group Admin"}
        now = int(time.time())
        self._queue_update(
            "message",
            {
                "message_id": self._new_message_id(old_chat_id),
                "from": admin,
                "chat": old.as_json(),
                "date": now,
                "migrate_to_chat_id": new_chat_id,
            },
        )
        self._queue_update(
            "message",
            {
                "message_id": self._new_message_id(new_chat_id),
                "from": admin,
                "sender_chat": new.as_json(),
                "chat": new.as_json(),
                "date": now,
                "migrate_from_chat_id": old_chat_id,
            },
        )
