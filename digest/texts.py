"""The digest's own words in the reader's language, without knowing where they come from.

``digest`` is pure: it is handed a :class:`Texts` (``bot.i18n.Translator`` is one) and
never reads a catalogue or a context variable itself. :data:`SOURCE_TEXTS` is the source
language (English), what every function here uses when given none. Dates and weekday
names come from Babel's locale data (CLDR) for ``texts.language``.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Protocol

from babel.dates import format_date, format_datetime

SOURCE_LANGUAGE = "en"


class Texts(Protocol):
    """gettext's two calls and the language they translate into."""

    @property
    def language(self) -> str: ...

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


class SourceTexts:
    """The source language: every message as written."""

    @property
    def language(self) -> str:
        return SOURCE_LANGUAGE

    def gettext(self, message: str) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural


SOURCE_TEXTS: Texts = SourceTexts()


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue; it is translated where it is shown."""
    return message


@functools.lru_cache(maxsize=4096)
def day_label(day: date, language: str) -> str:
    """ "Mon 05 Jan" / "пн 05 янв." : a digest heading's day (cached: one per reader)."""
    return format_date(day, "EEE dd MMM", locale=language)


def moment_label(moment: datetime, language: str, *, weekday: bool = True) -> str:
    """ "Mon 05 Jan, 07:30" (``weekday``) or "5 Jan, 07:30", in ``moment``'s own zone."""
    pattern = "EEE dd MMM, HH:mm" if weekday else "d MMM, HH:mm"
    return format_datetime(moment, pattern, tzinfo=moment.tzinfo, locale=language)


@functools.lru_cache(maxsize=64)
def weekday_name(weekday: int, language: str) -> str:
    """The weekday's full name (0 = Monday): "Monday", "понедельник", "Montag"."""
    return format_date(date(2024, 1, 1 + weekday), "EEEE", locale=language)


@functools.lru_cache(maxsize=64)
def weekday_short(weekday: int, language: str) -> str:
    """ "Mon", "пн", "Mo." (0 = Monday)."""
    return format_date(date(2024, 1, 1 + weekday), "EEE", locale=language)


class TranslatableError(ValueError):
    """An error whose message a reader sees: ``str()`` is English, :meth:`translated` is
    the reader's language. ``message`` is marked with :func:`N_` where it is raised and
    may hold ``{name}`` placeholders filled from ``params``."""

    def __init__(self, message: str, **params: object) -> None:
        self.template = message
        self.params = params
        super().__init__(message.format(**params) if params else message)

    def translated(self, texts: Texts) -> str:
        return texts.gettext(self.template).format(**self.params)
