"""/topics: an inline keyboard of every known topic; taps toggle and edit it in place."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Message, Update

from bot.chat.replies import answer, answer_stale, edit
from bot.chat.target import editing
from bot.context import BotContext
from digest.callbacks import (
    TOPIC_BUTTONS,
    TopicsClear,
    TopicsDone,
    TopicsPage,
    TopicToggle,
    decode_any,
)
from digest.html import escape
from digest.keyboard import Button, Keyboard
from storage.readers import get_reader
from storage.topics import Topic, all_topics, clear_topics, toggle_topic

_LOGGER = logging.getLogger(__name__)
PAGE_SIZE = 10  # two columns of five: fits a phone screen
LABEL_CHARS = 30
SELECTED = "✅ "


def _label(topic: Topic, selected: bool) -> str:
    name = topic.name if len(topic.name) <= LABEL_CHARS else topic.name[: LABEL_CHARS - 1] + "…"
    return (SELECTED if selected else "") + name


def topics_view(
    topics: Sequence[Topic], selected: frozenset[int], page: int
) -> tuple[str, Keyboard]:
    """The message text and keyboard for one page. Callback data carries ids, not names."""
    pages = max(1, -(-len(topics) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    chosen = [t.name for t in topics if t.id in selected]
    if not topics:
        text = "No topics yet: no articles have been stored. Try again later."
    else:
        summary = ", ".join(escape(n) for n in chosen) if chosen else "none — you get everything"
        text = (
            "<b>Pick your topics</b>\nTap to select or unselect. With none selected you get "
            f"every story.\n\nSelected: {summary}"
        )
    shown = topics[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    rows: list[tuple[Button, ...]] = [
        tuple(TopicToggle(t.id, page).button(_label(t, t.id in selected)) for t in shown[i : i + 2])
        for i in range(0, len(shown), 2)
    ]
    if pages > 1:
        rows.append(
            (
                TopicsPage((page - 1) % pages).button("◀"),
                TopicsPage(page).button(f"{page + 1}/{pages}"),
                TopicsPage((page + 1) % pages).button("▶"),
            )
        )
    footer = (TopicsDone().button("Done"),)
    rows.append((TopicsClear(page).button("Clear all"), *footer) if chosen else footer)
    return text, tuple(rows)


async def cmd_topics(update: Update, context: BotContext) -> None:
    """Show the topic picker."""
    reader = await editing(update, context)
    if reader is None:
        return
    topics = await context.services.db.run(all_topics)
    text, markup = topics_view(topics, reader.topic_ids, 0)
    await answer(update, text, markup)


async def on_topics_button(update: Update, context: BotContext) -> None:
    """tp:<page> page, tt:<topic id>:<page> toggle, tx:<page> clear, td done."""
    query = update.callback_query
    if query is None:
        return
    pressed = decode_any(query.data, TOPIC_BUTTONS)
    if pressed is None:
        await answer_stale(query)
        return
    store = context.services.db
    reader = await editing(update, context)
    if reader is None:
        return
    note = None
    page = 0
    if isinstance(pressed, TopicToggle):
        page = pressed.page
        # toggle_topic checks the id against the topics table in its transaction.
        now_selected = await store.run(toggle_topic, reader.chat_id, pressed.topic_id)
        _LOGGER.info("reader %s: topic %s -> %s", reader.chat_id, pressed.topic_id, now_selected)
        note = {True: "Added", False: "Removed", None: "That topic no longer exists"}[now_selected]
    elif isinstance(pressed, TopicsClear):
        page = pressed.page
        await store.run(clear_topics, reader.chat_id)
        note = "Cleared: you get every story"
    elif isinstance(pressed, TopicsPage):
        page = pressed.page
    elif isinstance(pressed, TopicsDone):
        await query.answer()
        reader = await store.run(get_reader, reader.chat_id)
        topics = await store.run(all_topics)
        names = [t.name for t in topics if reader and t.id in reader.topic_ids]
        chosen = ", ".join(escape(n) for n in names) or "everything (no topic chosen)"
        if isinstance(query.message, Message):
            await edit(query.message, f"Your topics: {chosen}\n\n/digest shows what is new.")
        return
    await query.answer(note)
    reader = await store.run(get_reader, reader.chat_id)
    topics = await store.run(all_topics)
    text, keyboard = topics_view(topics, reader.topic_ids if reader else frozenset(), page)
    message = query.message
    if isinstance(message, Message):
        await edit(message, text, keyboard)
    else:
        await answer(update, text, keyboard)
