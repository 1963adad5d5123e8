"""The simulated users: they write, press buttons, block the bot; groups migrate.

Groups, supergroups (forum topics) and channels: users write commands there (as
themselves or as an anonymous admin), administrators add, promote, demote and remove
the bot (``my_chat_member``), users forward channel posts and share a chat through the
chat-picker button. Telegram's privacy mode holds: in a group the bot sees commands
meant for it and replies to its messages, everything only when it is an administrator.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from .html import utf16_len
from .members import (
    ADMIN_STATUSES,
    GROUP_ANONYMOUS_BOT,
    SERVICE_USER,
    is_admin,
    member_json,
)
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

    async def press_button(
        self, user_id: int, message_id: int, callback_data: str, *, chat_id: int | None = None
    ) -> str:
        """The user presses an inline button; returns the callback_query id.

        The button must be in the message's *current* keyboard, so a test cannot press a
        button the bot never showed (or already removed). ``chat_id``: a group's or
        channel's message (default: the user's private chat).
        """
        where = user_id if chat_id is None else chat_id
        message = self._messages.get((where, message_id))
        assert message is not None, f"no bot message {message_id} in chat {where}"
        assert not message.deleted, f"message {message_id} in chat {where} was deleted"
        available = message.callback_data()
        assert callback_data in available, (
            f"message {message_id} in chat {where} has no button with callback_data "
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

    def add_group(
        self,
        chat_id: int,
        title: str,
        *,
        admins: Iterable[int] = (),
        forum: bool = False,
        username: str | None = None,
    ) -> None:
        """A group the bot is a member of (ids below -10**12 are supergroups).

        ``admins``: user ids, the first one the owner; ``forum``: a supergroup with topics.
        """
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        kind = "supergroup" if chat_id < -1_000_000_000_000 else "group"
        if forum and kind != "supergroup":
            raise ValueError("only supergroups (ids below -10**12) have forum topics")
        chat = Chat(id=chat_id, type=kind, title=title, username=username, is_forum=forum)
        self._chats[chat_id] = chat
        self._add_admins(chat, admins)

    def add_channel(
        self,
        chat_id: int,
        title: str,
        *,
        admins: Iterable[int] = (),
        username: str | None = None,
        bot: str | None = "administrator",
        bot_can_post: bool = True,
    ) -> None:
        """A channel; ``admins`` as for :meth:`add_group`. ``bot``: the bot's status there
        (``None``: not in it), with "Post messages" as ``bot_can_post`` says."""
        if chat_id >= -1_000_000_000_000:
            raise ValueError("channel ids are below -10**12 (-100…)")
        chat = Chat(id=chat_id, type="channel", title=title, username=username)
        self._chats[chat_id] = chat
        self._add_admins(chat, admins)
        if bot is not None:
            rights = {"can_post_messages": bot_can_post} if bot == "administrator" else {}
            chat.members[self.bot_user["id"]] = member_json(self.bot_user, bot, "channel", **rights)

    def _add_admins(self, chat: Chat, admins: Iterable[int]) -> None:
        for n, user_id in enumerate(admins):
            self.set_member(chat.id, user_id, "creator" if n == 0 else "administrator")

    def _group_chat(self, chat_id: int) -> Chat:
        chat = self._chats.get(chat_id)
        assert chat is not None and chat.user is None, f"{chat_id} is no group or channel"
        return chat

    def _user(self, user_id: int) -> JsonDict:
        return self._users.get(user_id) or self.add_user(user_id)

    def set_member(self, chat_id: int, user_id: int, status: str, **rights: bool) -> None:
        """``user_id``'s status in a group or channel ("creator", "administrator", "member",
        "restricted", "left", "kicked"), with ``rights`` (see tests.botapi.members). The bot
        is not told (it gets no chat_member updates)."""
        chat = self._group_chat(chat_id)
        chat.members[user_id] = member_json(self._user(user_id), status, chat.type, **rights)

    def set_bot_status(
        self, chat_id: int, status: str, *, by: int | None = None, **rights: bool
    ) -> int:
        """An administrator (``by``) adds, promotes, demotes, removes ("left") or bans
        ("kicked") the bot in a group or channel; the bot gets a my_chat_member update.
        Returns its update_id."""
        chat = self._group_chat(chat_id)
        bot_id = self.bot_user["id"]
        default = "left" if chat.type == "channel" else "member"
        old = chat.members.get(bot_id) or member_json(self.bot_user, default, chat.type)
        new = member_json(self.bot_user, status, chat.type, **rights)
        chat.members[bot_id] = new
        if by is None:
            by = next((u for u, m in chat.members.items() if m["status"] == "creator"), None)
        actor = self._user(by) if by is not None else SERVICE_USER
        return self._queue_update(
            "my_chat_member",
            {
                "chat": chat.as_json(),
                "from": actor,
                "date": int(time.time()),
                "old_chat_member": old,
                "new_chat_member": new,
            },
        )

    def add_topic(self, chat_id: int, name: str) -> int:
        """A new forum topic; returns its message_thread_id."""
        chat = self._group_chat(chat_id)
        assert chat.is_forum, f"{chat_id} is not a forum"
        thread_id = self._new_message_id(chat_id)  # the topic's creation message
        chat.topics[thread_id] = name
        return thread_id

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """Delete a forum topic: sends to it now fail with "message thread not found"."""
        del self._group_chat(chat_id).topics[thread_id]

    async def send_group_text(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        thread_id: int | None = None,
        anonymous: bool = False,
        reply_to: int | None = None,
    ) -> int | None:
        """``user_id`` writes ``text`` in a group (``thread_id``: in that forum topic;
        ``anonymous``: as the group, like an anonymous admin; ``reply_to``: answering that
        bot message). Returns the update_id, or None when privacy mode keeps it from the
        bot: it is not a command for this bot nor a reply to it, and the bot no admin."""
        chat = self._group_chat(chat_id)
        assert chat.type != "channel", "nobody writes commands in a channel"
        if thread_id is not None:
            assert thread_id in chat.topics, f"no topic {thread_id} in {chat_id}"
        bot = chat.members.get(self.bot_user["id"])
        if bot is not None and bot["status"] in ("left", "kicked"):
            return None
        command = BOT_COMMAND_PREFIX.match(text)
        addressee = command.group().partition("@")[2].lower() if command else ""
        for_me = command is not None and addressee in ("", self.bot_user["username"].lower())
        replying = reply_to is not None and (chat_id, reply_to) in self._messages
        if not (for_me or replying or (bot is not None and bot["status"] in ADMIN_STATUSES)):
            return None
        if anonymous:
            assert is_admin(chat.members.get(user_id)), f"{user_id} is no admin of {chat_id}"
        elif user_id not in chat.members:
            self.set_member(chat_id, user_id, "member")
        message: JsonDict = {
            "message_id": self._new_message_id(chat_id),
            "from": GROUP_ANONYMOUS_BOT if anonymous else self._user(user_id),
            "chat": chat.as_json(),
            "date": int(time.time()),
            "text": text,
        }
        if anonymous:
            message["sender_chat"] = chat.as_json()
        if thread_id is not None:
            message.update(message_thread_id=thread_id, is_topic_message=True)
        if replying and reply_to is not None:
            message["reply_to_message"] = self._message_json(self._messages[(chat_id, reply_to)])
        if command is not None:
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}
            ]
        return self._queue_update("message", message)

    async def forward_channel_post(
        self, user_id: int, channel_id: int, text: str = "A post"
    ) -> int:
        """The user forwards a post of a channel to the bot (forward_origin "channel")."""
        channel = self._group_chat(channel_id)
        chat = self._private_chat(user_id)
        chat.started = True
        now = int(time.time())
        return self._queue_update(
            "message",
            {
                "message_id": self._new_message_id(user_id),
                "from": chat.user,
                "chat": chat.as_json(),
                "date": now,
                "text": text,
                "forward_origin": {
                    "type": "channel",
                    "chat": channel.as_json(),
                    "message_id": self._new_message_id(channel_id),
                    "date": now - 60,
                },
            },
        )

    async def share_chat(self, user_id: int, request_id: int, chat_id: int) -> int:
        """The user picks ``chat_id`` with a chat-picker button the bot showed them.

        Like Telegram, only a chat the button allows can be picked (an AssertionError
        otherwise), and the bot is granted the administrator rights the button asks for
        (a my_chat_member update first). Returns the chat_shared message's update_id.
        """
        request = self._chat_request(user_id, request_id)
        chat = self._group_chat(chat_id)
        assert (chat.type == "channel") == bool(request.get("chat_is_channel")), request
        member = chat.members.get(user_id)
        wanted = request.get("user_administrator_rights") or {}
        assert not wanted or is_admin(member, **wanted), f"{user_id} may not pick {chat_id}"
        bot_rights = request.get("bot_administrator_rights") or {}
        if bot_rights and not is_admin(chat.members.get(self.bot_user["id"]), **bot_rights):
            assert is_admin(member, can_promote_members=True), f"{user_id} cannot promote bots"
            rights = {k: bool(v) for k, v in bot_rights.items() if k.startswith("can_")}
            self.set_bot_status(chat_id, "administrator", by=user_id, **rights)
        shared: JsonDict = {"request_id": request_id, "chat_id": chat_id}
        if request.get("request_title") and chat.title:
            shared["title"] = chat.title
        if request.get("request_username") and chat.username:
            shared["username"] = chat.username
        private = self._private_chat(user_id)
        return self._queue_update(
            "message",
            {
                "message_id": self._new_message_id(user_id),
                "from": private.user,
                "chat": private.as_json(),
                "date": int(time.time()),
                "chat_shared": shared,
            },
        )

    def _chat_request(self, user_id: int, request_id: int) -> JsonDict:
        """The request_chat of a keyboard button the bot sent ``user_id``."""
        for (chat_id, _), message in reversed(self._messages.items()):
            if chat_id != user_id or not message.reply_markup:
                continue
            for row in message.reply_markup.get("keyboard") or []:
                for button in row:
                    request = button.get("request_chat") if isinstance(button, dict) else None
                    if request and request.get("request_id") == request_id:
                        return dict(request)
        raise AssertionError(f"the bot showed {user_id} no chat picker {request_id}")

    def migrate_group(self, old_chat_id: int, new_chat_id: int) -> None:
        """Upgrade a group to a supergroup; sends to the old id now get ChatMigrated."""
        old = self._chats.get(old_chat_id)
        if old is None or old.user is not None:
            raise ValueError(f"{old_chat_id} is not a known group")
        old.migrated_to = new_chat_id
        new = Chat(
            id=new_chat_id,
            type="supergroup",
            title=old.title,
            username=old.username,
            members={
                user_id: member_json(m["user"], m["status"], "supergroup")
                for user_id, m in old.members.items()
            },
        )
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
