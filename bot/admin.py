"""Admin commands: /breaking with preview and confirmation, /stats, push progress."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlite_utils import Database
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application

from bot.context import BotContext, Services
from bot.replies import answer, edit
from digest.render import escape, render_breaking, render_breaking_text
from digest.urls import is_http_url
from storage.db import from_db_time, utcnow
from storage.outbox import RecordSummary, push_counts
from storage.pushes import (
    cancel_push,
    create_push,
    get_push,
    set_preview_message,
    start_push,
)
from storage.search import article_by_id, article_by_url
from storage.stats import gather_stats

_LOGGER = logging.getLogger(__name__)
NOT_ALLOWED = "Sorry, not allowed: this command is for the newsroom's admins."
PROGRESS_EVERY = 2.0  # seconds between progress edits of one push


def is_admin(update: Update, context: BotContext) -> bool:
    user = update.effective_user
    return user is not None and user.id in context.settings.admins


@dataclass(frozen=True, slots=True)
class PushDraft:
    push_id: int
    text: str
    audience: int
    article_title: str | None


def draft_push(db: Database, target: str, created_by: int | None, zone: ZoneInfo) -> PushDraft:
    """A stored article's link → an article push to its topics; anything else → free text."""
    now = utcnow()
    article = article_by_url(db, target) if is_http_url(target) else None
    if article is not None:
        text = render_breaking(article, tz=zone)
        push = create_push(
            db,
            created_by=created_by,
            article_id=article.id,
            text=text,
            topic_ids=article.topic_ids,
            now=now,
        )
        return PushDraft(push.id, text, push.audience, article.title)
    text = "🔴 <b>Breaking</b>\n\n" + render_breaking_text(target)
    if len(text) > 4096:
        text = render_breaking_text(target)
    push = create_push(
        db, created_by=created_by, article_id=None, text=text, topic_ids=None, now=now
    )
    return PushDraft(push.id, text, push.audience, None)


def confirm_push(db: Database, push_id: int) -> int | None:
    push = get_push(db, push_id)
    if push is None:
        return None
    topic_ids = None
    if push.article_id is not None:
        article = article_by_id(db, push.article_id)
        topic_ids = article.topic_ids if article is not None else frozenset()
    return start_push(db, push_id, topic_ids, utcnow())


async def cmd_breaking(update: Update, context: BotContext) -> None:
    """/breaking <webUrl | text>: preview what readers get, with Send and Cancel."""
    if not is_admin(update, context):
        _LOGGER.info(
            "user %s refused /breaking", update.effective_user and update.effective_user.id
        )
        await answer(update, NOT_ALLOWED)
        return
    message = update.effective_message
    words = ((message.text or "") if message else "").split(maxsplit=1)
    target = words[1].strip() if len(words) > 1 else ""  # keeps the text's own line breaks
    if not target:
        await answer(
            update,
            "Usage: <code>/breaking https://stored.example/article</code> pushes a stored "
            "article to the readers of its topics; <code>/breaking some text with links"
            "</code> pushes the text to every reader. You get a preview first.",
        )
        return
    user = update.effective_user
    draft = await context.services.background.run(
        draft_push, target, user.id if user else None, ZoneInfo(context.settings.timezone)
    )
    await answer(update, draft.text)
    who = (
        f"readers of this article's topics: <b>{draft.audience}</b>"
        if draft.article_title is not None
        else f"every active reader: <b>{draft.audience}</b>"
    )
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Send", callback_data=f"push:send:{draft.push_id}"),
                InlineKeyboardButton("Cancel", callback_data=f"push:cancel:{draft.push_id}"),
            ]
        ]
    )
    sent = await answer(update, f"Preview above. Audience — {who}.\nSend it now?", markup)
    if sent is not None:
        await context.services.store.run(
            set_preview_message, draft.push_id, sent.chat_id, sent.message_id
        )


