"""How a callback-data format is written and read: the codec under :mod:`digest.callbacks`.

A format is a subclass of :class:`CallbackData` with a prefix and typed fields; it becomes
a frozen dataclass whose ``encode()`` writes ``prefix:field:field`` (1-64 bytes, checked)
and whose ``decode()`` accepts exactly that and returns ``None`` for anything else. Field
types: ``int`` (an id, a page: 0 to 2**63-1, canonical ASCII decimal), :data:`ChatId`
(the one signed type: a chat id, or another signed number such as a zone offset; no "-0",
no "+") and a ``StrEnum`` (one of a fixed set of ASCII words).
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable
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
