"""The bot's pulse: what it last heard from Telegram and when it last ticked, written down.

A repeating job writes a :class:`~storage.runtime.Heartbeat` row every
:data:`BEAT_SECONDS`; ``newsdigest health`` judges it (:mod:`bot.service.health`). Digest
ticks and folder scans are timed through APScheduler's job events, so the jobs
themselves need not know about it. In webhook mode, where a quiet bot may hear
nothing for hours, ``getWebhookInfo`` once a minute proves the API still answers
and reports Telegram's own delivery errors.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import (  # type: ignore[import-untyped]
    EVENT_JOB_EXECUTED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from telegram.error import TelegramError
from telegram.ext import Application

from bot.context import BotContext
from bot.service.api_watch import ApiWatch
from storage.db import to_db_time
from storage.runtime import Heartbeat, write_heartbeat

_LOGGER = logging.getLogger(__name__)
BEAT_SECONDS = 10.0
WEBHOOK_CHECK_SECONDS = 60.0
WEBHOOK_ERROR_RECENT = 600.0  # Telegram keeps the last error's date after it recovers
TIMED_JOBS = ("digest-tick", "scan")

JobTimer = Callable[[str, float], None]


def _db_time(epoch: float | None) -> str | None:
    return None if epoch is None else to_db_time(datetime.fromtimestamp(epoch, UTC))


class Pulse:
    """The live figures behind the heartbeat row; updated on the event loop."""

    def __init__(
        self,
        *,
        mode: str,
        watch: ApiWatch,
        tick_interval: float,
        webhook_url: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.mode = mode
        self.watch = watch
        self.tick_interval = tick_interval
        self.webhook_url = webhook_url
        self._clock = clock
        self.started = clock()
        self.tick_at: float | None = None
        self.update_at: float | None = None
        self.webhook_checked: float | None = None
        self.webhook_error: str | None = None
        self.conflict_since: float | None = None
        self.job_timers: list[JobTimer] = []
        self._submitted: dict[str, float] = {}

    def beat(self, status: str = "running") -> Heartbeat:
        success = self.watch.last_success
        contact = max(success.values(), default=None)
        if self.update_at is not None:
            contact = max(contact or 0.0, self.update_at)
        return Heartbeat(
            pid=os.getpid(),
            mode=self.mode,
            status=status,
            started_at=_db_time(self.started) or "",
            beat_at=_db_time(self._clock()) or "",
            contact_at=_db_time(contact),
            poll_at=_db_time(success.get("getUpdates")),
            update_at=_db_time(self.update_at),
            tick_at=_db_time(self.tick_at),
            tick_interval=self.tick_interval,
            conflict=_db_time(self.conflict_since),
            webhook_error=self.webhook_error,
        )

    def listen_to(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Time the named jobs through the scheduler's events (submitted → executed)."""
        jobs = application.job_queue
        assert jobs is not None
        names = {job.job.id: job.name for job in jobs.jobs() if job.name in TIMED_JOBS}

        def on_event(event: JobEvent) -> None:
            name = names.get(event.job_id)
            if name is None:
                return
            now = time.monotonic()
            if event.code == EVENT_JOB_SUBMITTED:
                self._submitted[name] = now
                return
            seconds = now - self._submitted.pop(name, now)
            if name == "digest-tick":
                self.tick_at = self._clock()
            for timer in self.job_timers:
                timer(name, seconds)

        jobs.scheduler.add_listener(on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED)

    async def job_beat(self, context: BotContext) -> None:
        """Write the heartbeat row (and, in webhook mode, ask Telegram about the webhook)."""
        if self.mode == "webhook" and (
            self.webhook_checked is None
            or self._clock() - self.webhook_checked >= WEBHOOK_CHECK_SECONDS
        ):
            await self._check_webhook(context)
        await context.services.db.run(write_heartbeat, self.beat())

    async def _check_webhook(self, context: BotContext) -> None:
        self.webhook_checked = self._clock()
        try:
            info = await context.bot.get_webhook_info()
        except TelegramError as exc:
            _LOGGER.warning("getWebhookInfo failed: %s", exc.message)
            return
        error = None
        if info.url != self.webhook_url:
            error = f"the webhook is set to {info.url or 'nothing'} elsewhere, not to ours"
        elif (
            info.last_error_date is not None
            and info.last_error_message
            and self._clock() - info.last_error_date.timestamp() < WEBHOOK_ERROR_RECENT
        ):
            error = f"{info.last_error_message} (at {info.last_error_date:%Y-%m-%d %H:%M:%S} UTC)"
        if error != self.webhook_error and error is not None:
            _LOGGER.warning("Telegram reports a webhook problem: %s", error)
        self.webhook_error = error


def stopped(beat: Heartbeat, at: float) -> Heartbeat:
    return replace(beat, status="stopped", beat_at=_db_time(at) or beat.beat_at)
