"""The bot's own texts in the reader's language (article text is shown as the file has it).

Two ways to translate, one catalogue:

* In handlers, ``_("...")`` translates into the language of the update being handled: it
  reads :data:`current_language`, which is set once per update before any handler runs.
* Where one piece of code speaks to many readers (the digest tick, pushes), the language
  is explicit: ``translator(reader_language).gettext("...")``.

``N_("...")`` marks a text for the catalogue without translating it yet (module constants,
translated later with ``_()``).

This module is the seam: catalogues, language choice and ``/language`` plug in here.
Today every language is the source language (English).
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

SOURCE_LANGUAGE = "en"
current_language: ContextVar[str] = ContextVar("current_language", default=SOURCE_LANGUAGE)


@dataclass(frozen=True, slots=True)
class Translator:
    """The texts of one language."""

    language: str = SOURCE_LANGUAGE

    def gettext(self, message: str) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural


def translator(language: str | None) -> Translator:
    """The translator for ``language`` (an IETF tag like ``de`` or ``pt-br``; None: source)."""
    return Translator(language or SOURCE_LANGUAGE)


def _(message: str) -> str:
    """``message`` in the language of the update being handled."""
    return translator(current_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the language of the update being handled."""
    return translator(current_language.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue; translate it later with :func:`_`."""
    return message
