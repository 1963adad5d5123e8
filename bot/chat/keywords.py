"""/include, /exclude, /keywords: a subscription's keyword lists, with remove buttons."""

from __future__ import annotations

import logging

from telegram import Update

from bot.chat.replies import answer, answer_stale
from bot.chat.screens import Screen, back_row, heading, rows, show
from bot.chat.target import editing, marked, reading
from bot.context import BotContext
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
USAGE = (
    'Send words or quoted phrases, e.g. <code>/include climate "interest rates"</code> '
    "(only stories that match one) or <code>/exclude football</code> (never these). "
    f"Whole words, any case or accent, plurals too; at most {MAX_TERMS} terms of "
    f"{MAX_TERM_CHARS} characters."
)


def _quoted(term: Term) -> str:
    return f"“{escape(term.text)}”"


def keywords_screen(update: Update, reader: Reader, stored: list[StoredKeyword]) -> Screen:
    include = [k for k in stored if k.kind == KeywordKind.INCLUDE]
    exclude = [k for k in stored if k.kind == KeywordKind.EXCLUDE]
    lines = [heading(reader, "Keywords")]
    lines.append(
        "Only stories matching one of: " + ", ".join(_quoted(k.term) for k in include)
        if include
        else "Include: none (every story in your topics)"
    )
    lines.append(
        "Never stories matching: " + ", ".join(_quoted(k.term) for k in exclude)
        if exclude
        else "Exclude: none"
    )
    lines.append("\nTap a term to remove it. Exclusions win over inclusions.")
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
            PromptButton(Prompt.INCLUDE, chat).button("+ Include…"),
            PromptButton(Prompt.EXCLUDE, chat).button("+ Exclude…"),
        )
    )
    if stored:
        keyboard.append((KeywordsClear(chat).button("Clear all"),))
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
        await answer(update, USAGE)
        return
    terms: list[Term] = []
    refused: list[str] = []
    for item in raw:
        try:
            terms.append(make_term(item))
        except TermError as exc:
            refused.append(escape(str(exc)))
    store = context.services.db
    result = await store.run(add_keywords, reader.chat_id, kind, terms, utcnow())
    _LOGGER.info("reader %s: %s +%d", reader.chat_id, kind, len(result.added))
    verb = "Only stories matching" if kind == KeywordKind.INCLUDE else "Never stories matching"
    lines = []
    if result.added:
        lines.append(f"{verb}: " + ", ".join(f"“{escape(t)}”" for t in result.added) + " — added.")
    if result.present:
        lines.append("Already there: " + ", ".join(f"“{escape(t)}”" for t in result.present))
    if result.over_limit:
        lines.append(
            f"Not added (you have the maximum of {MAX_TERMS} terms; remove some with "
            "/keywords): " + ", ".join(f"“{escape(t)}”" for t in result.over_limit)
        )
    lines.extend(refused)
    lines.append("/keywords shows and removes them.")
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
        await query.answer(f"Removed “{removed}”" if removed else "Already removed")
    else:
        cleared = await store.run(clear_keywords, reader.chat_id)
        await query.answer(f"Cleared {cleared} terms" if cleared else "No keywords to clear")
    await open_keywords(update, context, reader.chat_id)


def keywords_summary(reader: Reader) -> str:
    kw = reader.keywords
    if not kw:
        return "none"
    return f"{len(kw.include)} included, {len(kw.exclude)} excluded"
