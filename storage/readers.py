"""Readers: every subscribed chat (private, group, channel) as one :class:`Reader` value,
read with its topics, keywords and muted sources.

What changes a reader lives by job: ``storage.subscriptions`` (subscribing, stopping,
blocked or paused, supergroup moves), ``storage.reader_settings`` (times, zone, pause,
quiet hours, shape), ``storage.controls`` (keywords, muted sources), ``storage.topics``;
questions about many readers at once in ``storage.reader_lists``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from digest.keywords import KeywordFilter
from digest.render import LinkPreviews
from digest.schedule import Cadence, Days, next_digest
from digest.zones import canonical_zones
from storage.controls import keyword_filters, muted_keys
from storage.db import from_db_time

_LOGGER = logging.getLogger(__name__)
UTC_ZONE = ZoneInfo("UTC")
E = TypeVar("E", bound=StrEnum)


class ReaderStatus(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"  # /stop: settings kept for a later /start
    # The reader blocked the bot (or the chat is gone); a group or channel: the bot was
    # removed or may not post there, "paused" with the reason in paused_reason.
    BLOCKED = "blocked"


class ChatKind(StrEnum):
    """Which kind of chat a subscription is: Telegram's chat type."""

    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"


GROUP_KINDS = frozenset({ChatKind.GROUP, ChatKind.SUPERGROUP})


CATCH_UP_LIMIT = timedelta(days=7)  # after long downtime, one digest of at most a week
FIRST_DIGEST_WINDOW = timedelta(days=1)


class ReaderNotFound(LookupError):
    pass


class QuietMode(StrEnum):
    SILENT = "silent"  # pushes in the window arrive without sound
    HOLD = "hold"  # pushes in the window wait until it ends


class DigestOrder(StrEnum):
    RANKED = "ranked"
    NEWEST = "newest"  # the same stories, the most recently published first


DIGEST_SIZES = (5, 10, 20)
DEFAULT_SIZE = 10


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: time
    end: time
    mode: QuietMode = QuietMode.SILENT


@dataclass(frozen=True, slots=True)
class DigestShape:
    size: int = DEFAULT_SIZE
    previews: LinkPreviews = LinkPreviews.OFF
    order: DigestOrder = DigestOrder.RANKED


@dataclass(frozen=True, slots=True)
class Reader:
    chat_id: int
    status: ReaderStatus
    digest_time: time  # local wall-clock time of the daily digest
    zone: ZoneInfo  # the zone digest_time is in
    topic_ids: frozenset[int]
    next_digest_at: datetime | None
    last_digest_at: datetime | None
    digest_since: datetime | None
    user_id: int | None = None
    first_name: str = ""
    kind: ChatKind = ChatKind.PRIVATE
    title: str = ""  # a group's or channel's title ("" for a private chat)
    thread_id: int | None = None  # the forum topic digests go to (None: the chat itself)
    paused_reason: str | None = None  # why a blocked group or channel was paused
    cadence: Cadence | None = None  # None: daily at digest_time
    paused_until: datetime | None = None
    quiet: QuietHours | None = None
    shape: DigestShape = field(default_factory=DigestShape)
    keywords: KeywordFilter = field(default_factory=KeywordFilter)
    muted: frozenset[str] = frozenset()  # provider keys (digest.assemble.provider_key)
    language: str | None = None  # the bot's language here (None: not chosen, English)

    @property
    def is_channel(self) -> bool:
        return self.kind == ChatKind.CHANNEL

    @property
    def is_group(self) -> bool:
        return self.kind in GROUP_KINDS

    @property
    def schedule(self) -> Cadence:
        return self.cadence if self.cadence is not None else Cadence((self.digest_time,))

    def window_start(self, now: datetime) -> datetime:
        """Articles ingested after this are new to the reader."""
        if self.digest_since is None:
            return now - FIRST_DIGEST_WINDOW
        return max(self.digest_since, now - CATCH_UP_LIMIT)

    def is_paused(self, now: datetime) -> bool:
        return self.paused_until is not None and self.paused_until > now

    def next_digest_after(self, moment: datetime) -> datetime:
        start = self.paused_until if self.is_paused(moment) and self.paused_until else moment
        return next_digest(self.schedule, self.zone, start)


# The digest time is stored as "HH:MM" and the zone by its IANA key: both converted here only.
@functools.cache
def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def hhmm(at: time) -> str:
    return f"{at:%H:%M}"


