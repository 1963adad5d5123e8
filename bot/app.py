"""Wiring only: build the Application, register handlers in order, start and stop services."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.chat import (
    breaking,
    cadence,
    channels,
    digests,
    following,
    groups,
    inline,
    keywords,
    language,
    membership,
    prompts,
    quiet,
    readers,
    related,
    settings_menu,
    shape,
    sources,
    stats,
    stories,
    topics,
    votes,
    zones,
)
from bot.chat.replies import answer_stale
from bot.command_menus import register_commands
from bot.context import BotContext, Services, inline_cache
from bot.db_thread import DbThread
from bot.delivery.pool_cache import PoolCache
from bot.delivery.push_progress import PushProgress
from bot.delivery.ratelimit import PriorityRateLimiter
from bot.delivery.sender import OutboxSender
from bot.delivery.transport import AiohttpRequest
from bot.delivery.window import MAX_UNITS
from bot.errors import on_error
from bot.jobs import DIGEST_TICK_SECONDS, job_digest_tick, job_scan
from bot.lifecycle import NewsdigestApplication, on_token_revoked
from bot.service.api_watch import ApiWatch, WatchedRequest
from bot.settings import Settings
from digest.callbacks import (
    ChannelButton,
    ChannelsAdd,
    DigestMore,
    FollowingUnfollow,
    FollowStory,
    LanguagePick,
    PushButton,
    RelatedStory,
    StoryBack,
    StoryOpen,
    StoryVote,
    StoryWhy,
    matcher,
)
from digest.settings_callbacks import (
    CADENCE_BUTTONS,
    KEYWORD_BUTTONS,
    MUTE_BUTTONS,
    QUIET_BUTTONS,
    SHAPE_BUTTONS,
    ZONE_BUTTONS,
    PromptButton,
    SettingsHome,
    SettingsOpen,
    SourceUnmute,
    TopicsClear,
    TopicsDone,
    TopicsPage,
    TopicToggle,
)
from storage.db import utcnow

_LOGGER = logging.getLogger(__name__)

ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
    Update.INLINE_QUERY,
]

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
    paid_rate = settings.broadcast_rate if settings.paid_broadcast else None
    limiter = PriorityRateLimiter(settings.rate, paid_rate=paid_rate)
    # Room for the sender's in-flight windows plus the handlers' answers. getUpdates: PTB
    # adds the long poll's timeout to this read timeout; kept short so a stop against a
    # hung server is not held up by the last poll.
    windows = 2 if paid_rate else 1
    requests = (
        AiohttpRequest(pool_size=windows * MAX_UNITS + 32, proxy=settings.proxy),
        AiohttpRequest(pool_size=2, read_timeout=5.0, proxy=settings.proxy),
    )
    watched = requests if watch is None else tuple(WatchedRequest(r, watch) for r in requests)
    application: App = (
        ApplicationBuilder()
        .application_class(NewsdigestApplication)
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
    shared = private | filters.ChatType.GROUPS
    # 0. Before any other handler: the language of this update (bot.chat.language).
    application.add_handler(TypeHandler(Update, language.set_update_language), group=-1)
    # 1. Reader commands, in private chats and groups (bot.chat.target decides who may change
    #    what: a group's administrators). "/start@otherbot" is for another bot: not matched.
    for name, callback in [
        ("start", readers.cmd_start),
        ("stop", readers.cmd_stop),
        ("help", readers.cmd_help),
        ("settings", settings_menu.cmd_settings),
        ("time", cadence.cmd_time),
        ("timezone", zones.cmd_timezone),
        ("include", keywords.cmd_include),
        ("exclude", keywords.cmd_exclude),
        ("keywords", keywords.cmd_keywords),
        ("sources", sources.cmd_sources),
        ("quiet", quiet.cmd_quiet),
        ("pause", cadence.cmd_pause),
        ("resume", cadence.cmd_resume),
        ("topics", topics.cmd_topics),
        ("digest", digests.cmd_digest),
        ("related", related.cmd_related),
        ("following", following.cmd_following),
        ("language", language.cmd_language),
    ]:
        application.add_handler(CommandHandler(name, callback, filters=shared))
    for name, callback in [
        # 2. Admin commands: every handler checks the sender against NEWSDIGEST_ADMINS.
        ("breaking", breaking.cmd_breaking),
        ("stats", stats.cmd_stats),
        # 2b. Channels are managed from a private chat.
        ("channels", channels.cmd_channels),
    ]:
        application.add_handler(CommandHandler(name, callback, filters=private))
    # 3. Buttons, by callback-data format (digest.callbacks): data no format accepts,
    #    forged or from an old keyboard, falls through to the catch-all.
    for callback, pattern in [
        (topics.on_topics_button, matcher(TopicToggle, TopicsPage, TopicsClear)),
        (related.on_related_button, matcher(RelatedStory)),  # old digests' 🔗 buttons
        (following.on_follow_button, matcher(FollowStory)),
        (following.on_following_button, matcher(FollowingUnfollow)),
        # Story cards (issue 12): open in place, back to the digest, why, votes.
        (stories.on_story_open, matcher(StoryOpen)),
        (stories.on_story_back, matcher(StoryBack)),
        (stories.on_story_why, matcher(StoryWhy)),
        (votes.on_vote_button, matcher(StoryVote)),
        (digests.on_more_button, matcher(DigestMore)),
        (breaking.on_push_button, matcher(PushButton)),
        (channels.on_add_button, matcher(ChannelsAdd)),
        (language.on_language_button, matcher(LanguagePick)),
        # Settings: every format names the subscription it shows or changes (its chat id).
        (sources.on_mute_button, matcher(*MUTE_BUTTONS)),
        (settings_menu.on_settings_button, matcher(SettingsHome, SettingsOpen, TopicsDone)),
        (settings_menu.on_settings_button, matcher(ChannelButton)),
        (prompts.on_prompt_button, matcher(PromptButton)),
        (keywords.on_keyword_button, matcher(*KEYWORD_BUTTONS)),
        (sources.on_unmute_button, matcher(SourceUnmute)),
        (cadence.on_cadence_button, matcher(*CADENCE_BUTTONS)),
        (zones.on_zone_button, matcher(*ZONE_BUTTONS)),
        (quiet.on_quiet_button, matcher(*QUIET_BUTTONS)),
        (shape.on_shape_button, matcher(*SHAPE_BUTTONS)),
    ]:
        application.add_handler(CallbackQueryHandler(callback, pattern=pattern))
    application.add_handler(CallbackQueryHandler(_on_stale_button))
    # 3b. Inline mode: "@<botname> words" in any chat (on once /setinline is done).
    application.add_handler(InlineQueryHandler(inline.on_inline_query))
    # 4. Blocked / unblocked; removed from, demoted in, or added to a group or channel; a
    #    group upgraded to a supergroup.
    application.add_handler(
        ChatMemberHandler(membership.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, groups.on_migrate))
    # 5. Adding a channel in a private chat: the chat picker's answer, a forwarded post, or
    #    a bare @username.
    for message_filter, callback in [
        (filters.StatusUpdate.CHAT_SHARED, channels.on_chat_shared),
        (filters.FORWARDED, channels.on_forwarded),
        (filters.Regex(f"^{channels.USERNAME.pattern}$"), channels.on_username),
    ]:
        application.add_handler(MessageHandler(private & message_filter, callback))
    # 6. A shared location sets the zone; plain text answers a pending prompt (a city, a
    #    keyword, a time), in a group only as a reply to the bot; anything else in a
    #    private chat gets a pointer to /help.
    application.add_handler(MessageHandler(private & filters.LOCATION, prompts.on_location))
    application.add_handler(MessageHandler(private & filters.COMMAND, readers.on_unknown))
    text = filters.TEXT & ~filters.COMMAND
    application.add_handler(MessageHandler(private & text, prompts.on_text))
    group_reply = filters.ChatType.GROUPS & filters.REPLY & text
    application.add_handler(MessageHandler(group_reply, prompts.on_text))
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
    pools = PoolCache(settings.db_path, max_age=settings.max_age)
    await pools.open()
    sender = OutboxSender(
        application.bot,
        store,
        on_recorded=PushProgress(application),
        clock=clock,
        on_fatal=lambda detail: on_token_revoked(application, detail),
        breaking_max_age=settings.breaking_max_age,
        paid_broadcast=settings.paid_broadcast,
    )
    application.bot_data["services"] = Services(
        settings=settings,
        db=store,
        background=background,
        sender=sender,
        clock=clock,
        pools=pools,
        inline=inline_cache(clock),
    )
    sender.start()
    await register_commands(application.bot, settings.admins)
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
    if not application.bot.supports_inline_queries:
        _LOGGER.info("inline mode is off for this bot: send /setinline to @BotFather to allow it")
    _LOGGER.info("newsdigest started: %r", settings)


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
