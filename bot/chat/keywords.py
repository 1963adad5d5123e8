"""/include, /exclude, /keywords: a subscription's keyword lists, with remove buttons."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Update

from bot.chat.replies import answer, answer_stale
from bot.chat.screens import Screen, back_row, heading, rows, show
from bot.chat.target import editing, marked, reading
from bot.context import BotContext
from bot.i18n import N_, _, current_translator, ngettext
from digest.callbacks import decode_any
from digest.html import escape
from digest.keyboard import Button
from digest.keywords import MAX_TERM_CHARS, MAX_TERMS, Term, TermError, make_term, split_terms
from digest.settings_callbacks import KeywordRemove, KeywordsClear, Prompt, PromptButton
from storage.controls import (
    KeywordKind,
    StoredKeyword,
    add_keywords,
    clear_keywords,
    keywords_of,
    remove_keyword,
)
from storage.db import utcnow
from storage.readers import Reader

_LOGGER = logging.getLogger(__name__)
LABEL_CHARS = 24
KEYWORD_BUTTONS = (KeywordRemove, KeywordsClear)
USAGE = N_(
    'Send words or quoted phrases, e.g. <code>/include climate "interest rates"</code> '
    "(only stories that match one) or <code>/exclude football</code> (never these). "
    "Whole words, any case or accent, plurals too; at most {count} terms of {chars} "
    "characters."
)


def usage() -> str:
    return _(USAGE).format(count=MAX_TERMS, chars=MAX_TERM_CHARS)


def _quoted(term: Term) -> str:
    return f"“{escape(term.text)}”"


def keywords_screen(update: Update, reader: Reader, stored: list[StoredKeyword]) -> Screen:
    include = [k for k in stored if k.kind == KeywordKind.INCLUDE]
    exclude = [k for k in stored if k.kind == KeywordKind.EXCLUDE]
    lines = [heading(reader, N_("Keywords"))]
    lines.append(
        _("Only stories matching one of: {terms}").format(
            terms=", ".join(_quoted(k.term) for k in include)
        )
        if include
        else _("Include: none (every story in your topics)")
    )
    lines.append(
        _("Never stories matching: {terms}").format(
            terms=", ".join(_quoted(k.term) for k in exclude)
        )
        if exclude
        else _("Exclude: none")
    )
    lines.append("\n" + _("Tap a term to remove it. Exclusions win over inclusions."))
    chat = reader.chat_id
    buttons = [
        KeywordRemove(chat, k.id).button(
            f"✖ {'+' if k.kind == KeywordKind.INCLUDE else '−'}{_label(k.term.text)}"
        )
        for k in stored
    ]
    keyboard: list[tuple[Button, ...]] = rows(buttons, 3)
    keyboard.append(
        (
            PromptButton(Prompt.INCLUDE, chat).button(_("+ Include…")),
            PromptButton(Prompt.EXCLUDE, chat).button(_("+ Exclude…")),
        )
    )
    if stored:
        keyboard.append((KeywordsClear(chat).button(_("Clear all")),))
    keyboard.append(back_row(chat))
    return "\n".join(lines), tuple(keyboard)


def _label(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


async def change_keywords(
    update: Update, context: BotContext, kind: KeywordKind, text: str, chat_id: int | None = None
) -> None:
    """Add the terms in ``text`` to one list of the subscription (``chat_id``: another's)."""
    reader = await editing(update, context, chat_id)
    if reader is None:
        return
    raw = split_terms(text)
    if not raw:
        await answer(update, usage())
        return
    terms: list[Term] = []
    refused: list[str] = []
    for item in raw:
        try:
            terms.append(make_term(item))
        except TermError as exc:
            refused.append(escape(exc.translated(current_translator())))
    store = context.services.db
    result = await store.run(add_keywords, reader.chat_id, kind, terms, utcnow())
    _LOGGER.info("reader %s: %s +%d", reader.chat_id, kind, len(result.added))

    def listed(terms: Sequence[str]) -> str:
        return ", ".join(f"“{escape(t)}”" for t in terms)

    added = (
        _("Only stories matching: {terms} — added.")
        if kind == KeywordKind.INCLUDE
        else _("Never stories matching: {terms} — added.")
    )
    lines = []
    if result.added:
        lines.append(added.format(terms=listed(result.added)))
    if result.present:
        lines.append(_("Already there: {terms}").format(terms=listed(result.present)))
    if result.over_limit:
        lines.append(
            _(
                "Not added (you have the maximum of {count} terms; remove some with "
                "/keywords): {terms}"
            ).format(count=MAX_TERMS, terms=listed(result.over_limit))
        )
    lines.extend(refused)
    lines.append(_("/keywords shows and removes them."))
    await answer(update, marked(reader, "\n".join(lines)))


async def cmd_include(update: Update, context: BotContext) -> None:
    """/include word "a phrase": only stories matching one of the include terms."""
    await change_keywords(update, context, KeywordKind.INCLUDE, _args_text(update))


async def cmd_exclude(update: Update, context: BotContext) -> None:
    """/exclude word "a phrase": never stories matching one of these."""
    await change_keywords(update, context, KeywordKind.EXCLUDE, _args_text(update))


def _args_text(update: Update) -> str:
    message = update.effective_message
    parts = ((message.text or "") if message else "").split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


async def open_keywords(update: Update, context: BotContext, chat_id: int | None = None) -> None:
    reader = await reading(update, context, chat_id)
    if reader is None:
        return
    stored = await context.services.db.run(keywords_of, reader.chat_id)
    await show(update, keywords_screen(update, reader, stored))


async def cmd_keywords(update: Update, context: BotContext) -> None:
    """/keywords: both lists, a remove button per term, and clear."""
    await open_keywords(update, context)


async def on_keyword_button(update: Update, context: BotContext) -> None:
    """kr:<chat>:<id> removes one term, kc:<chat> clears both lists."""
    query = update.callback_query
    if query is None:
        return
    pressed = decode_any(query.data, KEYWORD_BUTTONS)
    if pressed is None:
        await answer_stale(query)
        return
    assert isinstance(pressed, KeywordRemove | KeywordsClear)
    reader = await editing(update, context, pressed.chat_id)
    if reader is None:
        return
    store = context.services.db
    if isinstance(pressed, KeywordRemove):
        removed = await store.run(remove_keyword, reader.chat_id, pressed.keyword_id)
        await query.answer(
            _("Removed “{term}”").format(term=removed) if removed else _("Already removed")
        )
    else:
        cleared = await store.run(clear_keywords, reader.chat_id)
        await query.answer(
            ngettext("Cleared {n} term", "Cleared {n} terms", cleared).format(n=cleared)
            if cleared
            else _("No keywords to clear")
        )
    await open_keywords(update, context, reader.chat_id)


def keywords_summary(reader: Reader) -> str:
    kw = reader.keywords
    if not kw:
        return _("none")
    return _("{included} included, {excluded} excluded").format(
        included=len(kw.include), excluded=len(kw.exclude)
    )
