"""Catalogue upkeep: ``python -m bot.i18n_tools extract`` regenerates the template from
the marked strings in ``bot/`` and ``digest/``, updates every language's .po (msgmerge
style: translations kept, changed ones marked fuzzy, new ones empty), then checks them.
``python -m bot.i18n_tools check`` only checks (exit 1 on a problem).

A check fails for a message missing from a catalogue, an empty or fuzzy translation, a
placeholder (``{name}``, ``%s``) that differs from its source, or HTML tags that do not
balance. No compiled files: :mod:`bot.i18n` compiles the .po files when first used.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.i18n import DOMAIN, LOCALE_DIR, SOURCE_LANGUAGE, SUPPORTED_LANGUAGES, catalogue_path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("bot", "digest")
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
# The calls that mark a message: `_`, `N_`, and a translator's own methods (the tick and
# `digest` call `texts.gettext(...)`); Babel matches the called name, so `x.gettext` too.
KEYWORDS: dict[str, tuple[int, ...]] = {
    "_": (1,),
    "N_": (1,),
    "gettext": (1,),
    "ngettext": (1, 2),
}
PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*\}|%[sd]|%\([a-z_]+\)[sd]")
# Telegram's HTML tags (a menu line's "<link or words>" is plain text, not a tag).
TAG = re.compile(r"</?(b|strong|i|em|u|ins|s|strike|del|a|code|pre|blockquote|tg-spoiler)\b[^>]*>")


def _template() -> Catalog:
    catalog = Catalog(project="newsdigest", domain=DOMAIN, charset="utf-8", fuzzy=False)
    for folder in SOURCE_DIRS:
        found = extract_from_dir(
            ROOT / folder,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",),
            strip_comment_tags=True,
        )
        for filename, lineno, message, comments, context in found:
            where = (f"{folder}/{filename}", lineno)
            catalog.add(message, None, [where], auto_comments=comments, context=context)
    return catalog


def _write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        write_po(out, catalog, width=100, sort_by_file=True, ignore_obsolete=True)


def extract(languages: Iterable[str] = SUPPORTED_LANGUAGES) -> list[Path]:
    """Write the template; create or update each language's catalogue. Returns the .po paths."""
    template = _template()
    _write(template, TEMPLATE)
    paths = []
    for language in languages:
        if language == SOURCE_LANGUAGE:
            continue
        path = catalogue_path(language)
        if path.is_file():
            with path.open("rb") as source:
                catalog = read_po(source, locale=language, domain=DOMAIN)
        else:
            catalog = Catalog(locale=language, domain=DOMAIN, project="newsdigest", fuzzy=False)
        catalog.update(template, no_fuzzy_matching=False)
        _write(catalog, path)
        paths.append(path)
    return paths


@dataclass(frozen=True, slots=True)
class Problem:
    language: str
    msgid: str
    what: str

    def __str__(self) -> str:
        return f"{self.language}: {self.what}: {self.msgid[:70]!r}"


def _ids(message: Message) -> tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, tuple | list) else (message.id,)


def _strings(message: Message) -> tuple[str, ...]:
    value = message.string
    if isinstance(value, tuple | list):
        return tuple(str(v or "") for v in value)
    return (value or "",)


def tags(text: str) -> list[str]:
    """The HTML tags of ``text`` as opened/closed names ("b", "/b"), in order."""
    return [("/" if m.group(0).startswith("</") else "") + m.group(1) for m in TAG.finditer(text)]


def balanced(text: str) -> bool:
    stack: list[str] = []
    for tag in tags(text):
        if tag.startswith("/"):
            if not stack or stack.pop() != tag[1:]:
                return False
        else:
            stack.append(tag)
    return not stack


def catalogue_problems(template: Catalog, catalog: Catalog, language: str) -> list[Problem]:
    problems = []
    for wanted in template:
        if not wanted.id:
            continue
        msgid = _ids(wanted)[0]
        found = catalog.get(wanted.id, context=wanted.context)
        if found is None:
            problems.append(Problem(language, msgid, "missing"))
            continue
        strings = _strings(found)
        if found.fuzzy:
            problems.append(Problem(language, msgid, "fuzzy"))
        if not all(strings):
            problems.append(Problem(language, msgid, "empty"))
            continue
        sources = _ids(wanted)
        for translated in strings:
            # A plural form may drop the number's placeholder only where the singular
            # has none either ("one story" style); otherwise the same set must appear.
            expected = sorted(set(PLACEHOLDER.findall(sources[-1])))
            if sorted(set(PLACEHOLDER.findall(translated))) != expected and not (
                len(sources) > 1
                and sorted(set(PLACEHOLDER.findall(translated)))
                == sorted(set(PLACEHOLDER.findall(sources[0])))
            ):
                problems.append(Problem(language, msgid, "placeholders differ"))
            if not balanced(translated) or sorted(tags(translated)) != sorted(tags(sources[-1])):
                problems.append(Problem(language, msgid, "HTML tags differ or do not balance"))
    return problems


def check(languages: Iterable[str] = SUPPORTED_LANGUAGES) -> list[Problem]:
    with TEMPLATE.open("rb") as source:
        template = read_po(source)
    problems = []
    for language in languages:
        if language == SOURCE_LANGUAGE:
            continue
        with catalogue_path(language).open("rb") as source:
            catalog = read_po(source, locale=language, domain=DOMAIN)
        problems.extend(catalogue_problems(template, catalog, language))
    return problems


if __name__ == "__main__":  # the command lives with the other command-line output
    from bot.cli.catalogues import main

    sys.exit(main())
