"""An in-process stand-in for the Telegram Bot API, built on aiohttp.

It answers ``/bot{token}/{method}`` the way api.telegram.org does for the methods
python-telegram-bot v22 uses, enforces Telegram's rules with Telegram's error wording, and records
everything so tests can assert on what the bot *actually* sent. Tests drive the "users" through
methods like :meth:`FakeBotApi.send_text` and :meth:`FakeBotApi.press_button`.

Everything runs on one event loop and request handlers never await between reading and updating
state (except for the simulated latency, which happens first), so no locking is needed.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import socket
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Self

from aiohttp import web

from tests.botapi.html import HtmlParseError, parse_html_entities, utf16_len

__all__ = ["ApiError", "Call", "FakeBotApi", "SentMessage", "WaitTimeout"]

JsonDict = dict[str, Any]
Predicate = Callable[["SentMessage"], bool]

MAX_TEXT_LENGTH = 4096  # UTF-16 code units after entity parsing
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_BUTTONS = 100
MAX_CALLBACK_DATA_BYTES = 64
MAX_COMMANDS = 100
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)

# Methods that put a message into a chat; they share the flood-control buckets.
RATE_LIMITED_METHODS = frozenset(
    {"sendMessage", "editMessageText", "editMessageReplyMarkup", "copyMessage", "forwardMessage"}
)
# Methods that create a *new* message (for the duplicate statistic).
CREATING_METHODS = frozenset({"sendMessage", "copyMessage", "forwardMessage"})

ALL_UPDATE_TYPES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post",
        "business_connection", "business_message", "edited_business_message",
        "deleted_business_messages", "message_reaction", "message_reaction_count",
        "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
        "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer", "my_chat_member",
        "chat_member", "chat_join_request", "chat_boost", "removed_chat_boost",
    }
)  # fmt: skip
# What Telegram delivers when allowed_updates was never set (or set to []).
DEFAULT_UPDATE_TYPES = ALL_UPDATE_TYPES - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
# Inline keyboard button fields of which exactly one must be present.
BUTTON_ACTIONS = (
    "callback_data", "url", "switch_inline_query", "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat", "login_url", "web_app", "callback_game", "pay",
    "copy_text",
)  # fmt: skip
# Parameters that are strings on the wire; everything else in a form body is JSON-encoded.
STRING_PARAMS = frozenset(
    {
        "text", "parse_mode", "callback_query_id", "url", "action", "language_code",
        "inline_message_id", "business_connection_id", "message_effect_id", "description",
        "short_description", "name", "secret_token", "caption", "ip_address", "emoji",
    }
)  # fmt: skip
COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_BOT_COMMAND_PREFIX = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?=\s|$)")
URL_SCHEMES = ("http://", "https://", "tg://")


# ---------------------------------------------------------------------------------------------
# Records exposed to tests
# ---------------------------------------------------------------------------------------------
@dataclass(slots=True, eq=False)
class SentMessage:
    """A message the bot sent. Mutated in place when the bot edits or deletes it."""

    message_id: int
    chat_id: int
    text: str  # exactly as sent (raw HTML when parse_mode="HTML")
    plain_text: str  # what the user sees after entity parsing
    parse_mode: str | None
    reply_markup: JsonDict | None
    date: int
    edits: int = 0
    sent_at: float = 0.0  # time.monotonic() when accepted
    entities: list[JsonDict] = field(default_factory=list)
    deleted: bool = False
    edited_at: float | None = None  # time.monotonic() of the latest edit

    def buttons(self) -> list[JsonDict]:
        """All inline keyboard buttons, row by row."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard") or []
        return [button for row in rows for button in row]

    def callback_data(self) -> list[str]:
        return [b["callback_data"] for b in self.buttons() if "callback_data" in b]


@dataclass(slots=True)
class Call:
    """One HTTP request to the bot endpoint. ``status`` 0 = connection dropped on purpose."""

    method: str
    params: JsonDict
    status: int
    time: float  # time.monotonic() when the request arrived
    description: str | None = None


class WaitTimeout(AssertionError, TimeoutError):
    """``wait_for_*`` gave up; both an assertion failure and a timeout, so either catch works."""


