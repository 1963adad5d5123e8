"""The Bot API methods the bot calls, each checked like Telegram checks it."""

from __future__ import annotations

import asyncio
import time
from collections import deque

from .members import ADMIN_STATUSES, member_json
from .records import Chat, SentMessage
from .rules import (
    CHAT_ACTIONS,
    COMMAND_NAME,
    CONFLICT,
    DEFAULT_UPDATE_TYPES,
    MAX_CALLBACK_ANSWER_LENGTH,
    MAX_COMMANDS,
    NOT_MODIFIED,
    QUERY_TOO_OLD,
    URL_SCHEMES,
    WEBHOOK_ACTIVE,
    WEBHOOK_SECRET,
    ApiError,
    JsonDict,
    bad_request,
    commands_key,
    message_text,
    validate_reply_markup,
)
from .state import ApiState
from .wire import chat_id_or_none, int_param


class BotMethods(ApiState):
    """The Bot API methods the bot calls, each checked like Telegram checks it."""

    def _true(self, params: JsonDict) -> bool:
        return True

    def _get_me(self, params: JsonDict) -> JsonDict:
        return self.bot_user

    def _delete_webhook(self, params: JsonDict) -> bool:
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        self.webhook = None
        return True

    def _set_webhook(self, params: JsonDict) -> bool:
        url = params.get("url")
        if not isinstance(url, str) or not url:
            return self._delete_webhook(params)  # an empty url removes the webhook
        if not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not WEBHOOK_SECRET.fullmatch(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": params.get("allowed_updates"),
            "max_connections": params.get("max_connections", 40),
        }
        return True

    def _get_webhook_info(self, params: JsonDict) -> JsonDict:
        info: JsonDict = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook["allowed_updates"]:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    async def _get_updates(self, params: JsonDict) -> list[JsonDict]:
        offset = int_param(params, "offset", 0)
        limit = min(100, max(1, int_param(params, "limit", 100)))
        timeout = params.get("timeout") or 0
        if not isinstance(timeout, int | float):
            raise bad_request("invalid timeout specified")
        if self.webhook is not None:
            raise ApiError(409, WEBHOOK_ACTIVE)
        if self.polled_elsewhere:
            raise ApiError(409, CONFLICT)
        allowed = params.get("allowed_updates")
        if allowed is not None:
            if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
                raise bad_request("can't parse allowed updates")
            # Telegram remembers the setting; [] means "the default set".
            self._allowed_updates = frozenset(allowed) or DEFAULT_UPDATE_TYPES

        # Only one long poll may be pending, like on Telegram; the older one is terminated.
        self._wake_poller("conflict")
        self._confirm(offset)
        batch = self._collect(limit)
        if batch or timeout <= 0 or self._closing:
            return batch
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[str] = loop.create_future()
        self._poll_waiter = waiter
        try:
            await asyncio.wait({waiter}, timeout=float(timeout))
        finally:
            if self._poll_waiter is waiter:
                self._poll_waiter = None
        if waiter.done() and waiter.result() == "conflict":
            raise ApiError(409, CONFLICT)
        return self._collect(limit)

    def _confirm(self, offset: int) -> None:
        updates = self._updates
        if offset > 0:
            while updates and updates[0].update_id < offset:
                updates.popleft()
        elif offset < 0:
            # Negative offset: keep only the last -offset updates, forget the rest.
            while len(updates) > -offset:
                updates.popleft()

    def _collect(self, limit: int) -> list[JsonDict]:
        allowed = self._allowed_updates
        if any(update.kind not in allowed for update in self._updates):
            # Telegram never delivers filtered types; dropping them keeps offsets simple.
            self._updates = deque(u for u in self._updates if u.kind in allowed)
        return [update.payload for _, update in zip(range(limit), self._updates, strict=False)]

    def _set_my_commands(self, params: JsonDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > MAX_COMMANDS:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned: list[JsonDict] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("BotCommand must be an Object")
            name = command.get("command")
            description = command.get("description")
            if not isinstance(name, str) or COMMAND_NAME.fullmatch(name) is None:
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = commands_key(params)
        if cleaned:
            self.commands[key] = cleaned
        else:
            self.commands.pop(key, None)
        return True

    def _get_my_commands(self, params: JsonDict) -> list[JsonDict]:
        return self.commands.get(commands_key(params), [])

    def _delete_my_commands(self, params: JsonDict) -> bool:
        self.commands.pop(commands_key(params), None)
        return True

    def _send_message(self, params: JsonDict) -> JsonDict:
        chat = self._writable_chat(params.get("chat_id"))
        text, plain, entities, parse_mode = message_text(params)
        markup = validate_reply_markup(params.get("reply_markup"), inline_only=False)
        thread_id, reply_to = self._placement(chat, params)
        message = SentMessage(
            message_id=self._new_message_id(chat.id),
            chat_id=chat.id,
            text=text,
            plain_text=plain,
            parse_mode=parse_mode,
            reply_markup=markup,
            date=int(time.time()),
            sent_at=time.monotonic(),
            entities=entities,
            thread_id=thread_id,
            reply_to=reply_to,
        )
        self._store(message)
        return self._message_json(message)

    def _placement(self, chat: Chat, params: JsonDict) -> tuple[int | None, int | None]:
        """Where a new message goes: (forum topic, message it replies to), or Telegram's error.

        A reply without a topic goes to the topic of the message it answers."""
        thread = params.get("message_thread_id")
        reply_to = None
        reply = params.get("reply_parameters")
        if reply is not None:
            if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
                raise bad_request("can't parse reply parameters JSON object")
            replied = self._messages.get((chat.id, reply["message_id"]))
            if replied is not None and not replied.deleted:
                reply_to = replied.message_id
                thread = replied.thread_id if thread is None else thread
            elif not reply.get("allow_sending_without_reply"):
                raise bad_request("message to be replied not found")
        if thread is None:
            return None, reply_to
        if isinstance(thread, bool) or not isinstance(thread, int):
            raise bad_request("invalid message thread identifier specified")
        if not chat.is_forum or thread not in chat.topics:
            raise bad_request("message thread not found")
        return thread, reply_to

    def _find_chat(self, raw: object) -> Chat:
        """A chat by id, or a public group or channel by ``@username``."""
        if isinstance(raw, str) and raw.startswith("@"):
            name = raw[1:].lower()
            for chat in self._chats.values():
                if chat.username and chat.username.lower() == name and chat.user is None:
                    return chat
            raise bad_request("chat not found")
        chat_id = chat_id_or_none(raw)
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _hidden(self, chat: Chat) -> bool:
        """A private group or channel (no @username) is unknown to a bot outside it."""
        bot = chat.members.get(self.bot_user["id"])
        gone = bot is not None and bot["status"] in ("left", "kicked")
        return (
            chat.user is None
            and not chat.username
            and (gone or (bot is None and chat.type == "channel"))
        )

    def _get_chat_member(self, params: JsonDict) -> JsonDict:
        chat = self._find_chat(params.get("chat_id"))
        user_id = params.get("user_id")
        if isinstance(user_id, bool) or not isinstance(user_id, int):
            raise bad_request("invalid user_id specified")
        if chat.user is not None:  # a private chat: its user, or nobody
            if user_id not in (chat.id, self.bot_user["id"]):
                raise bad_request("user not found")
            user = chat.user if user_id == chat.id else self.bot_user
            return member_json(user, "kicked" if chat.blocked else "member", "private")
        if user_id != self.bot_user["id"]:
            self._check_member_list(chat)
        member = chat.members.get(user_id)
        if member is not None:
            return member
        user = self.bot_user if user_id == self.bot_user["id"] else self._users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        default = "member" if chat.type != "channel" and user is self.bot_user else "left"
        return member_json(user, default, chat.type)

    def _get_chat_administrators(self, params: JsonDict) -> list[JsonDict]:
        chat = self._find_chat(params.get("chat_id"))
        if chat.user is not None:
            raise bad_request("there are no administrators in the private chat")
        self._check_member_list(chat)
        return [m for m in chat.members.values() if m["status"] in ADMIN_STATUSES]

    def _check_member_list(self, chat: Chat) -> None:
        """What Telegram answers a bot that asks about others in a chat it is not part of."""
        bot = chat.members.get(self.bot_user["id"])
        status = bot["status"] if bot else ("left" if chat.type == "channel" else "member")
        if status in ("left", "kicked"):
            verb = "was kicked from" if status == "kicked" else "is not a member of"
            raise ApiError(403, f"Forbidden: bot {verb} the {chat.type} chat")
        if chat.type == "channel" and status not in ADMIN_STATUSES:
            raise bad_request("member list is inaccessible")

    def _edit_message_text(self, params: JsonDict) -> JsonDict:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the fake Bot API")
        chat = self._writable_chat(params.get("chat_id"))
        message = self._existing_message(chat, params, "message to edit not found")
        text, plain, entities, parse_mode = message_text(params)
        # Telegram drops the keyboard when an edit does not repeat it.
        markup = validate_reply_markup(params.get("reply_markup"), inline_only=True)
        current = (message.plain_text, message.entities, message.reply_markup)
        if (plain, entities, markup) == current:
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        message.text, message.plain_text, message.entities = text, plain, entities
        message.parse_mode, message.reply_markup = parse_mode, markup
        self._mark_edited(message)
        return self._message_json(message)

    def _edit_message_reply_markup(self, params: JsonDict) -> JsonDict:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the fake Bot API")
        chat = self._writable_chat(params.get("chat_id"))
        message = self._existing_message(chat, params, "message to edit not found")
        markup = validate_reply_markup(params.get("reply_markup"), inline_only=True)
        if markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        message.reply_markup = markup
        self._mark_edited(message)
        return self._message_json(message)

    def _delete_message(self, params: JsonDict) -> bool:
        chat = self._writable_chat(params.get("chat_id"))
        message = self._existing_message(chat, params, "message to delete not found")
        message.deleted = True
        self._notify_chat(chat.id)
        return True

    def _copy_like(self, params: JsonDict) -> SentMessage:
        """Shared part of copyMessage/forwardMessage; only bot messages can be the source."""
        target = self._writable_chat(params.get("chat_id"))
        source_chat_id = chat_id_or_none(params.get("from_chat_id"))
        source_chat = self._chats.get(source_chat_id) if source_chat_id is not None else None
        if source_chat is None:
            raise bad_request("chat not found")
        source = self._existing_message(source_chat, params, "message to copy not found")
        copy = SentMessage(
            message_id=self._new_message_id(target.id),
            chat_id=target.id,
            text=source.text,
            plain_text=source.plain_text,
            parse_mode=source.parse_mode,
            reply_markup=source.reply_markup,
            date=int(time.time()),
            sent_at=time.monotonic(),
            entities=list(source.entities),
        )
        self._store(copy)
        return copy

    def _copy_message(self, params: JsonDict) -> JsonDict:
        return {"message_id": self._copy_like(params).message_id}

    def _forward_message(self, params: JsonDict) -> JsonDict:
        return self._message_json(self._copy_like(params))

    def _answer_callback_query(self, params: JsonDict) -> bool:
        query_id = params.get("callback_query_id")
        if not isinstance(query_id, str) or query_id not in self._pending_queries:
            raise bad_request(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        url = params.get("url")
        if url is not None and not str(url).startswith(URL_SCHEMES):
            raise bad_request("URL_INVALID")
        self._pending_queries.discard(query_id)
        self.callback_answers[query_id] = params
        return True

    def _send_chat_action(self, params: JsonDict) -> bool:
        self._writable_chat(params.get("chat_id"))
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _get_chat(self, params: JsonDict) -> JsonDict:
        raw = params.get("chat_id")
        if isinstance(raw, str) and raw.startswith("@"):
            raw = self._find_chat(raw).id  # a public group or channel by its @username
        chat_id = chat_id_or_none(raw)
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is None and self.open_chats and chat_id is not None and chat_id > 0:
            chat = self._private_chat(chat_id)
        if chat is None or self._hidden(chat):
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        info = chat.as_json()
        # The fields PTB's ChatFullInfo requires.
        info.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        return info
