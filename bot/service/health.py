"""Is the bot on this database alive? A verdict from its heartbeat row, with the reasons.

Healthy means: the bot is running, wrote its heartbeat lately, heard from the Bot API
lately (a long poll returned; in webhook mode an update or ``getWebhookInfo``
answered), no other process is polling its token, and its digest tick ran lately.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import from_db_time
from storage.runtime import Heartbeat

BEAT_STALE = 60.0  # the bot writes every 10 s
POLL_STALE = 120.0  # a long poll returns at least every ~10 s
WEBHOOK_CONTACT_STALE = 180.0  # getWebhookInfo once a minute
TICK_STALE_MIN = 120.0


@dataclass(frozen=True, slots=True)
class Verdict:
    healthy: bool
    summary: str
    problems: tuple[str, ...]


def _age(text: str | None, now: datetime) -> float | None:
    return None if text is None else (now - from_db_time(text)).total_seconds()


def _for(seconds: float | None) -> str:
    return "since the start" if seconds is None else f"for {max(0.0, seconds):.0f} s"


def _ago(seconds: float | None) -> str:
    return "never" if seconds is None else f"{max(0.0, seconds):.0f} s ago"


def assess(beat: Heartbeat | None, now: datetime) -> Verdict:
    if beat is None:
        return Verdict(False, "no bot has run on this database", (
            "no heartbeat: start the bot with `newsdigest run`",))  # fmt: skip
    if beat.status != "running":
        return Verdict(False, f"the bot stopped at {beat.beat_at}", (
            "the bot is not running: start it with `newsdigest run`",))  # fmt: skip
    problems: list[str] = []
    beat_age = _age(beat.beat_at, now)
    if beat_age is None or beat_age > BEAT_STALE:
        problems.append(
            f"the heartbeat is {_ago(beat_age)} (pid {beat.pid}): the bot is hung or was killed"
        )
    started_age = _age(beat.started_at, now) or 0.0
    if beat.mode == "polling":
        contact_age = _age(beat.poll_at, now)
        contact = f"last poll {_ago(contact_age)}"
        # The first long poll returns only after its timeout when nothing happens: grace.
        if (contact_age is None and started_age > POLL_STALE) or (
            contact_age is not None and contact_age > POLL_STALE
        ):
            problems.append(
                f"no successful getUpdates {_for(contact_age)}: "
                "the Bot API is unreachable or refuses the bot"
            )
    else:
        contact_age = _age(beat.contact_at, now)
        contact = f"last contact with the Bot API {_ago(contact_age)}"
        if contact_age is None or contact_age > WEBHOOK_CONTACT_STALE:
            problems.append(f"no answer from the Bot API {_for(contact_age)}")
        if beat.webhook_error:
            problems.append(f"Telegram cannot deliver to the webhook: {beat.webhook_error}")
    if beat.conflict is not None:
        problems.append(
            f"getUpdates Conflict since {beat.conflict}: another process polls this bot's token"
        )
    tick_age = _age(beat.tick_at, now)
    tick_limit = max(TICK_STALE_MIN, 3 * beat.tick_interval)
    if (tick_age is None and started_age > tick_limit) or (
        tick_age is not None and tick_age > tick_limit
    ):
        problems.append(f"the digest tick last finished {_ago(tick_age)}: the scheduler is stuck")
    summary = (
        f"pid {beat.pid}, {beat.mode}; {contact}; digest tick {_ago(tick_age)}; "
        f"heartbeat {_ago(beat_age)}"
    )
    return Verdict(not problems, summary, tuple(problems))