class ApiError(Exception):
    """A Bot API error answer: ``{"ok": false, "error_code": status, ...}``."""

    def __init__(self, status: int, description: str, parameters: JsonDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def bad_request(reason: str, parameters: JsonDict | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}", parameters)


# ---------------------------------------------------------------------------------------------
# Internal state
# ---------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Chat:
    id: int
    type: str  # "private" | "group" | "supergroup"
    title: str | None = None
    user: JsonDict | None = None  # the other side of a private chat
    started: bool = False  # private chat: the user wrote to the bot
    blocked: bool = False
    migrated_to: int | None = None

    def as_json(self) -> JsonDict:
        if self.user is not None:
            chat = {"id": self.id, "type": "private", "first_name": self.user["first_name"]}
            if self.user.get("username"):
                chat["username"] = self.user["username"]
            return chat
        return {"id": self.id, "type": self.type, "title": self.title}


@dataclass(slots=True)
class _Failure:
    status: int
    description: str
    parameters: JsonDict | None
    times: int


class _Update(NamedTuple):
    update_id: int
    kind: str
    payload: JsonDict


class _TokenBucket:
    """Classic token bucket: ``capacity`` tokens, refilled at ``rate`` per second."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: int) -> None:
        self.rate = rate
        self.capacity = float(capacity)
        self.tokens = float(capacity)
        self.stamp = time.monotonic()

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 if one is available now)."""
        if now > self.stamp:  # callers may pass a "now" taken just before construction
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1.0


class _Stats:
    """Counters for ``GET /_stats``; O(1) per accepted message."""

    def __init__(self) -> None:
        self.accepted = 0
        self.per_chat: defaultdict[int, int] = defaultdict(int)
        self.times: list[float] = []
        self.seen: defaultdict[tuple[int, str], int] = defaultdict(int)
        self.duplicates = 0

    def record(self, method: str, chat_id: int, text: str, now: float) -> None:
        self.accepted += 1
        self.per_chat[chat_id] += 1
        self.times.append(now)
        if method in CREATING_METHODS:
            key = (chat_id, text)
            self.seen[key] += 1
            if self.seen[key] == 2:  # count each repeated pair once
                self.duplicates += 1


Handler = Callable[[JsonDict], Any]


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------
DEFAULT_TOKEN = "123456:TEST-token"


def bot_user_json(bot_id: int = 123456) -> JsonDict:
    """The bot as getMe describes it (shared with the offline request of the unit tests)."""
    return {
        "id": bot_id,
        "is_bot": True,
        "first_name": "Newsdigest",
        "username": "newsdigest_bot",
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }  # a token shape PTB accepts; the stand-in checks it


class FakeBotApi:
    """A local Telegram Bot API. Use ``async with FakeBotApi() as api:``.

    Point the bot at it with ``Bot(token=api.token, base_url=api.base_url + "/bot")``.
    """

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
    ) -> None:
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
        self.open_chats = open_chats
        self.host = host
        self.port = port
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 123456
        self.bot_user: JsonDict = bot_user_json(bot_id)

        # world state
        self._users: dict[int, JsonDict] = {}
        self._chats: dict[int, _Chat] = {}
        self._next_message_id: defaultdict[int, int] = defaultdict(lambda: 1)
        self._messages: dict[tuple[int, int], SentMessage] = {}  # (chat_id, message_id)
        self._updates: deque[_Update] = deque()
        self._next_update_id = 100_000_001
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._poll_waiter: asyncio.Future[str] | None = None
        self._pending_queries: set[str] = set()
        self._next_query_id = 4_242_000_000_000_000_001
        self.commands: dict[str, list[JsonDict]] = {}
        self._failures: dict[str, deque[_Failure]] = defaultdict(deque)
        self._disconnects: defaultdict[str, int] = defaultdict(int)
        self._bucket: _TokenBucket | None = None
        self._chat_buckets: dict[int, _TokenBucket] = {}

        # observations
        self.calls: list[Call] = []
        self.errors: list[Call] = []
        self.count_429 = 0
        self.callback_answers: dict[str, JsonDict] = {}
        self._all: list[SentMessage] = []
        self._by_chat: defaultdict[int, list[SentMessage]] = defaultdict(list)
        self._returned: defaultdict[int, set[int]] = defaultdict(set)  # by wait_for_message
        self._returned_edits: dict[tuple[int, int], int] = {}  # by wait_for_edit
        self._chat_waiters: defaultdict[int, set[asyncio.Future[None]]] = defaultdict(set)
        self._stats = _Stats()
        self._reset_buckets()

        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "copyMessage": self._copy_message,
                "forwardMessage": self._forward_message,
                "answerCallbackQuery": self._answer_callback_query,
                "sendChatAction": self._send_chat_action,
                "getChat": self._get_chat,
                "close": self._true,
                "logOut": self._true,
            }.items()
        }
        self._runner: web.AppRunner | None = None
        self._closing = False

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """Root URL; the bot calls ``{base_url}/bot{token}/{method}``."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_bot_request)
        app.router.add_get("/_stats", self._handle_stats)
        app.router.add_post("/_control/{action}", self._handle_control)
        # Anything else is answered like Telegram answers a bogus path.
        app.router.add_route("*", "/{tail:.*}", self._handle_not_found)
        # No access log: at 1000+ requests/s it would dominate the profile.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        site = web.SockSite(runner, sock)
        await site.start()
        self._runner = runner
        self._closing = False

    async def stop(self) -> None:
        self._closing = True
        # A pending long poll would otherwise hold up shutdown for its whole timeout.
        self._wake_poller("closing")
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- driving the simulated users ---------------------------------------------------------
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
            self._chats[user_id] = _Chat(id=user_id, type="private", user=user)
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
        command = _BOT_COMMAND_PREFIX.match(text)
        if command is not None:
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}
            ]
        return self._queue_update("message", message)

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
        self._chats[chat_id] = _Chat(id=chat_id, type=kind, title=title)

    def migrate_group(self, old_chat_id: int, new_chat_id: int) -> None:
        """Upgrade a group to a supergroup; sends to the old id now get ChatMigrated."""
        old = self._chats.get(old_chat_id)
        if old is None or old.user is not None:
            raise ValueError(f"{old_chat_id} is not a known group")
        old.migrated_to = new_chat_id
        new = _Chat(id=new_chat_id, type="supergroup", title=old.title)
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

    # -- failure injection -------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str,
        parameters: JsonDict | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with this error instead."""
        self._failures[self._canonical(method)].append(
            _Failure(status, description, parameters, times)
        )

    def disconnect_next(self, method: str, times: int = 1) -> None:
        """Drop the connection without answering the next ``times`` calls of ``method``."""
        self._disconnects[self._canonical(method)] += times

    # -- observation -------------------------------------------------------------------------
    def messages(self, chat_id: int) -> list[SentMessage]:
        """Bot messages in ``chat_id`` in send order (deleted ones included, flagged)."""
        return list(self._by_chat.get(chat_id, ()))

    def all_messages(self) -> list[SentMessage]:
        return list(self._all)

    def pending_updates(self) -> list[JsonDict]:
        """Updates queued and not yet confirmed by a getUpdates offset."""
        return [update.payload for update in self._updates]

    def clear_updates(self) -> None:
        """Drop all pending updates, as if the bot had confirmed them."""
        self._updates.clear()

    def unanswered_callback_queries(self) -> list[str]:
        return sorted(self._pending_queries)

    def stats(self) -> JsonDict:
        """The numbers ``GET /_stats`` serves."""
        stats = self._stats
        first = stats.times[0] if stats.times else 0.0
        return {
            "accepted": stats.accepted,
            "count_429": self.count_429,
            "per_chat": {str(chat): n for chat, n in stats.per_chat.items()},
            "duplicates": stats.duplicates,
            "accepted_times": [t - first for t in stats.times],
            "calls": len(self.calls),
            "errors": len(self.errors),
        }

    def reset_observations(self) -> None:
        """Forget calls, errors, counters and the message lists; chats and messages stay
        (old messages can still be edited), rate buckets are refilled."""
        self.calls = []
        self.errors = []
        self.count_429 = 0
        self.callback_answers = {}
        self._all = []
        self._by_chat.clear()
        self._returned.clear()
        self._returned_edits.clear()
        self._stats = _Stats()
        self._reset_buckets()

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Predicate | None = None,
        timeout: float = 5.0,
    ) -> SentMessage:
        """The first bot message in ``chat_id`` not yet returned by an earlier
        ``wait_for_message`` for that chat that matches ``predicate`` (already there or
        arriving within ``timeout``)."""

        def find() -> SentMessage | None:
            returned = self._returned[chat_id]
            for message in self._by_chat.get(chat_id, ()):
                if message.message_id not in returned and (predicate is None or predicate(message)):
                    returned.add(message.message_id)
                    return message
            return None

        found = await self._wait(chat_id, find, timeout)
        if found is not None:
            return found
        raise WaitTimeout(
            f"no new bot message in chat {chat_id} matching the predicate within {timeout}s; "
            f"{self._describe_chat(chat_id)}"
        )

    async def wait_for_edit(
        self,
        chat_id: int,
        message_id: int,
        predicate: Predicate | None = None,
        timeout: float = 5.0,
    ) -> SentMessage:
        """Wait until message ``message_id`` has an edit not yet returned by an earlier
        ``wait_for_edit`` and its current state matches ``predicate``."""
        key = (chat_id, message_id)

        def find() -> SentMessage | None:
            message = self._messages.get(key)
            if message is None or message.edits <= self._returned_edits.get(key, 0):
                return None
            if predicate is not None and not predicate(message):
                return None
            self._returned_edits[key] = message.edits
            return message

        found = await self._wait(chat_id, find, timeout)
        if found is not None:
            return found
        current = self._messages.get(key)
        state = (
            "it does not exist"
            if current is None
            else f"it has {current.edits} edit(s), text now {current.plain_text!r}"
        )
        raise WaitTimeout(
            f"no new edit of message {message_id} in chat {chat_id} matching the predicate "
            f"within {timeout}s; {state}"
        )

    async def _wait(
        self,
        chat_id: int,
        find: Callable[[], SentMessage | None],
        timeout: float,
    ) -> SentMessage | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = find()
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            waiter: asyncio.Future[None] = loop.create_future()
            self._chat_waiters[chat_id].add(waiter)
            try:
                await asyncio.wait({waiter}, timeout=remaining)
            finally:
                self._chat_waiters[chat_id].discard(waiter)

    def _describe_chat(self, chat_id: int) -> str:
        messages = self._by_chat.get(chat_id, [])
        if not messages:
            return "the bot sent nothing to this chat"
        returned = self._returned.get(chat_id, set())
        lines = [
            f"#{m.message_id}{' (already returned)' if m.message_id in returned else ''}"
            f"{' (deleted)' if m.deleted else ''}: {m.plain_text[:120]!r}"
            for m in messages
        ]
        return "messages in this chat:\n  " + "\n  ".join(lines)

    def _notify_chat(self, chat_id: int) -> None:
        for waiter in self._chat_waiters.get(chat_id, ()):
            if not waiter.done():
                waiter.set_result(None)

    # -- HTTP layer --------------------------------------------------------------------------
    async def _handle_bot_request(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        try:
            params = await _read_params(request)
        except ApiError as exc:
            return self._record_error(request.match_info["method"], {}, arrived, exc)
        if request.match_info["token"] != self.token:
            return self._record_error(
                request.match_info["method"], params, arrived, ApiError(401, "Unauthorized")
            )
        entry = self._methods.get(request.match_info["method"].lower())
        if entry is None:
            return self._record_error(
                request.match_info["method"], params, arrived, ApiError(404, "Not Found")
            )
        method, handler = entry

        if self._disconnects.get(method):
            self._disconnects[method] -= 1
            call = Call(method, params, 0, arrived, "connection dropped")
            self.calls.append(call)
            self.errors.append(call)
            # Closing the transport makes the client see a dropped connection; aiohttp
            # then skips writing the response we return.
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)

        if self.latency and method != "getUpdates":
            await asyncio.sleep(self.latency)

        failure = self._take_failure(method)
        if failure is not None:
            return self._record_error(method, params, arrived, failure)

        try:
            if method in RATE_LIMITED_METHODS:
                result = self._rate_limited(method, handler, params)
            elif method == "getUpdates":
                result = await self._get_updates(params)
            else:
                result = handler(params)
        except ApiError as exc:
            return self._record_error(method, params, arrived, exc)
        except Exception as exc:  # a bug here or a request shape we do not model
            # Answer like a Bot API outage, but keep the cause visible in api.errors.
            error = ApiError(500, f"Internal Server Error: fake Bot API failed: {exc!r}")
            return self._record_error(method, params, arrived, error)
        self.calls.append(Call(method, params, 200, arrived))
        return _json_response({"ok": True, "result": result}, 200)

    def _record_error(
        self, method: str, params: JsonDict, arrived: float, error: ApiError
    ) -> web.Response:
        call = Call(method, params, error.status, arrived, error.description)
        self.calls.append(call)
        self.errors.append(call)
        if error.status == 429:
            self.count_429 += 1
        body: JsonDict = {
            "ok": False,
            "error_code": error.status,
            "description": error.description,
        }
        if error.parameters:
            body["parameters"] = error.parameters
        return _json_response(body, error.status)

    def _take_failure(self, method: str) -> ApiError | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.popleft()
        return ApiError(failure.status, failure.description, failure.parameters)

    def _rate_limited(self, method: str, handler: Handler, params: JsonDict) -> Any:
        """Flood control: check the buckets, run the method, take a token only if accepted."""
        now = time.monotonic()
        chat_id = _chat_id_or_none(params.get("chat_id"))
        chat_bucket = None
        wait = 0.0
        if self._bucket is not None:
            wait = self._bucket.wait_time(now)
        if self.per_chat_rate is not None and chat_id is not None:
            chat_bucket = self._chat_buckets.get(chat_id)
            if chat_bucket is None:
                chat_bucket = _TokenBucket(self.per_chat_rate, self.per_chat_burst)
                self._chat_buckets[chat_id] = chat_bucket
            wait = max(wait, chat_bucket.wait_time(now))
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        result = handler(params)
        if self._bucket is not None:
            self._bucket.take()
        if chat_bucket is not None:
            chat_bucket.take()
        if isinstance(result, dict) and chat_id is not None:
            # Every rate-limited method answers with (at least) the target message's id.
            stored = self._messages.get((chat_id, result["message_id"]))
            self._stats.record(method, chat_id, stored.text if stored else "", now)
        return result

    async def _handle_stats(self, request: web.Request) -> web.Response:
        return _json_response(self.stats(), 200)

    async def _handle_control(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        try:
            body = await request.json() if request.can_read_body else {}
            return await self._control(action, body)
        except (ValueError, KeyError, TypeError) as exc:
            body = {"ok": False, "description": f"bad control request: {exc!r}"}
            return _json_response(body, 400)

    async def _control(self, action: str, body: JsonDict) -> web.Response:
        if action == "reset":
            self.reset_observations()
            return _json_response({"ok": True}, 200)
        if action == "send_text":
            update_id = await self.send_text(int(body["user_id"]), str(body["text"]))
            return _json_response({"ok": True, "update_id": update_id}, 200)
        if action == "block":
            self.block(int(body["user_id"]))
            return _json_response({"ok": True}, 200)
        if action == "unblock":
            self.unblock(int(body["user_id"]))
            return _json_response({"ok": True}, 200)
        return _json_response({"ok": False, "description": f"unknown action {action}"}, 404)

    async def _handle_not_found(self, request: web.Request) -> web.Response:
        return _json_response({"ok": False, "error_code": 404, "description": "Not Found"}, 404)

    # -- helpers for state -------------------------------------------------------------------
    def _canonical(self, method: str) -> str:
        entry = self._methods.get(method.lower())
        if entry is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        return entry[0]

    def _reset_buckets(self) -> None:
        self._bucket = (
            _TokenBucket(self.rate_limit, self.burst) if self.rate_limit is not None else None
        )
        self._chat_buckets = {}

    def _private_chat(self, user_id: int) -> _Chat:
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
        self._updates.append(_Update(update_id, kind, {"update_id": update_id, kind: payload}))
        self._wake_poller("update")
        return update_id

    def _queue_member_change(self, chat: _Chat, old: str, new: str) -> None:
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

    def _writable_chat(self, raw_chat_id: object) -> _Chat:
        """The chat a message may be sent to, or the error Telegram gives for it."""
        if raw_chat_id is None or raw_chat_id == "":
            raise bad_request("chat_id is empty")
        chat_id = _chat_id_or_none(raw_chat_id)
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
        return chat

    def _existing_message(self, chat: _Chat, params: JsonDict, not_found: str) -> SentMessage:
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        if not isinstance(message_id, int):
            raise bad_request("invalid message identifier specified")
        message = self._messages.get((chat.id, message_id))
        if message is None or message.deleted:
            raise bad_request(not_found)
        return message

    def _message_json(self, message: SentMessage) -> JsonDict:
        data: JsonDict = {
            "message_id": message.message_id,
            "from": self.bot_user,
            "chat": self._chats[message.chat_id].as_json(),
            "date": message.date,
            "text": message.plain_text,
        }
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

    # -- Bot API methods ---------------------------------------------------------------------
    def _true(self, params: JsonDict) -> bool:
        return True

    def _get_me(self, params: JsonDict) -> JsonDict:
        return self.bot_user

    def _delete_webhook(self, params: JsonDict) -> bool:
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: JsonDict) -> JsonDict:
        pending = len(self._updates)
        return {"url": "", "has_custom_certificate": False, "pending_update_count": pending}

    async def _get_updates(self, params: JsonDict) -> list[JsonDict]:
        offset = _int_param(params, "offset", 0)
        limit = min(100, max(1, _int_param(params, "limit", 100)))
        timeout = params.get("timeout") or 0
        if not isinstance(timeout, int | float):
            raise bad_request("invalid timeout specified")
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
        key = _commands_key(params)
        if cleaned:
            self.commands[key] = cleaned
        else:
            self.commands.pop(key, None)
        return True

    def _get_my_commands(self, params: JsonDict) -> list[JsonDict]:
        return self.commands.get(_commands_key(params), [])

    def _delete_my_commands(self, params: JsonDict) -> bool:
        self.commands.pop(_commands_key(params), None)
        return True

    def _send_message(self, params: JsonDict) -> JsonDict:
        chat = self._writable_chat(params.get("chat_id"))
        text, plain, entities, parse_mode = _message_text(params)
        markup = _validate_reply_markup(params.get("reply_markup"), inline_only=False)
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
        )
        self._store(message)
        return self._message_json(message)

    def _edit_message_text(self, params: JsonDict) -> JsonDict:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the fake Bot API")
        chat = self._writable_chat(params.get("chat_id"))
        message = self._existing_message(chat, params, "message to edit not found")
        text, plain, entities, parse_mode = _message_text(params)
        # Telegram drops the keyboard when an edit does not repeat it.
        markup = _validate_reply_markup(params.get("reply_markup"), inline_only=True)
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
        markup = _validate_reply_markup(params.get("reply_markup"), inline_only=True)
        if markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        message.reply_markup = markup
        self._mark_edited(message)
        return self._message_json(message)

    def _mark_edited(self, message: SentMessage) -> None:
        message.edits += 1
        message.edited_at = time.monotonic()
        self._notify_chat(message.chat_id)

    def _delete_message(self, params: JsonDict) -> bool:
        chat = self._writable_chat(params.get("chat_id"))
        message = self._existing_message(chat, params, "message to delete not found")
        message.deleted = True
        self._notify_chat(chat.id)
        return True

    def _copy_like(self, params: JsonDict) -> SentMessage:
        """Shared part of copyMessage/forwardMessage; only bot messages can be the source."""
        target = self._writable_chat(params.get("chat_id"))
        source_chat_id = _chat_id_or_none(params.get("from_chat_id"))
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
        chat_id = _chat_id_or_none(params.get("chat_id"))
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is None and self.open_chats and chat_id is not None and chat_id > 0:
            chat = self._private_chat(chat_id)
        if chat is None:
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


