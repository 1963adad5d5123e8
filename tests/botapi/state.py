"""The stand-in's state: chats, messages, pending updates and what it observed.

:class:`ApiState` holds it; the mixins built on it (users, observations, methods)
and :class:`tests.botapi.server.FakeBotApi` share one instance's state, on one event
loop, so no locking is needed.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque

from .members import post_refusal
from .records import (
    DEFAULT_TOKEN,
    Call,
    Chat,
    Failure,
    InlineQuery,
    QueuedUpdate,
    SentMessage,
    SlidingWindow,
    Stats,
    TokenBucket,
    bot_user_json,
)
from .rules import DEFAULT_UPDATE_TYPES, ApiError, JsonDict, bad_request
from .wire import chat_id_or_none


class ApiState:
    """Everything one stand-in knows, and the helpers every part of it uses."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        rate_limit: float | None = None,
        burst: int | None = None,
        per_chat_rate: float | None = None,
        per_chat_burst: int | None = None,
        latency: float = 0.0,
        open_chats: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        window_limit: int | None = None,
        chat_window: tuple[int, float] | None = None,
        group_window: tuple[int, float] | None = None,
        paid_limit: int = 1000,
        inline_mode: bool = True,
        inline_timeout: float = 10.0,
    ) -> None:
        """``rate_limit``/``burst``/``per_chat_rate``: lenient token buckets (Telegram's
        documented averages). ``window_limit``: strict mode, at most that many message sends
        in any sliding second bot-wide; ``chat_window`` = (n, seconds) for private chats and
        ``group_window`` (Telegram: 20 per 60 s) for groups and channels, per chat. Sends
        with ``allow_paid_broadcast`` count against ``paid_limit`` per second instead of the
        bot-wide window. ``inline_mode``: /setinline was done (getMe's
        supports_inline_queries); ``inline_timeout``: seconds an inline query may be answered."""
        if rate_limit is not None and rate_limit <= 0:
            raise ValueError("rate_limit must be positive or None")
        if per_chat_rate is not None and per_chat_rate <= 0:
            raise ValueError("per_chat_rate must be positive or None")
        self.token = token
        self.rate_limit = rate_limit
        self.burst = burst if burst is not None else max(1, int(rate_limit or 1))
        self.per_chat_rate = per_chat_rate
        self.per_chat_burst = (
            per_chat_burst if per_chat_burst is not None else max(1, int(per_chat_rate or 1))
        )
        self.latency = latency
        self.window_limit = window_limit
        self.chat_window = chat_window
        self.group_window = group_window
        self.paid_limit = paid_limit
        self.open_chats = open_chats
        self.host = host
        self.port = port
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 123456
        self.bot_user: JsonDict = bot_user_json(bot_id)
        self.bot_user["supports_inline_queries"] = inline_mode
        self.inline_timeout = inline_timeout

        # world state
        self._users: dict[int, JsonDict] = {}
        self._chats: dict[int, Chat] = {}
        self._next_message_id: defaultdict[int, int] = defaultdict(lambda: 1)
        self._messages: dict[tuple[int, int], SentMessage] = {}  # (chat_id, message_id)
        self._updates: deque[QueuedUpdate] = deque()
        self._next_update_id = 100_000_001
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._poll_waiter: asyncio.Future[str] | None = None
        self._pending_queries: set[str] = set()
        self._next_query_id = 4_242_000_000_000_000_001  # callback and inline queries
        self._inline_queries: dict[str, InlineQuery] = {}  # by id (tests.botapi.inline)
        self.commands: dict[str, list[JsonDict]] = {}
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._disconnects: defaultdict[str, int] = defaultdict(int)
        self._bucket: TokenBucket | None = None
        self._chat_buckets: dict[int, TokenBucket] = {}
        self.webhook: JsonDict | None = None  # setWebhook's url, secret_token, allowed_updates
        self.polled_elsewhere = False  # another process polls this token: getUpdates gets 409
        self._window: SlidingWindow | None = None
        self._paid_window = SlidingWindow(paid_limit, 1.0)
        self._chat_windows: dict[int, SlidingWindow] = {}
        # faults (tests.botapi.faults)
        self._outage_until = 0.0
        self._outage_mode = "error"
        self._outage_status = 500
        self._outage_updates = False
        self._slow: dict[str, tuple[float, int | None]] = {}  # method -> (delay, times left)
        self.token_revoked = False
        self._garbled: dict[str, int] = {}  # method -> answers to garble

        # observations
        self.calls: list[Call] = []
        self.errors: list[Call] = []
        self.count_429 = 0
        self.in_flight = 0  # message sends being handled right now
        self.in_flight_max = 0
        self.callback_answers: dict[str, JsonDict] = {}
        self._all: list[SentMessage] = []
        self._by_chat: defaultdict[int, list[SentMessage]] = defaultdict(list)
        self._returned: defaultdict[int, set[int]] = defaultdict(set)  # by wait_for_message
        self._returned_edits: dict[tuple[int, int], int] = {}  # by wait_for_edit
        self._chat_waiters: defaultdict[int, set[asyncio.Future[None]]] = defaultdict(set)
        self._stats = Stats()
        self._closing = False  # stop() wakes and ends long polls
        self._reset_buckets()

    def _reset_buckets(self) -> None:
        self._bucket = (
            TokenBucket(self.rate_limit, self.burst) if self.rate_limit is not None else None
        )
        self._chat_buckets = {}
        self._window = (
            SlidingWindow(self.window_limit, 1.0) if self.window_limit is not None else None
        )
        self._paid_window = SlidingWindow(self.paid_limit, 1.0)
        self._chat_windows = {}

    def _private_chat(self, user_id: int) -> Chat:
        chat = self._chats.get(user_id)
        if chat is None or chat.user is None:
            self.add_user(user_id)
            chat = self._chats[user_id]
        return chat

    def _new_message_id(self, chat_id: int) -> int:
        # Like Telegram, user and bot messages share one id sequence per chat.
        message_id = self._next_message_id[chat_id]
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _queue_update(self, kind: str, payload: JsonDict) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append(QueuedUpdate(update_id, kind, {"update_id": update_id, kind: payload}))
        self._wake_poller("update")
        return update_id

    def _queue_member_change(self, chat: Chat, old: str, new: str) -> None:
        def member(status: str) -> JsonDict:
            data: JsonDict = {"user": self.bot_user, "status": status}
            if status == "kicked":
                data["until_date"] = 0  # 0 = forever
            return data

        self._queue_update(
            "my_chat_member",
            {
                "chat": chat.as_json(),
                "from": chat.user,
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    def _wake_poller(self, reason: str) -> None:
        if self._poll_waiter is not None and not self._poll_waiter.done():
            self._poll_waiter.set_result(reason)

    def _writable_chat(self, raw_chat_id: object) -> Chat:
        """The chat a message may be sent to, or the error Telegram gives for it."""
        if raw_chat_id is None or raw_chat_id == "":
            raise bad_request("chat_id is empty")
        chat_id = chat_id_or_none(raw_chat_id)
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is None and self.open_chats and chat_id is not None and chat_id > 0:
            chat = self._private_chat(chat_id)
            chat.started = True
        if chat is None or (chat.user is not None and not chat.started):
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.user is None:  # a group or channel: may the bot post there?
            refusal = post_refusal(chat.type, chat.members.get(self.bot_user["id"]))
            if refusal is not None:
                raise refusal
        return chat

    def _existing_message(self, chat: Chat, params: JsonDict, not_found: str) -> SentMessage:
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        if not isinstance(message_id, int):
            raise bad_request("invalid message identifier specified")
        message = self._messages.get((chat.id, message_id))
        if message is None or message.deleted:
            raise bad_request(not_found)
        return message

    def _message_json(self, message: SentMessage, *, nested: bool = True) -> JsonDict:
        chat = self._chats[message.chat_id]
        data: JsonDict = {
            "message_id": message.message_id,
            "from": self.bot_user,
            "chat": chat.as_json(),
            "date": message.date,
            "text": message.plain_text,
        }
        if chat.type == "channel":  # a channel post is signed by the channel, not the bot
            del data["from"]
            data["sender_chat"] = chat.as_json()
        if message.thread_id is not None:
            data.update(message_thread_id=message.thread_id, is_topic_message=True)
        replied = self._messages.get((message.chat_id, message.reply_to or 0))
        if replied is not None and nested:
            data["reply_to_message"] = self._message_json(replied, nested=False)
        if message.entities:
            data["entities"] = message.entities
        markup = message.reply_markup
        if markup is not None and markup.get("inline_keyboard"):
            data["reply_markup"] = markup
        if message.edits:
            data["edit_date"] = int(time.time())
        return data

    def _store(self, message: SentMessage) -> None:
        self._messages[(message.chat_id, message.message_id)] = message
        self._all.append(message)
        self._by_chat[message.chat_id].append(message)
        self._notify_chat(message.chat_id)

    def _notify_chat(self, chat_id: int) -> None:
        for waiter in self._chat_waiters.get(chat_id, ()):
            if not waiter.done():
                waiter.set_result(None)

    def _mark_edited(self, message: SentMessage) -> None:
        message.edits += 1
        message.edited_at = time.monotonic()
        self._notify_chat(message.chat_id)
