"""The bot's life: start against the Bot API (with retries), serve, stop in order.

Like PTB's ``run_polling``/``run_webhook`` (the loop runs forever until a signal or
``request_exit`` stops it), with what production needs around it: start-up failures
as one line (:mod:`bot.service.startup`), long polling or a webhook (PTB's own server, the
secret token checked on every update), a heartbeat row for ``newsdigest health``,
Prometheus metrics, and systemd readiness.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import socket
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import InvalidToken
from telegram.ext import TypeHandler

from bot.app import ALLOWED_UPDATES, App, build_application
from bot.context import BotContext, Services, exit_request, request_exit
from bot.jobs import DIGEST_TICK_SECONDS
from bot.lifecycle import on_token_revoked
from bot.redact import redact_url
from bot.service.api_watch import ApiWatch
from bot.service.heartbeat import BEAT_SECONDS, Pulse, stopped
from bot.service.metrics import Metrics
from bot.service.polling import ConflictAtStop, PollErrors, RevokedAtPoll
from bot.service.sd_notify import sd_notify
from bot.service.startup import StartClock, StartupError, call_api
from bot.settings import Settings
from storage.db import open_db
from storage.lock import AlreadyRunning, InstanceLock
from storage.runtime import webhook_secret, write_heartbeat
from storage.stats import gather_stats

_LOGGER = logging.getLogger(__name__)
POLL_TIMEOUT = timedelta(seconds=10)  # long-poll length: a returned poll proves contact
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class BotRunner:
    """One bot, started with :meth:`start` and stopped with :meth:`stop` on one event loop."""

    def __init__(
        self,
        settings: Settings,
        *,
        digest_tick: float = DIGEST_TICK_SECONDS,
        start_clock: StartClock | None = None,
        poll_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.watch = ApiWatch()
        self.application: App = build_application(
            settings, digest_tick=digest_tick, watch=self.watch
        )
        self.mode = "webhook" if settings.webhook_url else "polling"
        self.pulse = Pulse(
            mode=self.mode,
            watch=self.watch,
            tick_interval=digest_tick,
            webhook_url=settings.webhook_url,
        )
        self.metrics = Metrics() if settings.metrics_listen else None
        if self.metrics is not None:  # counted from the first request (getMe) on
            self.watch.observers.append(self.metrics.on_answer)
            self.pulse.job_timers.append(self.metrics.on_job)
        self.poll_errors = PollErrors(
            lambda code, reason: request_exit(self.application, code, reason),
            clock=poll_clock,
            on_conflict=self._on_conflict,
        )
        self._start_clock = start_clock
        self._post_init_done = False
        self._revoked: asyncio.Future[None] | None = None
        self._revoked_at_poll = RevokedAtPoll()

    @property
    def services(self) -> Services:
        services = self.application.bot_data.get("services")
        if not isinstance(services, Services):
            raise RuntimeError("services are not initialised (post_init has not run)")
        return services

    async def start(self) -> None:
        """Up and serving, or :class:`StartupError` (everything opened so far is closed)."""
        settings, app = self.settings, self.application
        clock = self._start_clock or StartClock(settings.start_timeout)

        async def api(what: str, method: str, action: Callable[[], object]) -> None:
            await call_api(
                what, action, api_url=settings.api_url, watch=self.watch,  # type: ignore[arg-type]
                method=method, clock=clock,
            )  # fmt: skip

        try:
            await api("getMe", "getMe", app.initialize)
        except BaseException:
            for request in app.bot_data["requests"]:  # initialize opened the HTTP sessions
                await request.shutdown()
            raise
        assert app.post_init is not None and app.updater is not None
        await app.post_init(app)
        self._post_init_done = True
        # Group -1 runs before every handler and stops nothing: it only notes the update.
        app.add_handler(TypeHandler(Update, self._on_update, block=False), group=-1)
        self.watch.observers.append(self._on_answer)
        if self.metrics is not None:
            self._start_metrics(self.metrics)
        if settings.webhook_url:
            await self._start_webhook(settings.webhook_url, api)
        else:
            await api("deleteWebhook", "deleteWebhook", app.bot.delete_webhook)
            # PTB's polling loop logs a 401 from its logger "telegram.ext" with a traceback.
            logging.getLogger("telegram.ext").addFilter(self._revoked_at_poll)
            # bootstrap_retries=-1: PTB repeats deleteWebhook (it just succeeded) quietly.
            await app.updater.start_polling(
                timeout=POLL_TIMEOUT,
                allowed_updates=ALLOWED_UPDATES,
                error_callback=self.poll_errors,
                bootstrap_retries=-1,
            )
        jobs = app.job_queue
        assert jobs is not None
        jobs.run_repeating(self.pulse.job_beat, interval=BEAT_SECONDS, first=0.5, name="heartbeat")
        self.pulse.listen_to(app)
        await app.start()
        where = (
            f"webhook {redact_url(settings.webhook_url)} on "
            f"{settings.webhook_listen[0]}:{settings.webhook_listen[1]}"
            if settings.webhook_url
            else "long polling"
        )
        _LOGGER.info("newsdigest is up: %s, database %s", where, settings.db_path)
        sd_notify(f"READY=1\nSTATUS=serving ({self.mode})")

    async def _start_webhook(self, url: str, api: Callable[..., object]) -> None:
        settings, app = self.settings, self.application
        assert app.updater is not None
        host, port = settings.webhook_listen
        _check_listen("NEWSDIGEST_WEBHOOK_LISTEN", host, port)  # before Telegram is told
        secret = settings.webhook_secret or await self.services.db.run(
            webhook_secret, lambda: secrets.token_urlsafe(32)
        )
        self.application.bot_data["webhook_secret"] = secret
        await api(  # type: ignore[misc]
            "setWebhook",
            "setWebhook",
            lambda: app.bot.set_webhook(
                url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, max_connections=40
            ),
        )
        try:
            # PTB sets the webhook again (it just succeeded), then listens: every request
            # without X-Telegram-Bot-Api-Secret-Token = secret gets 403.
            await app.updater.start_webhook(
                listen=host,
                port=port,
                url_path=urlsplit(url).path or "/",
                webhook_url=url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
                bootstrap_retries=-1,
            )
        except OSError as exc:
            raise StartupError(
                f"cannot listen on NEWSDIGEST_WEBHOOK_LISTEN={host}:{port} ({exc.strerror}): "
                "choose a free port, or stop what is using it"
            ) from None

    def _start_metrics(self, metrics: Metrics) -> None:
        assert self.settings.metrics_listen is not None
        host, port = self.settings.metrics_listen
        _check_listen("NEWSDIGEST_METRICS_LISTEN", host, port)
        metrics.serve(host, port)
        jobs = self.application.job_queue
        assert jobs is not None
        jobs.run_repeating(self._job_metrics, interval=BEAT_SECONDS, first=0.5, name="metrics")

    async def _job_metrics(self, context: BotContext) -> None:
        if self.metrics is not None:
            self.metrics.on_stats(await context.services.db.run(gather_stats))

    async def _on_update(self, update: Update, context: BotContext) -> None:
        self.pulse.update_at = time.time()

    def _on_answer(self, method: str, status: int) -> None:
        if method == "getUpdates" and status == 200:
            self.poll_errors.polled()
        elif status == 401 and self.application.running:
            # Revoked while running: PTB's polling loop just ends, so the exit is ours
            # (the sender does the same when a send gets the 401 first).
            self._revoked = asyncio.ensure_future(
                on_token_revoked(self.application, f"{method} answered 401 Unauthorized")
            )

    def _on_conflict(self, since: float | None) -> None:
        self.pulse.conflict_since = since

    async def stop(self) -> None:
        """Stop serving, record the stop, close everything (also after a failed start)."""
        sd_notify("STOPPING=1")
        app = self.application
        if app.updater is not None and app.updater.running:
            updater_log = logging.getLogger("telegram.ext.Updater")
            quiet = ConflictAtStop()
            updater_log.addFilter(quiet)
            try:
                # A polling loop that ended on a revoked token re-raises its 401 here:
                # it was said and handled (exit 2) when it came.
                with contextlib.suppress(InvalidToken):
                    await app.updater.stop()
            finally:
                updater_log.removeFilter(quiet)
        if app.running:
            await app.stop()
        if self._post_init_done:
            try:
                await self.services.db.run(write_heartbeat, stopped(self.pulse.beat(), time.time()))
            except Exception as exc:  # the stop goes on: health reports a stale heartbeat
                _LOGGER.warning("could not record the stop in the heartbeat: %s", exc)
        await app.shutdown()
        if self._post_init_done and app.post_shutdown is not None:
            await app.post_shutdown(app)
        if self.metrics is not None:
            self.metrics.close()
        logging.getLogger("telegram.ext").removeFilter(self._revoked_at_poll)


def _check_listen(name: str, host: str, port: int) -> None:
    """StartupError unless ``host:port`` can be listened on (checked here: a server that
    fails to bind leaves a socket behind)."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        raise StartupError(
            f"cannot listen on {name}={host}:{port} ({exc.strerror}): choose a free port, "
            "or stop what is using it"
        ) from None


