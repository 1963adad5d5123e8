"""Callback data: the payload of every inline button, one small typed value per format.

Telegram hands a button's callback data back when it is pressed, and a client can send
anything there, so no handler parses it by hand: each format is a frozen value here with
``encode()`` (1-64 bytes, checked) and a strict ``decode()`` that accepts exactly what
``encode`` produces and returns ``None`` for anything else: another prefix, a missing or
extra field, a number that is not canonical ASCII decimal (no sign but a chat id's minus,
no leading zero, no "²") or is beyond SQLite's int64, more than 64 bytes, the empty string.

Every settings screen's button names the subscription it changes by its chat id (a
:data:`ChatId` field, the only signed one: groups and channels have negative ids), so one
screen serves a reader's own chat, a group, and a channel managed from a private chat;
``bot.chat.target.editing`` checks that the presser may change it.

=================================  =========================================
wire text                          value
=================================  =========================================
``rel:<article id>``               :class:`RelatedStory`
``tt:<chat>:<topic id>:<page>``    :class:`TopicToggle`
``tp:<chat>:<page>``               :class:`TopicsPage`
``tx:<chat>:<page>``               :class:`TopicsClear`
``td:<chat>``                      :class:`TopicsDone`
``digest:more``                    :class:`DigestMore`
``push:send:<push id>``            :class:`PushButton` (``PushVerb.SEND``)
``push:cancel:<push id>``          :class:`PushButton` (``PushVerb.CANCEL``)
``chan:<verb>:<chat>``             :class:`ChannelButton` (open, time, zone, stop, resume)
``chadd``                          :class:`ChannelsAdd`
``st:<chat>:<minute of the day>``  :class:`PickTime`
``sz:<chat>:<zone>``               :class:`PickZone` (one of :class:`CommonZone`)
=================================  =========================================

A decoded value is well-formed, not true: an id in it may name nothing (any more), so
handlers look it up before use and answer "out of date" when it is gone.

Adding a format: a subclass ``class StoryVote(CallbackData, prefix="vote")`` (at module
level) whose fields are typed ``int`` (an id, a page: 0 to 2**63-1), ``ChatId`` (a chat id,
signed) or a ``StrEnum`` (one of a fixed set of words); it becomes a frozen dataclass.
Append it to ``FORMATS``, register its handler with ``pattern=matcher(StoryVote)``, and
decode with ``StoryVote.decode``.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, ClassVar, Self, dataclass_transform

from digest.keyboard import MAX_CALLBACK_BYTES, Button

SEPARATOR = ":"
INT64_MAX = 2**63 - 1  # SQLite's largest integer: no stored id is beyond it
_CANONICAL_NUMBER = re.compile(r"0|[1-9][0-9]{0,18}")  # ASCII only: [0-9], not \d
_CANONICAL_SIGNED = re.compile(r"0|-?[1-9][0-9]{0,18}")  # no "-0", no "+"


class _Signed:
    """The marker of a signed field (see :data:`ChatId`)."""


SIGNED = _Signed()
# A Telegram chat id: positive for users, negative for groups and channels (-100…).
ChatId = Annotated[int, SIGNED]


class CallbackDataError(ValueError):
    """A value that cannot become callback data (a field out of range, or over 64 bytes)."""


@dataclass(frozen=True, slots=True)
class _Field:
    """How one field of a format is written and read back (``None``: not acceptable)."""

    name: str
    parse: Callable[[str], object | None]
    format: Callable[[object], str]


def _parse_number(text: str) -> int | None:
    if _CANONICAL_NUMBER.fullmatch(text) is None:
        return None
    value = int(text)
    return value if value <= INT64_MAX else None


def _format_number(value: object) -> str:
    if type(value) is not int or not 0 <= value <= INT64_MAX:
        raise CallbackDataError(f"{value!r} is not a number from 0 to 2**63-1")
    return str(value)


def _parse_signed(text: str) -> int | None:
    if _CANONICAL_SIGNED.fullmatch(text) is None:
        return None
    value = int(text)
    return value if -INT64_MAX <= value <= INT64_MAX else None


def _format_signed(value: object) -> str:
    if type(value) is not int or not -INT64_MAX <= value <= INT64_MAX:
        raise CallbackDataError(f"{value!r} is not a chat id (a number within ±(2**63-1))")
    return str(value)


def _word_field(name: str, words: type[StrEnum]) -> _Field:
    for word in words:
        if not word.value or not word.value.isascii() or SEPARATOR in word.value:
            raise TypeError(f"{words.__name__}.{word.name}: words are ASCII, without {SEPARATOR}")

    def parse(text: str) -> StrEnum | None:
        try:
            return words(text)
        except ValueError:
            return None

    def write(value: object) -> str:
        if not isinstance(value, words):
            raise CallbackDataError(f"{value!r} is not a {words.__name__}")
        return value.value

    return _Field(name, parse, write)


def _layout(cls: type) -> tuple[_Field, ...]:
    """The fields of a format, from its annotations (ClassVars aside), checked once."""
    found: list[_Field] = []
    for name, kind in typing.get_type_hints(cls, include_extras=True).items():
        if typing.get_origin(kind) is ClassVar:
            continue
        if kind == ChatId:
            found.append(_Field(name, _parse_signed, _format_signed))
        elif kind is int:
            found.append(_Field(name, _parse_number, _format_number))
        elif isinstance(kind, type) and issubclass(kind, StrEnum):
            found.append(_word_field(name, kind))
        else:
            raise TypeError(f"{cls.__name__}.{name}: a callback field is int, ChatId or a StrEnum")
    return tuple(found)


@dataclass_transform(frozen_default=True)
class CallbackData:
    """A callback-data format: its prefix, then each field after a ``:``."""

    __slots__ = ()
    PREFIX: ClassVar[str] = ""
    _FIELDS: ClassVar[tuple[_Field, ...]] = ()

    def __init_subclass__(cls, *, prefix: str, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if not prefix or not prefix.isascii():
            raise TypeError(f"{cls.__name__}: the prefix is non-empty ASCII")
        cls.PREFIX = prefix
        dataclasses.dataclass(frozen=True)(cls)
        cls._FIELDS = _layout(cls)

    def encode(self) -> str:
        data = self.PREFIX
        for field in self._FIELDS:
            data += SEPARATOR + field.format(getattr(self, field.name))
        # ASCII by construction (prefix, digits, words are checked), so characters are bytes.
        if len(data) > MAX_CALLBACK_BYTES:
            raise CallbackDataError(f"{data[:80]!r} is over {MAX_CALLBACK_BYTES} bytes")
        return data

    @classmethod
    def decode(cls, data: object) -> Self | None:
        """The value ``data`` encodes, or ``None`` unless it is exactly what encode() writes."""
        # Every format is ASCII, so the length in characters is the length in bytes.
        if not isinstance(data, str) or len(data) > MAX_CALLBACK_BYTES or not data.isascii():
            return None
        make = typing.cast("Callable[..., Self]", cls)
        fields = cls._FIELDS
        if not fields:
            return make() if data == cls.PREFIX else None
        head = cls.PREFIX + SEPARATOR
        if not data.startswith(head):
            return None
        parts = data[len(head) :].split(SEPARATOR)
        if len(parts) != len(fields):
            return None
        values = [field.parse(part) for field, part in zip(fields, parts, strict=True)]
        if any(value is None for value in values):
            return None
        return make(*values)

    def button(self, label: str) -> Button:
        """An inline button that sends this value."""
        return Button(label, self.encode())


class RelatedStory(CallbackData, prefix="rel"):
    """🔗 under a digest entry: the story's related coverage."""

    article_id: int


