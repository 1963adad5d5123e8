"""The digest's shape: how many entries, which link previews, in which order."""

from __future__ import annotations

from dataclasses import replace

from telegram import Update

from bot.chat.replies import answer_stale
from bot.chat.screens import Screen, back_row, heading, show
from bot.chat.target import editing, reading
from bot.context import BotContext
from bot.i18n import N_, _, ngettext
from digest.render import LinkPreviews
from digest.settings_callbacks import OrderWord, PreviewWord, ShapeOrder, ShapePreviews, ShapeSize
from storage.db import utcnow
from storage.reader_settings import set_shape
from storage.readers import DIGEST_SIZES, DigestOrder, Reader

PREVIEWS = {
    LinkPreviews.OFF: N_("off"),
    LinkPreviews.FIRST: N_("first entry"),
    LinkPreviews.ALL: N_("every entry"),
}
ORDERS = {DigestOrder.RANKED: N_("best first"), DigestOrder.NEWEST: N_("newest first")}
# The same orders as buttons (a capital, where the language writes one).
ORDER_BUTTONS = {DigestOrder.RANKED: N_("Best first"), DigestOrder.NEWEST: N_("Newest first")}


def shape_text(reader: Reader) -> str:
    shape = reader.shape
    return _("{entries}, {order}, link previews {previews}").format(
        entries=_entries(shape.size),
        order=_(ORDERS[shape.order]),
        previews=_(PREVIEWS[shape.previews]),
    )


def _entries(n: int) -> str:
    return ngettext("{n} entry", "{n} entries", n).format(n=n)


def shape_screen(update: Update, reader: Reader) -> Screen:
    chat, shape = reader.chat_id, reader.shape

    def mark(on: bool, label: str) -> str:
        return ("✅ " if on else "") + label

    now = _("Now: {shape}.").format(shape=shape_text(reader))
    title = heading(reader, N_("Digest shape"))
    text = f"{title}\n{now}\n" + _("Every entry's preview means one message per entry.")
    keyboard = (
        tuple(ShapeSize(chat, n).button(mark(shape.size == n, _entries(n))) for n in DIGEST_SIZES),
        tuple(
            ShapePreviews(chat, PreviewWord(p.value)).button(
                mark(shape.previews is p, _("Previews: {label}").format(label=_(label)))
            )
            for p, label in PREVIEWS.items()
        ),
        tuple(
            ShapeOrder(chat, OrderWord(o.value)).button(mark(shape.order is o, _(label)))
            for o, label in ORDER_BUTTONS.items()
        ),
        back_row(chat),
    )
    return text, keyboard


async def open_shape(update: Update, context: BotContext, chat_id: int | None = None) -> None:
    reader = await reading(update, context, chat_id)
    if reader is not None:
        await show(update, shape_screen(update, reader))


async def on_shape_button(update: Update, context: BotContext) -> None:
    """sz:<chat>:<5|10|20>, lp:<chat>:<off|first|all>, od:<chat>:<ranked|newest>."""
    query = update.callback_query
    if query is None:
        return
    data = query.data
    pressed = ShapeSize.decode(data) or ShapePreviews.decode(data) or ShapeOrder.decode(data)
    if pressed is None or (isinstance(pressed, ShapeSize) and pressed.entries not in DIGEST_SIZES):
        await answer_stale(query)
        return
    reader = await editing(update, context, pressed.chat_id)
    if reader is None:
        return
    shape = reader.shape
    if isinstance(pressed, ShapeSize):
        shape = replace(shape, size=pressed.entries)
    elif isinstance(pressed, ShapePreviews):
        shape = replace(shape, previews=LinkPreviews(pressed.previews.value))
    else:
        shape = replace(shape, order=DigestOrder(pressed.order.value))
    updated = await context.services.db.run(set_shape, reader.chat_id, shape, utcnow())
    await query.answer(shape_text(updated))
    await show(update, shape_screen(update, updated))
