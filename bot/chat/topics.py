"""The topic picker: an inline keyboard of every known topic; taps toggle and edit it in
place. One picker for /topics, the /settings screen and a channel's settings alike.

Every button names the subscription it changes (a reader's chat, a group, or a channel
managed from a private chat), and :func:`bot.chat.target.editing` checks each tap. Its
"Done" (``td``) leads back to the /settings screen (:mod:`bot.chat.settings_menu`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Update

from bot.chat.replies import answer_stale
from bot.chat.screens import Screen, show
from bot.chat.target import editing, marked, reading
from bot.context import BotContext
from bot.i18n import _
from digest.callbacks import decode_any
from digest.html import escape
from digest.keyboard import Button, Keyboard
from digest.settings_callbacks import TopicsClear, TopicsDone, TopicsPage, TopicToggle
from storage.readers import Reader, get_reader
from storage.topics import Topic, all_topics, clear_topics, toggle_topic

_LOGGER = logging.getLogger(__name__)
PAGE_SIZE = 10  # two columns of five: fits a phone screen
LABEL_CHARS = 30
SELECTED = "✅ "
PICKER_BUTTONS = (TopicToggle, TopicsPage, TopicsClear)


def _label(topic: Topic, selected: bool) -> str:
    name = topic.name if len(topic.name) <= LABEL_CHARS else topic.name[: LABEL_CHARS - 1] + "…"
    return (SELECTED if selected else "") + name


def topics_view(
    topics: Sequence[Topic], selected: frozenset[int], page: int, chat_id: int
) -> tuple[str, Keyboard]:
    """The message text and keyboard for one page of chat ``chat_id``'s picker.

    Callback data carries ids, not names."""
    pages = max(1, -(-len(topics) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    chosen = [t.name for t in topics if t.id in selected]
    if not topics:
        text = _("No topics yet: no articles have been stored. Try again later.")
    else:
        summary = ", ".join(escape(n) for n in chosen) if chosen else _("none — you get everything")
        text = _(
            "<b>Pick your topics</b>\nTap to select or unselect. With none selected you get "
            "every story.\n\nSelected: {summary}"
        ).format(summary=summary)
    shown = topics[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    rows: list[tuple[Button, ...]] = [
        tuple(
            TopicToggle(chat_id, t.id, page).button(_label(t, t.id in selected))
            for t in shown[i : i + 2]
        )
        for i in range(0, len(shown), 2)
    ]
    if pages > 1:
        rows.append(
            (
                TopicsPage(chat_id, (page - 1) % pages).button("◀"),
                TopicsPage(chat_id, page).button(f"{page + 1}/{pages}"),
                TopicsPage(chat_id, (page + 1) % pages).button("▶"),
            )
        )
    footer = (TopicsDone(chat_id).button(_("Done")),)
    rows.append((TopicsClear(chat_id, page).button(_("Clear all")), *footer) if chosen else footer)
    return text, tuple(rows)


def topics_screen(reader: Reader, topics: Sequence[Topic], page: int = 0) -> Screen:
    """The picker of ``reader``'s subscription, marked with a channel's name."""
    text, keyboard = topics_view(topics, reader.topic_ids, page, reader.chat_id)
    return marked(reader, text), keyboard


def topics_summary(reader: Reader, topics: Sequence[Topic]) -> str:
    """The chosen topics as plain text ("everything" when none)."""
    names = [t.name for t in topics if t.id in reader.topic_ids]
    return ", ".join(names) or _("everything (no topic chosen)")


async def cmd_topics(update: Update, context: BotContext) -> None:
    """Show the topic picker."""
    reader = await editing(update, context)
    if reader is None:
        return
    topics = await context.services.db.run(all_topics)
    await show(update, topics_screen(reader, topics))


async def open_topics(update: Update, context: BotContext, chat_id: int | None = None) -> None:
    """The picker as a /settings screen."""
    reader = await reading(update, context, chat_id)
    if reader is None:
        return
    topics = await context.services.db.run(all_topics)
    await show(update, topics_screen(reader, topics))


async def on_topics_button(update: Update, context: BotContext) -> None:
    """tt:<chat>:<topic id>:<page> toggle, tp:<chat>:<page> page, tx:<chat>:<page> clear
    (td:<chat>, Done, is the settings menu's)."""
    query = update.callback_query
    if query is None:
        return
    pressed = decode_any(query.data, PICKER_BUTTONS)
    if not isinstance(pressed, TopicToggle | TopicsPage | TopicsClear):
        await answer_stale(query)
        return
    store = context.services.db
    reader = await editing(update, context, pressed.chat_id)
    if reader is None:
        return
    note = None
    if isinstance(pressed, TopicToggle):
        # toggle_topic checks the id against the topics table in its transaction.
        now_selected = await store.run(toggle_topic, reader.chat_id, pressed.topic_id)
        _LOGGER.info("reader %s: topic %s -> %s", reader.chat_id, pressed.topic_id, now_selected)
        notes = {True: _("Added"), False: _("Removed"), None: _("That topic no longer exists")}
        note = notes[now_selected]
    elif isinstance(pressed, TopicsClear):
        await store.run(clear_topics, reader.chat_id)
        note = _("Cleared: you get every story")
    await query.answer(note)
    updated = await store.run(get_reader, reader.chat_id)
    if updated is None:
        return
    topics = await store.run(all_topics)
    await show(update, topics_screen(updated, topics, pressed.page))
