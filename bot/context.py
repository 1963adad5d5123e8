"""The services every handler and job reaches through its typed context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.chat.rights import MemberCache
from bot.db_thread import DbThread
from bot.delivery.pool_cache import PoolCache
from bot.delivery.sender import OutboxSender
from bot.settings import Settings
from bot.ttl_cache import TtlCache
from bot.zone_finder import ZoneFinder
from digest.inline import CACHE_ENTRIES, CACHE_SECONDS, InlineStory
from storage.db import utcnow

InlineCache = TtlCache[str, tuple[InlineStory, ...]]


def inline_cache(clock: Callable[[], datetime] = utcnow) -> InlineCache:
    """Inline queries' stories, per normalised query, for a minute (``clock``: "now")."""
    return TtlCache(ttl=timedelta(seconds=CACHE_SECONDS), max_entries=CACHE_ENTRIES, clock=clock)


@dataclass
class Services:
    """Created once in ``post_init``, closed in ``post_shutdown``."""

    settings: Settings
    db: DbThread  # answers to readers and the sender
    background: DbThread  # folder scans and digest ticks, so they never delay an answer
    sender: OutboxSender
    error_reports: dict[int, float] = field(default_factory=dict)  # admin -> last report time
    # "Now" for the jobs and the sender (schedules, retry times); tests pass a clock they move.
    clock: Callable[[], datetime] = utcnow
    # Who administers which group or channel, as Telegram said within the last minute.
    members: MemberCache = field(default_factory=MemberCache)
    zone_finder: ZoneFinder = field(default_factory=ZoneFinder)  # a shared location, its zone
    # The kept digest pool for /digest (None: each /digest builds its own, as before).
    pools: PoolCache | None = None
    # Inline mode's stories per query (bot.chat.inline); post_init gives it the clock.
    inline: InlineCache = field(default_factory=inline_cache)


@dataclass(frozen=True, slots=True)
class ExitRequest:
    """Why the running bot stopped itself, and the exit code ``newsdigest run`` returns."""

    code: int
    reason: str


def request_exit(
    application: Application[Any, Any, Any, Any, Any, Any], code: int, reason: str
) -> None:
    """Stop the running bot (as a signal would) and make ``newsdigest run`` exit with ``code``.

    The first request wins: a later one (a consequence of the first) does not replace it.
    """
    application.bot_data.setdefault("exit_request", ExitRequest(code, reason))
    application.stop_running()


def exit_request(application: Application[Any, Any, Any, Any, Any, Any]) -> ExitRequest | None:
    found = application.bot_data.get("exit_request")
    return found if isinstance(found, ExitRequest) else None


class BotContext(CallbackContext[ExtBot[int], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """``context.services`` instead of string lookups in ``bot_data`` everywhere."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    @property
    def services(self) -> Services:
        services = self.bot_data.get("services")
        if not isinstance(services, Services):
            raise RuntimeError("services are not initialised (post_init has not run)")
        return services

    @property
    def settings(self) -> Settings:
        return self.services.settings
