"""The bot's own texts in the reader's language (article text is shown as the file has it).

Two ways to translate, one catalogue:

* In handlers, ``_("...")`` translates into the language of the update being handled: it
  reads :data:`current_language`, which is set once per update before any handler runs
  (:mod:`bot.chat.language`).
* Where one piece of code speaks to many readers (the digest tick, pushes), the language
  is explicit: ``translator(reader.language).gettext("...")``; ``digest`` is handed such
  a translator (:class:`digest.texts.Texts`) and never reads the context variable.

``N_("...")`` marks a text for the catalogue without translating it yet (module constants,
translated later with ``_()``).

The catalogues are the ``.po`` files under ``bot/locale/<language>/LC_MESSAGES`` (package
data), compiled in memory the first time a language is asked for (Babel's ``read_po`` and
``write_mo``): no compiled file can drift from its source, and a few hundred messages
compile in milliseconds. Fuzzy and empty entries fall back to English. Regenerate the
template and update the catalogues with ``python -m bot.i18n_tools extract``.
"""

from __future__ import annotations

import functools
import gettext
import io
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from digest.texts import N_, SOURCE_LANGUAGE

__all__ = [
    "LANGUAGE_NAMES",
    "N_",
    "SOURCE_LANGUAGE",
    "SUPPORTED_LANGUAGES",
    "Translator",
    "_",
    "current_language",
    "ngettext",
    "supported_language",
    "translator",
]

DOMAIN = "newsdigest"
LOCALE_DIR = Path(__file__).parent / "locale"
SUPPORTED_LANGUAGES = ("en", "ru", "de", "es")
# Each language in its own words: the /language buttons are read by someone who may not
# read the current one.
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "de": "Deutsch", "es": "Español"}
current_language: ContextVar[str] = ContextVar("current_language", default=SOURCE_LANGUAGE)


def supported_language(code: str | None) -> str:
    """The supported language for an IETF tag ("de-AT" → "de", "pt-br" → "en"; None: en)."""
    if not code:
        return SOURCE_LANGUAGE
    primary = code.replace("_", "-").split("-", 1)[0].strip().lower()
    return primary if primary in SUPPORTED_LANGUAGES else SOURCE_LANGUAGE


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def _translations(language: str) -> gettext.NullTranslations:
    """``language``'s catalogue, compiled from its .po once per process."""
    path = catalogue_path(language)
    if language == SOURCE_LANGUAGE or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries left out: they fall back to English
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@dataclass(frozen=True, slots=True)
class Translator:
    """The texts of one language (a :class:`digest.texts.Texts`)."""

    language: str = SOURCE_LANGUAGE

    def gettext(self, message: str) -> str:
        return _translations(self.language).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return _translations(self.language).ngettext(singular, plural, n)


def translator(language: str | None) -> Translator:
    """The translator for ``language`` (an IETF tag like ``de`` or ``pt-br``; None: source).
    Unsupported languages get the source language."""
    return Translator(supported_language(language))


def _(message: str) -> str:
    """``message`` in the language of the update being handled."""
    return translator(current_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the language of the update being handled."""
    return translator(current_language.get()).ngettext(singular, plural, n)


def current_translator() -> Translator:
    """The translator of the update being handled (to hand to ``digest``)."""
    return translator(current_language.get())
