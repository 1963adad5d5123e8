"""What the stand-in records and keeps: sent messages, calls, chats, counters."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import NamedTuple

from .rules import CREATING_METHODS, JsonDict


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
    thread_id: int | None = None  # the forum topic it was sent to
    reply_to: int | None = None  # the message it answers (reply_parameters)

    def buttons(self) -> list[JsonDict]:
        """All inline keyboard buttons, row by row."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard") or []
        return [button for row in rows for button in row]

    def callback_data(self) -> list[str]:
        return [b["callback_data"] for b in self.buttons() if "callback_data" in b]


@dataclass(slots=True, eq=False)
class InlineQuery:
    """An inline query a simulated user typed (``@bot words``), and the bot's answer."""

    id: str
    user_id: int
    query: str
    offset: str
    chat_type: str
    sent_at: float  # time.monotonic() when queued
    answer: InlineAnswer | None = None


@dataclass(slots=True, eq=False)
class InlineAnswer:
    """What answerInlineQuery accepted: the results as sent, and the paging and caching."""

    query_id: str
    results: list[JsonDict]
    next_offset: str
    cache_time: int | None
    is_personal: bool
    button: JsonDict | None
    answered_at: float  # time.monotonic()

    def ids(self) -> list[str]:
        return [str(result["id"]) for result in self.results]

    def titles(self) -> list[str]:
        return [str(result.get("title", "")) for result in self.results]


@dataclass(slots=True)
class Call:
    """One HTTP request to the bot endpoint. ``status`` 0 = connection dropped on purpose."""

    method: str
    params: JsonDict
    status: int
    time: float  # time.monotonic() when the request arrived
    description: str | None = None
    limit: str | None = None  # a 429 from strict mode: which window refused ("global", "chat"...)


class WaitTimeout(AssertionError, TimeoutError):
    """``wait_for_*`` gave up; both an assertion failure and a timeout, so either catch works."""


@dataclass(slots=True)
class Chat:
    id: int
    type: str  # "private" | "group" | "supergroup" | "channel"
    title: str | None = None
    user: JsonDict | None = None  # the other side of a private chat
    started: bool = False  # private chat: the user wrote to the bot
    blocked: bool = False
    migrated_to: int | None = None
    username: str | None = None  # a public group or channel: "@username" names it
    is_forum: bool = False  # a supergroup with topics
    topics: dict[int, str] = field(default_factory=dict)  # forum topics: thread id -> name
    # Groups and channels: user id -> ChatMember JSON (tests.botapi.members); the bot's own
    # entry too. No entry: a group's ordinary member; not in a channel.
    members: dict[int, JsonDict] = field(default_factory=dict)

    def as_json(self) -> JsonDict:
        if self.user is not None:
            chat = {"id": self.id, "type": "private", "first_name": self.user["first_name"]}
            if self.user.get("username"):
                chat["username"] = self.user["username"]
            return chat
        data: JsonDict = {"id": self.id, "type": self.type, "title": self.title}
        if self.username:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass(slots=True)
class Failure:
    status: int
    description: str
    parameters: JsonDict | None
    times: int


class QueuedUpdate(NamedTuple):
    update_id: int
    kind: str
    payload: JsonDict


class TokenBucket:
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


class SlidingWindow:
    """Strict flood control: at most ``limit`` accepted sends in any ``seconds``-long window."""

    __slots__ = ("limit", "seconds", "times")

    def __init__(self, limit: int, seconds: float) -> None:
        if limit < 1 or seconds <= 0:
            raise ValueError("a window needs a positive limit and length")
        self.limit = limit
        self.seconds = seconds
        self.times: deque[float] = deque()

    def wait_time(self, now: float) -> float:
        """Seconds until one more send fits (0: it fits now)."""
        times = self.times
        while times and times[0] <= now - self.seconds:
            times.popleft()
        return 0.0 if len(times) < self.limit else times[0] + self.seconds - now

    def take(self, now: float) -> None:
        self.times.append(now)


def parse_window(text: str) -> tuple[int, float]:
    """``"20/60"`` → (20, 60.0): at most 20 sends in any 60 seconds."""
    limit, _, seconds = text.partition("/")
    return int(limit), float(seconds or 1.0)


class Stats:
    """Counters for ``GET /_stats``; O(1) per accepted message."""

    def __init__(self) -> None:
        self.accepted = 0
        self.per_chat: defaultdict[int, int] = defaultdict(int)
        self.times: list[float] = []
        self.seen: defaultdict[tuple[int, str], int] = defaultdict(int)
        self.duplicates = 0
        self.paid = 0  # accepted with allow_paid_broadcast

    def record(self, method: str, chat_id: int, text: str, now: float, paid: bool = False) -> None:
        self.accepted += 1
        self.paid += paid
        self.per_chat[chat_id] += 1
        self.times.append(now)
        if method in CREATING_METHODS:
            key = (chat_id, text)
            self.seen[key] += 1
            if self.seen[key] == 2:  # count each repeated pair once
                self.duplicates += 1


def max_in_window(times: list[float], seconds: float = 1.0) -> int:
    """The most sends that fell in any ``seconds``-long window (``times`` sorted)."""
    best, start = 0, 0
    for end, moment in enumerate(times):
        while times[start] <= moment - seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


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