async def on_push_button(update: Update, context: BotContext) -> None:
    """push:send:<id> / push:cancel:<id> under a preview."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    if not is_admin(update, context):
        await query.answer(NOT_ALLOWED, show_alert=True)
        return
    parts = query.data.split(":")
    if len(parts) != 3 or not parts[2].isdigit():
        await query.answer("Unknown button.")
        return
    action, push_id = parts[1], int(parts[2])
    message = query.message if isinstance(query.message, Message) else None
    if action == "cancel":
        cancelled = await context.services.store.run(cancel_push, push_id)
        await query.answer("Cancelled" if cancelled else "Already sent or cancelled")
        if cancelled and message is not None:
            await edit(message, "Cancelled: nothing was sent.", None)
        return
    if action != "send":
        await query.answer("Unknown button.")
        return
    queued = await context.services.background.run(confirm_push, push_id)
    if queued is None:
        await query.answer("Already sent or cancelled")
        return
    await query.answer(f"Sending to {queued} readers")
    _LOGGER.info("push %s confirmed by %s: %d readers", push_id, query.from_user.id, queued)
    if message is not None:
        # Edit before waking the sender, so its progress edits always come after this one.
        text = f"Sending to {queued} readers…" if queued else "Done: no reader to send to."
        await edit(message, text, None)
    context.services.sender.wake()


def progress_text(counts: dict[str, int], audience: int) -> str:
    sent, failed, dropped, pending = (
        counts["sent"],
        counts["failed"],
        counts["dropped"],
        counts["pending"],
    )
    if pending:
        return f"Sending: {sent} sent, {failed + dropped} failed, {pending} pending of {audience}."
    return f"Done: {sent} sent, {failed + dropped} failed (of {audience})."


class PushProgress:
    """Edits each push's preview message as its messages are recorded (throttled)."""

    def __init__(self, application: Application) -> None:  # type: ignore[type-arg]
        self._application = application
        self._last_edit: dict[int, float] = {}
        self._last_text: dict[int, str] = {}

    async def __call__(self, summary: RecordSummary) -> None:
        services: Services = self._application.bot_data["services"]
        for push_id in summary.pushes_touched:
            finished = push_id in summary.pushes_finished
            now = time.monotonic()
            # Results are recorded many times a second during a big push: count (a scan of
            # the push's rows) only when an edit is due.
            if not finished and now - self._last_edit.get(push_id, 0.0) < PROGRESS_EVERY:
                continue
            push = await services.store.run(get_push, push_id)
            if push is None or push.preview_message_id is None or push.preview_chat_id is None:
                continue
            counts = await services.store.run(push_counts, push_id)
            text = progress_text(counts, push.audience)
            if self._last_text.get(push_id) == text:
                continue
            self._last_edit[push_id] = now
            self._last_text[push_id] = text
            try:
                await self._application.bot.edit_message_text(
                    text,
                    chat_id=push.preview_chat_id,
                    message_id=push.preview_message_id,
                    parse_mode=ParseMode.HTML,
                )
            except TelegramError as exc:
                _LOGGER.info("push %s: progress edit skipped (%s)", push_id, exc.message)


async def cmd_stats(update: Update, context: BotContext) -> None:
    """Readers, articles, rejected files, outbox and schedule at a glance."""
    if not is_admin(update, context):
        await answer(update, NOT_ALLOWED)
        return
    stats = await context.services.store.run(gather_stats)
    zone = ZoneInfo(context.settings.timezone)

    def local(text: str | None) -> str:
        return "never" if not text else f"{from_db_time(text).astimezone(zone):%d %b %H:%M:%S}"

    lines = [
        "<b>newsdigest stats</b>",
        f"Readers: {stats.readers.active} active, {stats.readers.stopped} stopped, "
        f"{stats.readers.blocked} blocked",
        f"Articles: {stats.articles} · topics: {stats.topics}",
        f"Files rejected: {stats.rejected_files}",
    ]
    lines += [
        f"  • {escape(r.path[-80:])}: {escape(r.reason[:120])}" for r in stats.recent_rejections
    ]
    outbox = stats.outbox
    lines += [
        f"Outbox: {outbox['pending']} pending, {outbox['sent']} sent, "
        f"{outbox['failed']} failed, {outbox['dropped']} dropped",
        f"Last folder scan: {local(stats.last_scan_at)}",
        "Next digests: "
        + (
            ", ".join(
                f"{chat} at {at.astimezone(zone):%d %b %H:%M}" for chat, at in stats.next_digests
            )
            or "none"
        ),
    ]
    await answer(update, "\n".join(lines))
