"""Callback data: the payload of every inline button, one small typed value per format.

Telegram hands a button's callback data back when it is pressed, and a client can send
anything there, so no handler parses it by hand: each format is a frozen value here with
``encode()`` (1-64 bytes, checked) and a strict ``decode()`` that accepts exactly what
``encode`` produces and returns ``None`` for anything else: another prefix, a missing or
extra field, a number that is not canonical ASCII decimal (no sign, no leading zero, no
"²") or is beyond SQLite's int64, more than 64 bytes, the empty string.

========================  =========================================
wire text                 value
========================  =========================================
``rel:<article id>``      :class:`RelatedStory`
``tt:<topic id>:<page>``  :class:`TopicToggle`
``tp:<page>``             :class:`TopicsPage`
``tx:<page>``             :class:`TopicsClear`
``td``                    :class:`TopicsDone`
``digest:more``           :class:`DigestMore`
``push:send:<push id>``   :class:`PushButton` (``PushVerb.SEND``)
``push:cancel:<push id>`` :class:`PushButton` (``PushVerb.CANCEL``)
========================  =========================================

Reader controls (issue 11): every format names the subscription it shows or changes by its
chat id (``<chat>``, signed: a channel's id is negative), so a settings screen opened in one
chat can change another's (handlers pass it to ``bot.chat.target.editing``):

==================================  =========================================
``set:<chat>``                      :class:`SettingsHome` (the /settings screen)
``so:<section>:<chat>``             :class:`SettingsOpen` (one of its screens)
``pr:<prompt>:<chat>``              :class:`PromptButton` (ask for text: a ForceReply)
``tc:<chat>:<topic id>:<page>``     :class:`ChatTopicToggle`
``tg:<chat>:<page>``                :class:`ChatTopicsPage`
``tk:<chat>:<page>``                :class:`ChatTopicsClear`
``kr:<chat>:<keyword id>``          :class:`KeywordRemove`
``kc:<chat>``                       :class:`KeywordsClear`
``ms:<chat>``                       :class:`MuteMenu` (under a digest)
``mp:<chat>:<article id>``          :class:`MuteProvider`
``mb:<chat>``                       :class:`MuteBack`
``su:<chat>:<muted id>``            :class:`SourceUnmute`
``ct:<chat>:<minute of day>``       :class:`TimeToggle`
``cd:<chat>:<days>``                :class:`DaysSet`
``zs:<chat>:<index>``               :class:`ZonePick` (``digest.zones.COMMON_ZONES``)
``zl:<chat>``                       :class:`ZoneOfLanguage`
``zf:<chat>:<minutes east>``        :class:`ZoneFixed` (a whole-hour offset, confirmed)
``zq:<chat>``                       :class:`LocationAsk` (the share-location keyboard)
``qs:<chat>:<preset>``              :class:`QuietPreset` (``0``: off)
``qm:<chat>:<mode>``                :class:`QuietModeSet`
``sz:<chat>:<entries>``             :class:`ShapeSize`
``lp:<chat>:<previews>``            :class:`ShapePreviews`
``od:<chat>:<order>``               :class:`ShapeOrder`
``pa:<chat>:<days>``                :class:`PauseFor` (``0``: resume)
==================================  =========================================

A decoded value is well-formed, not true: an id in it may name nothing (any more), so
handlers look it up before use and answer "out of date" when it is gone.

Adding a format: a subclass ``class StoryVote(CallbackData, prefix="vote")`` (at module
level) whose fields are typed ``int`` (an id, a page: 0 to 2**63-1) or a ``StrEnum`` (one of
a fixed set of words) or :data:`Signed` (a chat id: -2**63 to 2**63-1, canonical, no
"-0"); it becomes a frozen dataclass. Append it to ``FORMATS``, register its
handler with ``pattern=matcher(StoryVote)``, and decode with ``StoryVote.decode``.
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
INT64_MIN = -(2**63)
_CANONICAL_NUMBER = re.compile(r"0|[1-9][0-9]{0,18}")  # ASCII only: [0-9], not \d
_CANONICAL_SIGNED = re.compile(r"0|-?[1-9][0-9]{0,18}")
_SIGNED = "signed"
Signed = Annotated[int, _SIGNED]  # a field that may be negative: a chat id


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
    return value if INT64_MIN <= value <= INT64_MAX else None


def _format_signed(value: object) -> str:
    if type(value) is not int or not INT64_MIN <= value <= INT64_MAX:
        raise CallbackDataError(f"{value!r} is not a number from -2**63 to 2**63-1")
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
        if typing.get_origin(kind) is Annotated and typing.get_args(kind) == (int, _SIGNED):
            found.append(_Field(name, _parse_signed, _format_signed))
        elif kind is int:
            found.append(_Field(name, _parse_number, _format_number))
        elif isinstance(kind, type) and issubclass(kind, StrEnum):
            found.append(_word_field(name, kind))
        else:
            raise TypeError(f"{cls.__name__}.{name}: a callback field is int or a StrEnum")
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
    """A topic in the /topics picker: select or unselect it, staying on ``page``."""

    topic_id: int
    page: int


class TopicsPage(CallbackData, prefix="tp"):
    """The picker's ◀ / ▶ (and the page counter): show ``page``."""

    page: int


