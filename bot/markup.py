"""Our keyboards (:mod:`digest.keyboard`) as PTB's ``InlineKeyboardMarkup``: the one place."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from digest.keyboard import Keyboard


def inline_markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    """``None`` for no keyboard (an edit without one removes the old)."""
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.callback_data) for b in row]
            for row in keyboard
        ]
    )