# ---------------------------------------------------------------------------------------------
# Request decoding and validation (pure functions)
# ---------------------------------------------------------------------------------------------
async def _read_params(request: web.Request) -> JsonDict:
    """Merge query string and body the way the Bot API does.

    Form bodies carry every non-string value JSON-encoded (that is what PTB's HTTPXRequest
    sends), so those are decoded here; JSON bodies already have types.
    """
    params: JsonDict = dict(request.query)
    content_type = request.content_type
    if request.can_read_body:
        if content_type == "application/json":
            raw = await request.read()
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError as exc:
                    raise bad_request("can't parse JSON encoded request") from exc
                if not isinstance(body, dict):
                    raise bad_request("JSON request body must be an object")
                params.update(body)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                params[key] = value if isinstance(value, str) else f"<file {key}>"
    for key, value in params.items():
        if isinstance(value, str) and key not in STRING_PARAMS:
            params[key] = _maybe_json(value)
    return params


def _maybe_json(value: str) -> Any:
    if not value or value[0] not in '{["-0123456789tfn':
        return value  # "@channel" and friends stay strings without a failing parse
    try:
        return json.loads(value)
    except ValueError:
        return value


def _json_response(body: object, status: int) -> web.Response:
    return web.Response(
        body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        status=status,
        content_type="application/json",
    )