class TopicsDone(CallbackData, prefix="td"):
    """The picker's "Done"."""


class TopicsClear(CallbackData, prefix="tx"):
    """The picker's "Clear all", then ``page`` again."""

    page: int


class PushVerb(StrEnum):
    SEND = "send"
    CANCEL = "cancel"


class PushButton(CallbackData, prefix="push"):
    """Send or Cancel under a breaking push's preview (admins only)."""

    verb: PushVerb
    push_id: int


class Section(StrEnum):
    """The screens of /settings."""

    TOPICS = "topics"
    TIMES = "times"
    ZONE = "zone"
    KEYWORDS = "keywords"
    SOURCES = "sources"
    QUIET = "quiet"
    SHAPE = "shape"
    PAUSE = "pause"


class Prompt(StrEnum):
    """Text a settings screen asks for with a ForceReply (``bot.chat.prompts``)."""

    INCLUDE = "inc"
    EXCLUDE = "exc"
    TIME = "time"
    ZONE = "zone"
    QUIET = "quiet"
    PAUSE = "pause"


class SettingsHome(CallbackData, prefix="set"):
    chat: Signed


class SettingsOpen(CallbackData, prefix="so"):
    section: Section
    chat: Signed


class PromptButton(CallbackData, prefix="pr"):
    prompt: Prompt
    chat: Signed


class ChatTopicToggle(CallbackData, prefix="tc"):
    """A topic in the picker of subscription ``chat``: select or unselect it."""

    chat: Signed
    topic_id: int
    page: int


class ChatTopicsPage(CallbackData, prefix="tg"):
    chat: Signed
    page: int


class ChatTopicsClear(CallbackData, prefix="tk"):
    chat: Signed
    page: int


class KeywordRemove(CallbackData, prefix="kr"):
    chat: Signed
    keyword_id: int


class KeywordsClear(CallbackData, prefix="kc"):
    chat: Signed


class MuteMenu(CallbackData, prefix="ms"):
    """Under a digest: show a "Mute <provider>" button per source in the message."""

    chat: Signed


class MuteProvider(CallbackData, prefix="mp"):
    """Mute the provider of ``article_id`` for subscription ``chat``."""

    chat: Signed
    article_id: int


class MuteBack(CallbackData, prefix="mb"):
    """Close the mute menu: the digest's own buttons again."""

    chat: Signed


class SourceUnmute(CallbackData, prefix="su"):
    chat: Signed
    muted_id: int


class TimeToggle(CallbackData, prefix="ct"):
    """Add or remove a digest time (minutes after local midnight)."""

    chat: Signed
    minute: int


class DaysWord(StrEnum):
    """The days a digest comes, as in ``digest.schedule.Days``."""

    DAILY = "daily"
    WEEKDAYS = "weekdays"
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


class DaysSet(CallbackData, prefix="cd"):
    chat: Signed
    days: DaysWord


class ZonePick(CallbackData, prefix="zs"):
    chat: Signed
    index: int


class ZoneOfLanguage(CallbackData, prefix="zl"):
    chat: Signed


class LocationAsk(CallbackData, prefix="zq"):
    """Send the reply keyboard whose button shares the user's location."""

    chat: Signed


class ZoneFixed(CallbackData, prefix="zf"):
    chat: Signed
    minutes: Signed


class QuietPreset(CallbackData, prefix="qs"):
    chat: Signed
    preset: int


class QuietWord(StrEnum):
    SILENT = "silent"
    HOLD = "hold"


class QuietModeSet(CallbackData, prefix="qm"):
    chat: Signed
    mode: QuietWord


class ShapeSize(CallbackData, prefix="sz"):
    chat: Signed
    entries: int


class PreviewWord(StrEnum):
    OFF = "off"
    FIRST = "first"
    ALL = "all"


class ShapePreviews(CallbackData, prefix="lp"):
    chat: Signed
    previews: PreviewWord


class OrderWord(StrEnum):
    RANKED = "ranked"
    NEWEST = "newest"


class ShapeOrder(CallbackData, prefix="od"):
    chat: Signed
    order: OrderWord


class PauseFor(CallbackData, prefix="pa"):
    chat: Signed
    days: int


TOPIC_BUTTONS: tuple[type[CallbackData], ...] = (
    TopicToggle,
    TopicsPage,
    TopicsDone,
    TopicsClear,
    ChatTopicToggle,
    ChatTopicsPage,
    ChatTopicsClear,
)
MUTE_BUTTONS: tuple[type[CallbackData], ...] = (MuteMenu, MuteProvider, MuteBack)
SETTINGS_BUTTONS: tuple[type[CallbackData], ...] = (
    SettingsHome,
    SettingsOpen,
    KeywordRemove,
    KeywordsClear,
    SourceUnmute,
    TimeToggle,
    DaysSet,
    ZonePick,
    ZoneOfLanguage,
    ZoneFixed,
    LocationAsk,
    QuietPreset,
    QuietModeSet,
    ShapeSize,
    ShapePreviews,
    ShapeOrder,
    PauseFor,
)
FORMATS: tuple[type[CallbackData], ...] = (
    RelatedStory,
    DigestMore,
    *TOPIC_BUTTONS,
    PushButton,
    *MUTE_BUTTONS,
    *SETTINGS_BUTTONS,
    PromptButton,
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
