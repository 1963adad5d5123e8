"""The per-message send options an outbox row carries (issue 11), as Bot API arguments.

Kept out of the sender so its edit stays one line: quiet hours (``disable_notification``)
and a digest's link preview (``link_preview_options``).
"""

from __future__ import annotations

from typing import Any

from telegram import LinkPreviewOptions

from storage.outbox import QueuedMessage

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def send_options(message: QueuedMessage) -> dict[str, Any]:
    """``send_message`` keyword arguments for the row's options."""
    preview = (
        LinkPreviewOptions(url=message.link_preview_url) if message.link_preview_url else NO_PREVIEW
    )
    options: dict[str, Any] = {"link_preview_options": preview}
    if message.disable_notification:
        options["disable_notification"] = True
    return options