class DigestMore(CallbackData, prefix="digest:more"):
    """The "More (N)" button under a digest: the next stories."""


class TopicToggle(CallbackData, prefix="tt"):
    """A topic in chat ``chat_id``'s /topics picker: select or unselect it, stay on ``page``."""

    chat_id: ChatId
    topic_id: int
    page: int


class TopicsPage(CallbackData, prefix="tp"):
    """The picker's ◀ / ▶ (and the page counter): show ``page``."""

    chat_id: ChatId
    page: int


class TopicsDone(CallbackData, prefix="td"):
    """The picker's "Done"."""

    chat_id: ChatId


class TopicsClear(CallbackData, prefix="tx"):
    """The picker's "Clear all", then ``page`` again."""

    chat_id: ChatId
    page: int


class PushVerb(StrEnum):
    SEND = "send"
    CANCEL = "cancel"


class PushButton(CallbackData, prefix="push"):
    """Send or Cancel under a breaking push's preview (admins only)."""

    verb: PushVerb
    push_id: int


class ChannelVerb(StrEnum):
    OPEN = "open"  # the channel's settings screen
    TIME = "time"  # its digest-time choices
    ZONE = "zone"  # its time-zone choices
    STOP = "stop"  # no more digests (settings kept)
    RESUME = "resume"  # digests again


class ChannelButton(CallbackData, prefix="chan"):
    """A button of /channels or of a channel's settings screen (in a manager's private chat)."""

    verb: ChannelVerb
    chat_id: ChatId


class ChannelsAdd(CallbackData, prefix="chadd"):
    """/channels' "Add a channel": how to add one, with the chat-picker button."""


class PickTime(CallbackData, prefix="st"):
    """A digest time chosen from buttons: ``minute`` of the day (0-1439) in the chat's zone."""

    chat_id: ChatId
    minute: int


class CommonZone(StrEnum):
    """The zones offered as buttons (any IANA zone can be typed where text input exists)."""

    UTC = "UTC"
    LONDON = "Europe/London"
    BERLIN = "Europe/Berlin"
    MOSCOW = "Europe/Moscow"
    DUBAI = "Asia/Dubai"
    KOLKATA = "Asia/Kolkata"
    SHANGHAI = "Asia/Shanghai"
    TOKYO = "Asia/Tokyo"
    SYDNEY = "Australia/Sydney"
    SAO_PAULO = "America/Sao_Paulo"
    NEW_YORK = "America/New_York"
    LOS_ANGELES = "America/Los_Angeles"


class PickZone(CallbackData, prefix="sz"):
    """A time zone chosen from buttons."""

    chat_id: ChatId
    zone: CommonZone


TOPIC_BUTTONS: tuple[type[CallbackData], ...] = (TopicToggle, TopicsPage, TopicsDone, TopicsClear)
CHANNEL_BUTTONS: tuple[type[CallbackData], ...] = (ChannelButton, ChannelsAdd)
SCHEDULE_BUTTONS: tuple[type[CallbackData], ...] = (PickTime, PickZone)
FORMATS: tuple[type[CallbackData], ...] = (
    RelatedStory,
    DigestMore,
    *TOPIC_BUTTONS,
    PushButton,
    *CHANNEL_BUTTONS,
    *SCHEDULE_BUTTONS,
)


def decode_any(
    data: object, formats: Sequence[type[CallbackData]] = FORMATS
) -> CallbackData | None:
    """The value of the first of ``formats`` that ``data`` is, or ``None``."""
    for kind in formats:
        value = kind.decode(data)
        if value is not None:
            return value
    return None


def matcher(*formats: type[CallbackData]) -> Callable[[object], bool]:
    """A ``CallbackQueryHandler`` pattern: true for the data of one of ``formats``."""
    return lambda data: decode_any(data, formats) is not None