def run_bot(
    settings: Settings,
    *,
    stop_signals: Sequence[signal.Signals] = STOP_SIGNALS,
    digest_tick: float = DIGEST_TICK_SECONDS,
    start_clock: StartClock | None = None,
    poll_clock: Callable[[], float] = time.monotonic,
) -> int:
    """Run until a signal (exit 0) or an exit request (:class:`StartupError` with its code)."""
    settings.require_token()  # SettingsError before anything is opened
    open_db(settings.db_path).close()  # DatabaseUnusable, and migrations, before the lock
    lock = InstanceLock(settings.db_path)
    try:
        lock.acquire()
    except AlreadyRunning as exc:
        raise StartupError(str(exc)) from None
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        runner = BotRunner(
            settings, digest_tick=digest_tick, start_clock=start_clock, poll_clock=poll_clock
        )
        _serve(loop, runner, stop_signals)
    finally:
        loop.close()
        asyncio.set_event_loop(None)
        lock.release()
    request = exit_request(runner.application)
    if request is not None:
        raise StartupError(request.reason, request.code)
    return 0


def _serve(
    loop: asyncio.AbstractEventLoop, runner: BotRunner, stop_signals: Sequence[signal.Signals]
) -> None:
    application = runner.application
    starting = loop.create_task(runner.start(), name="newsdigest-start")

    def on_signal() -> None:
        if application.running:
            application.stop_running()  # stops the loop: run_forever returns
        elif not starting.done():
            starting.cancel()

    for sig in stop_signals:
        loop.add_signal_handler(sig, on_signal)
    try:
        try:
            loop.run_until_complete(starting)
        except asyncio.CancelledError:
            return  # a signal during start-up: stop quietly
        loop.run_forever()  # until a signal or request_exit stops the loop
    finally:
        for sig in stop_signals:
            loop.remove_signal_handler(sig)
        loop.run_until_complete(runner.stop())
