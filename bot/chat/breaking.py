"""/breaking: an admin previews a push, then confirms (Send) or cancels it."""

from __future__ import annotations

import logging

from telegram import Message, Update

from bot.chat.replies import NOT_ALLOWED, answer, answer_stale, edit, is_admin
from bot.context import BotContext
from bot.delivery.push_queue import confirm_push, draft_push
from bot.i18n import _, ngettext
from digest.callbacks import PushButton, PushVerb
from storage.pushes import cancel_push, get_push, set_preview_message

_LOGGER = logging.getLogger(__name__)


async def cmd_breaking(update: Update, context: BotContext) -> None:
    """/breaking <webUrl | text>: preview what readers get, with Send and Cancel."""
    if not is_admin(update, context):
        _LOGGER.info(
            "user %s refused /breaking", update.effective_user and update.effective_user.id
        )
        await answer(update, _(NOT_ALLOWED))
        return
    message = update.effective_message
    words = ((message.text or "") if message else "").split(maxsplit=1)
    target = words[1].strip() if len(words) > 1 else ""  # keeps the text's own line breaks
    if not target:
        await answer(
            update,
            _(
                "Usage: <code>/breaking https://stored.example/article</code> pushes a stored "
                "article to the readers of its topics; <code>/breaking some text with links"
                "</code> pushes the text to every reader. You get a preview first."
            ),
        )
        return
    user = update.effective_user
    draft = await context.services.background.run(
        draft_push, target, user.id if user else None, context.settings.timezone
    )
    await answer(update, draft.text)
    who = (
        _("readers of this article's topics: <b>{count}</b>")
        if draft.article_title is not None
        else _("every active reader: <b>{count}</b>")
    ).format(count=draft.audience)
    keyboard = (
        (
            PushButton(PushVerb.SEND, draft.push_id).button(_("Send")),
            PushButton(PushVerb.CANCEL, draft.push_id).button(_("Cancel")),
        ),
    )
    question = _("Preview above. Audience — {who}.\nSend it now?").format(who=who)
    sent = await answer(update, question, keyboard)
    if sent is not None:
        await context.services.db.run(
            set_preview_message, draft.push_id, sent.chat_id, sent.message_id
        )


async def on_push_button(update: Update, context: BotContext) -> None:
    """push:send:<id> / push:cancel:<id> under a preview."""
    query = update.callback_query
    if query is None:
        return
    if not is_admin(update, context):
        await query.answer(_(NOT_ALLOWED), show_alert=True)
        return
    pressed = PushButton.decode(query.data)
    if pressed is None or await context.services.db.run(get_push, pressed.push_id) is None:
        await answer_stale(query)
        return
    push_id = pressed.push_id
    message = query.message if isinstance(query.message, Message) else None
    if pressed.verb == PushVerb.CANCEL:
        cancelled = await context.services.db.run(cancel_push, push_id)
        await query.answer(_("Cancelled") if cancelled else _("Already sent or cancelled"))
        if cancelled and message is not None:
            await edit(message, _("Cancelled: nothing was sent."))
        return
    queued = await context.services.background.run(confirm_push, push_id, context.settings.timezone)
    if queued is None:
        await query.answer(_("Already sent or cancelled"))
        return
    await query.answer(
        ngettext("Sending to {count} reader", "Sending to {count} readers", queued).format(
            count=queued
        )
    )
    _LOGGER.info("push %s confirmed by %s: %d readers", push_id, query.from_user.id, queued)
    if message is not None:
        # Edit before waking the sender, so its progress edits always come after this one.
        text = (
            ngettext("Sending to {count} reader…", "Sending to {count} readers…", queued).format(
                count=queued
            )
            if queued
            else _("Done: no reader to send to.")
        )
        await edit(message, text)
    context.services.sender.wake()