def _int_param(params: JsonDict, name: str, default: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"invalid {name} specified")
    return value


def _chat_id_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None  # "@username" chats are not modelled
    return None


def _commands_key(params: JsonDict) -> str:
    """Storage key for a command list: scope (plus ``|language_code`` when given)."""
    scope = params.get("scope")
    if scope is None:
        key = "default"
    elif not isinstance(scope, dict):
        raise bad_request("can't parse BotCommandScope JSON object")
    else:
        kind = scope.get("type")
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            key = str(kind)
        elif kind in ("chat", "chat_administrators"):
            key = f"{kind}:{scope.get('chat_id')}"
        elif kind == "chat_member":
            key = f"chat_member:{scope.get('chat_id')}:{scope.get('user_id')}"
        else:
            raise bad_request("wrong BotCommandScope type specified")
    language = params.get("language_code")
    return f"{key}|{language}" if language else key


def _message_text(params: JsonDict) -> tuple[str, str, list[JsonDict], str | None]:
    """Validate text + parse_mode; returns (raw text, plain text, entities, parse_mode)."""
    text = params.get("text")
    if text is None or text == "":
        raise bad_request("message text is empty")
    if not isinstance(text, str):
        text = str(text)  # a JSON body may carry a number
    parse_mode = params.get("parse_mode") or None
    mode = parse_mode.lower() if isinstance(parse_mode, str) else None
    entities: list[JsonDict]
    if mode is None:
        plain = text
        given = params.get("entities")
        entities = list(given) if isinstance(given, list) else []
    elif mode == "html":
        try:
            parsed = parse_html_entities(text)
        except HtmlParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from exc
        plain, entities = parsed.text, parsed.entities
    elif mode in ("markdown", "markdownv2"):
        raise bad_request(f"parse_mode {parse_mode} is not supported by the fake Bot API; use HTML")
    else:
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    if not plain.strip():
        raise bad_request("message text is empty")
    if utf16_len(plain) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return text, plain, entities, parse_mode