def _opt_time(text: str | None) -> datetime | None:
    return from_db_time(text) if text else None


_COLUMN_NAMES = (
    "chat_id",
    "status",
    "digest_time",
    "timezone",
    "next_digest_at",
    "last_digest_at",
    "digest_since",
    "user_id",
    "first_name",
    "chat_kind",
    "title",
    "thread_id",
    "paused_reason",
    "digest_times",
    "digest_days",
    "paused_until",
    "quiet_start",
    "quiet_end",
    "quiet_mode",
    "digest_size",
    "link_previews",
    "digest_order",
    "language",
)
READER_COLUMNS = ", ".join(_COLUMN_NAMES)


@functools.cache
def load_zone(key: str) -> ZoneInfo:
    """A stored zone; one that cannot be loaded here (not in tzdata, a broken file) falls
    back to UTC with one log line, so one reader's bad data never stops anyone else's."""
    try:
        if key not in canonical_zones():
            raise ValueError("not a zone of the installed tzdata")
        return ZoneInfo(key)
    except (ValueError, OSError) as exc:
        _LOGGER.warning("stored time zone %r cannot be loaded (%s): using UTC", key, exc)
        return UTC_ZONE


def _cadence(digest_time: time, times: str | None, days: str | None) -> Cadence | None:
    if not times and not days:
        return None
    try:
        clocks = [_clock(t) for t in times.split(",")] if times else [digest_time]
        return Cadence.of(clocks, Days(days) if days else Days.DAILY)
    except ValueError:
        _LOGGER.warning("stored cadence %r %r is not valid: daily at %s", times, days, digest_time)
        return None


def reader_from_row(
    row: Sequence[Any],
    topic_ids: frozenset[int],
    keywords: KeywordFilter | None = None,
    muted: frozenset[str] = frozenset(),
) -> Reader:
    """A row of ``SELECT {READER_COLUMNS}``, the reader's topics, keywords and muted
    sources as a :class:`Reader`."""
    col = dict(zip(_COLUMN_NAMES, row, strict=True))
    digest_time = _clock(col["digest_time"])
    quiet = None
    if col["quiet_start"] and col["quiet_end"]:
        mode = _enum(QuietMode, col["quiet_mode"])
        quiet = QuietHours(_clock(col["quiet_start"]), _clock(col["quiet_end"]), mode)
    size = col["digest_size"] if col["digest_size"] in DIGEST_SIZES else DEFAULT_SIZE
    return Reader(
        chat_id=int(col["chat_id"]),
        status=ReaderStatus(col["status"]),
        digest_time=digest_time,
        zone=load_zone(col["timezone"]),
        topic_ids=topic_ids,
        next_digest_at=_opt_time(col["next_digest_at"]),
        last_digest_at=_opt_time(col["last_digest_at"]),
        digest_since=_opt_time(col["digest_since"]),
        user_id=col["user_id"],
        first_name=col["first_name"] or "",
        kind=ChatKind(col["chat_kind"]),
        title=col["title"] or "",
        thread_id=col["thread_id"],
        paused_reason=col["paused_reason"],
        cadence=_cadence(digest_time, col["digest_times"], col["digest_days"]),
        paused_until=_opt_time(col["paused_until"]),
        quiet=quiet,
        shape=DigestShape(
            size, _enum(LinkPreviews, col["link_previews"]), _enum(DigestOrder, col["digest_order"])
        ),
        keywords=keywords if keywords is not None else KeywordFilter(),
        muted=muted,
        language=col["language"],
    )


def _enum(kind: type[E], value: str | None) -> E:
    """A stored word as its enum; NULL or an unknown word is the first (the default)."""
    try:
        return kind(value or "")
    except ValueError:
        return next(iter(kind))


def get_reader(db: Database, chat_id: int) -> Reader | None:
    row = db.execute(
        f"SELECT {READER_COLUMNS} FROM readers WHERE chat_id = ?", (chat_id,)
    ).fetchone()
    if row is None:
        return None
    topics = frozenset(
        tid
        for (tid,) in db.execute("SELECT topic_id FROM reader_topics WHERE chat_id = ?", (chat_id,))
    )
    return reader_from_row(
        row,
        topics,
        keyword_filters(db, [chat_id]).get(chat_id),
        muted_keys(db, [chat_id]).get(chat_id, frozenset()),
    )
