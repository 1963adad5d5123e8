"""How a settings screen is shown: edited in place from a button, sent from a command.

Every screen is ``(text, keyboard)`` built from a :class:`storage.readers.Reader` and ends
with a "◀ Back" row to the /settings home of the same subscription.
"""

from __future__ import annotations

from datetime import datetime

from telegram import Message, Update

from bot.chat.replies import answer, edit
from bot.chat.target import marked
from bot.i18n import N_, _, current_language
from digest.html import escape
from digest.keyboard import Button, Keyboard
from digest.settings_callbacks import SettingsHome
from digest.texts import moment_label
from storage.readers import Reader

Screen = tuple[str, Keyboard]
BACK = N_("◀ Back")


def back_row(chat: int) -> tuple[Button, ...]:
    return (SettingsHome(chat).button(_(BACK)),)


def heading(reader: Reader, title: str) -> str:
    """``<b>title</b>``, under "Settings for 📢 <name>" when it is a channel's screen
    (shown in a private chat among the reader's own: :func:`bot.chat.target.marked`)."""
    return marked(reader, f"<b>{escape(_(title))}</b>")


def rows(buttons: list[Button], per_row: int) -> list[tuple[Button, ...]]:
    return [tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def local_time(moment: datetime | None, reader: Reader) -> str:
    if moment is None:
        return "—"
    return moment_label(moment.astimezone(reader.zone), current_language.get())


async def show(update: Update, screen: Screen) -> None:
    """Edit the pressed button's message into ``screen``, or send it for a command."""
    text, keyboard = screen
    query = update.callback_query
    if query is not None and isinstance(query.message, Message):
        await edit(query.message, text, keyboard)
    else:
        await answer(update, text, keyboard)