def _validate_reply_markup(markup: object, *, inline_only: bool) -> JsonDict | None:
    """Check a reply_markup like Telegram does; returns it (None if absent or empty)."""
    if markup is None or markup == "":
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        buttons = [button for row in rows for button in row]
        if len(buttons) > MAX_BUTTONS:
            raise bad_request("reply markup is too long")
        for button in buttons:
            _validate_inline_button(button)
        return markup if buttons else None
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays'
            )
        for button in _flatten(rows):
            label = button.get("text") if isinstance(button, dict) else button
            if not isinstance(label, str) or not label:
                raise bad_request("keyboard button text is empty")
        return markup
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def _validate_inline_button(button: object) -> None:
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    text = button.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [name for name in BUTTON_ACTIONS if name in button]
    if not actions:
        raise bad_request("text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request(
            "can't parse inline keyboard button: exactly one of the optional fields must be used"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        size = len(data.encode("utf-8")) if isinstance(data, str) else 0
        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not _is_button_url(url):
            raise bad_request("BUTTON_URL_INVALID")


def _is_button_url(url: object) -> bool:
    if not isinstance(url, str):
        return False
    lowered = url.lower()
    return any(lowered.startswith(s) and len(lowered) > len(s) for s in URL_SCHEMES)


def _flatten(rows: Iterable[list[Any]]) -> list[Any]:
    return [item for row in rows for item in row]
