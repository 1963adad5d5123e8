"""/topics: an inline keyboard of every known topic; taps toggle and edit it in place."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Message, Update

from bot.chat.replies import answer, answer_stale, edit
from bot.chat.screens import show
from bot.chat.target import editing, reading
from bot.context import BotContext
from digest.callbacks import (
    TOPIC_BUTTONS,
    ChatTopicsClear,
    ChatTopicsPage,
    ChatTopicToggle,
    SettingsHome,
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
    topics: Sequence[Topic], selected: frozenset[int], page: int, chat: int | None = None
) -> tuple[str, Keyboard]:
    """The message text and keyboard for one page. Callback data carries ids, not names;
    with ``chat`` (from /settings) also the subscription's chat id, and Done is Back."""
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

    def toggle(topic_id: int) -> ChatTopicToggle | TopicToggle:
        return (
            ChatTopicToggle(chat, topic_id, page)
            if chat is not None
            else TopicToggle(topic_id, page)
        )

    def goto(n: int) -> ChatTopicsPage | TopicsPage:
        return ChatTopicsPage(chat, n) if chat is not None else TopicsPage(n)

    rows: list[tuple[Button, ...]] = [
        tuple(toggle(t.id).button(_label(t, t.id in selected)) for t in shown[i : i + 2])
        for i in range(0, len(shown), 2)
    ]
    if pages > 1:
        rows.append(
            (
                goto((page - 1) % pages).button("◀"),
                goto(page).button(f"{page + 1}/{pages}"),
                goto((page + 1) % pages).button("▶"),
            )
        )
    if chat is not None:
        footer = (SettingsHome(chat).button("◀ Back"),)
        clear: Button = ChatTopicsClear(chat, page).button("Clear all")
    else:
        footer = (TopicsDone().button("Done"),)
        clear = TopicsClear(page).button("Clear all")
    rows.append((clear, *footer) if chosen else footer)
    return text, tuple(rows)


async def cmd_topics(update: Update, context: BotContext) -> None:
    """Show the topic picker."""
    reader = await editing(update, context)
    if reader is None:
        return
    topics = await context.services.db.run(all_topics)
    text, markup = topics_view(topics, reader.topic_ids, 0)
    await answer(update, text, markup)


async def open_topics(update: Update, context: BotContext, chat_id: int | None = None) -> None:
    """The picker as a /settings screen (buttons name the subscription, Back goes home)."""
    reader = await reading(update, context, chat_id)
    if reader is None:
        return
    topics = await context.services.db.run(all_topics)
    await show(update, topics_view(topics, reader.topic_ids, 0, reader.chat_id))


async def on_topics_button(update: Update, context: BotContext) -> None:
    """tp:<page> page, tt:<topic id>:<page> toggle, tx:<page> clear, td done; from
    /settings tc:<chat>:<topic id>:<page>, tg:<chat>:<page>, tk:<chat>:<page>."""
    query = update.callback_query
    if query is None:
        return
    pressed = decode_any(query.data, TOPIC_BUTTONS)
    if pressed is None:
        await answer_stale(query)
        return
    store = context.services.db
    chat = getattr(pressed, "chat", None)
    reader = await editing(update, context, chat)
    if reader is None:
        return
    if isinstance(pressed, ChatTopicToggle):
        pressed = TopicToggle(pressed.topic_id, pressed.page)
    elif isinstance(pressed, ChatTopicsPage):
        pressed = TopicsPage(pressed.page)
    elif isinstance(pressed, ChatTopicsClear):
        pressed = TopicsClear(pressed.page)
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
    text, keyboard = topics_view(topics, reader.topic_ids if reader else frozenset(), page, chat)
    message = query.message
    if isinstance(message, Message):
        await edit(message, text, keyboard)
    else:
        await answer(update, text, keyboard)
