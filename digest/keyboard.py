"""Inline keyboards as plain values: what a message's buttons are, wherever it is built.

Layouts (:mod:`digest.render`), handlers and outbox rows all describe a keyboard as
rows of :class:`Button`; the Telegram side turns them into PTB objects in one place
(``bot.markup``) and storage into JSON in one place (``storage.outbox``).
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_CALLBACK_BYTES = 64  # Telegram's limit on a button's callback data (UTF-8 bytes)


@dataclass(frozen=True, slots=True)
class Button:
    """An inline-keyboard button; Telegram allows 1-64 bytes of callback data.

    ``callback_data`` is already encoded: build it with a :mod:`digest.callbacks` value,
    e.g. ``RelatedStory(7).button("🔗 1")``.
    """

    label: str
    callback_data: str

    def __post_init__(self) -> None:
        size = len(self.callback_data.encode("utf-8"))
        if not 1 <= size <= MAX_CALLBACK_BYTES:
            raise ValueError(f"callback_data must be 1-64 bytes of UTF-8, got {size}")


Keyboard = tuple[tuple[Button, ...], ...]  # rows of buttons; () is no keyboard
