"""The two repeating jobs on PTB's JobQueue: the folder scan (then the follow updates)
and the digest tick.

One process-wide digest job, not one job per reader: the schedule lives in SQLite
(``readers.next_digest_at``), so it survives restarts and a tick after downtime
finds every overdue reader once.
"""

from __future__ import annotations

import logging

from bot.context import BotContext
from bot.delivery.digest_queue import run_digest_tick
from bot.delivery.follow_updates import run_follow_updates
from storage.ingest import scan_folder

_LOGGER = logging.getLogger(__name__)
DIGEST_TICK_SECONDS = 20.0


async def job_scan(context: BotContext) -> None:
    """Ingest new or changed article files (files still being written wait a scan), then
    tell followers of stories with new coverage."""
    await _scan(context)
    services = context.services
    # After the scan, on its thread; also what `newsdigest ingest` stored meanwhile.
    queued = await services.background.run(run_follow_updates, services.clock())
    if queued:
        _LOGGER.info("follow updates: %d messages queued", queued)
        services.sender.wake()


async def _scan(context: BotContext) -> None:
    services = context.services
    folder = services.settings.articles_dir
    if not folder.is_dir():
        _LOGGER.warning("articles folder %s does not exist; nothing to scan", folder)
        return
    report = await services.background.run(scan_folder, folder, now=services.clock)
    if services.pools is not None:
        # Right after the scan, so that the next /digest finds the pool built.
        await services.pools.refresh(services.clock())
    if report.new or report.updated or report.rejected:
        _LOGGER.info(
            "scan %s: %d new, %d updated, %d unchanged, %d rejected (%.2f s)",
            folder, report.new, report.updated, report.unchanged, len(report.rejected),
            report.seconds,
        )  # fmt: skip
    for rejection in report.rejected:
        _LOGGER.warning("rejected %s: %s", rejection.path, rejection.reason)


async def job_digest_tick(context: BotContext) -> None:
    """Queue the digests of every reader whose time has come (a stop ends it between batches)."""
    services = context.services
    application = context.application
    queued = await services.background.run(
        run_digest_tick,
        services.clock(),
        max_age=services.settings.max_age,
        should_stop=lambda: not application.running,
    )
    if queued:
        _LOGGER.info("digest tick: %d digests queued", queued)
        services.sender.wake()
