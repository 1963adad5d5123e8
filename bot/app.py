"""Wiring only: build the Application, register handlers in order, start and stop services."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.chat import breaking, digests, membership, readers, related, stats, topics
from bot.chat.replies import answer_stale
from bot.context import BotContext, Services
from bot.db_thread import DbThread
from bot.delivery.pool_cache import PoolCache
from bot.delivery.push_progress import PushProgress
from bot.delivery.ratelimit import PriorityRateLimiter
from bot.delivery.sender import SENDER_CONCURRENCY, OutboxSender
from bot.delivery.transport import AiohttpRequest
from bot.errors import on_error
from bot.jobs import DIGEST_TICK_SECONDS, job_digest_tick, job_scan
from bot.service.api_watch import ApiWatch, WatchedRequest
from bot.settings import Settings
from digest.callbacks import TOPIC_BUTTONS, DigestMore, PushButton, RelatedStory, matcher
from storage.db import utcnow

_LOGGER = logging.getLogger(__name__)

READER_COMMANDS = [
    BotCommand("start", "Subscribe to the daily digest"),
    BotCommand("topics", "Choose your topics"),
    BotCommand("digest", "What is new for you, now"),
    BotCommand("related", "Other coverage of a story: /related <link or words>"),
    BotCommand("time", "When your digest comes: /time HH:MM"),
    BotCommand("timezone", "Your time zone: /timezone Area/City"),
    BotCommand("settings", "Your topics, time and zone"),
    BotCommand("stop", "Unsubscribe"),
    BotCommand("help", "What I can do"),
]
ADMIN_COMMANDS = [
    BotCommand("breaking", "Push an item now: /breaking <link or text>"),
    BotCommand("stats", "Readers, articles, outbox, last scan"),
]
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]

App = Application[Any, BotContext, Any, Any, Any, Any]


def build_application(
    settings: Settings,
    *,
    digest_tick: float = DIGEST_TICK_SECONDS,
    clock: Callable[[], datetime] = utcnow,
    watch: ApiWatch | None = None,
) -> App:
    """The bot, ready for ``run_polling``. ``digest_tick``: seconds between schedule checks;
    ``clock``: "now" for the digest schedule, the folder scan and the sender's retries;
    ``watch``: told of every Bot API answer (health, metrics)."""
    token = settings.require_token()
    limiter = PriorityRateLimiter(settings.rate)
    # Room for the sender's requests in flight plus the handlers' answers.
    requests = (
        AiohttpRequest(pool_size=SENDER_CONCURRENCY + 32),
        AiohttpRequest(pool_size=2, read_timeout=40.0),
    )
    watched = requests if watch is None else tuple(WatchedRequest(r, watch) for r in requests)
    application: App = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{settings.api_url}/bot")
        .base_file_url(f"{settings.api_url}/file/bot")
        .request(watched[0])
        .get_updates_request(watched[1])
        .rate_limiter(limiter)
        .context_types(ContextTypes(context=BotContext))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data["settings"] = settings
    application.bot_data["digest_tick"] = digest_tick
    application.bot_data["clock"] = clock
    application.bot_data["requests"] = requests
    register_handlers(application)
    return application


def register_handlers(application: App) -> None:
    """Every handler, in the order they are tried."""
    private = filters.ChatType.PRIVATE
    # 1. Reader commands (private chats).
    for name, callback in [
        ("start", readers.cmd_start),
        ("stop", readers.cmd_stop),
        ("help", readers.cmd_help),
        ("settings", readers.cmd_settings),
        ("time", readers.cmd_time),
        ("timezone", readers.cmd_timezone),
        ("topics", topics.cmd_topics),
        ("digest", digests.cmd_digest),
        ("related", related.cmd_related),
        # 2. Admin commands: every handler checks the sender against NEWSDIGEST_ADMINS.
        ("breaking", breaking.cmd_breaking),
        ("stats", stats.cmd_stats),
    ]:
        application.add_handler(CommandHandler(name, callback, filters=private))
    # 3. Buttons, by callback-data format (digest.callbacks): data no format accepts,
    #    forged or from an old keyboard, falls through to the catch-all.
    for callback, pattern in [
        (topics.on_topics_button, matcher(*TOPIC_BUTTONS)),
        (related.on_related_button, matcher(RelatedStory)),
        (digests.on_more_button, matcher(DigestMore)),
        (breaking.on_push_button, matcher(PushButton)),
    ]:
        application.add_handler(CallbackQueryHandler(callback, pattern=pattern))
    application.add_handler(CallbackQueryHandler(_on_stale_button))
    # 4. Blocked / unblocked.
    application.add_handler(
        ChatMemberHandler(membership.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    # 5. Anything else in a private chat gets a pointer to /help.
    application.add_handler(
        MessageHandler(private & (filters.COMMAND | filters.TEXT), readers.on_unknown)
    )
    application.add_error_handler(on_error)


async def _on_stale_button(update: Update, context: BotContext) -> None:
    """Every callback query is answered, even one from a keyboard we no longer know."""
    if update.callback_query is not None:
        await answer_stale(update.callback_query)


async def _post_init(application: App) -> None:
    settings: Settings = application.bot_data["settings"]
    clock: Callable[[], datetime] = application.bot_data["clock"]
    store = DbThread(settings.db_path, name="main")
    background = DbThread(settings.db_path, name="background", migrate=False)
    await store.open()  # applies migrations once, before the second connection opens
    await background.open()
    pools = PoolCache(settings.db_path)
    await pools.open()
    sender = OutboxSender(
        application.bot,
        store,
        concurrency=SENDER_CONCURRENCY,
        on_recorded=PushProgress(application),
        clock=clock,
    )
    application.bot_data["services"] = Services(
        settings=settings,
        db=store,
        background=background,
        sender=sender,
        clock=clock,
        pools=pools,
    )
    sender.start()
    await _register_commands(application, settings)
    jobs = application.job_queue
    assert jobs is not None, "python-telegram-bot[job-queue] is required"
    # A repeating job whose first run is "now" is skipped by APScheduler when added before
    # the scheduler starts: scan once at start explicitly, then every interval.
    jobs.run_once(job_scan, when=0.0, name="scan-at-start", job_kwargs={"misfire_grace_time": None})
    jobs.run_repeating(
        job_scan, interval=settings.scan_interval, first=settings.scan_interval, name="scan"
    )
    tick = application.bot_data["digest_tick"]
    jobs.run_repeating(job_digest_tick, interval=tick, first=min(1.0, tick), name="digest-tick")
    _LOGGER.info("newsdigest started: %r", settings)


async def _register_commands(application: App, settings: Settings) -> None:
    """The command menu; admins get theirs in their own chats. Failure is not fatal."""
    bot = application.bot
    try:
        await bot.set_my_commands(READER_COMMANDS, scope=BotCommandScopeAllPrivateChats())
        for admin_id in settings.admins:
            try:
                await bot.set_my_commands(
                    READER_COMMANDS + ADMIN_COMMANDS, scope=BotCommandScopeChat(admin_id)
                )
            except TelegramError as exc:
                _LOGGER.warning("admin %s command menu not set: %s", admin_id, exc.message)
    except TelegramError as exc:
        _LOGGER.warning("command menu not registered: %s", exc.message)


async def _post_shutdown(application: App) -> None:
    services = application.bot_data.get("services")
    if not isinstance(services, Services):
        return
    await services.sender.stop()
    if services.pools is not None:
        await services.pools.close()
    await services.background.close()
    await services.db.close()
    _LOGGER.info("newsdigest stopped")
