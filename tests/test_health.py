"""``newsdigest health``'s verdict from a heartbeat row."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.service.health import assess
from storage.db import to_db_time
from storage.runtime import Heartbeat

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def ago(seconds: float) -> str:
    return to_db_time(NOW - timedelta(seconds=seconds))


def beat(**changes: object) -> Heartbeat:
    healthy = Heartbeat(
        pid=4321, mode="polling", status="running", started_at=ago(3600), beat_at=ago(5),
        contact_at=ago(3), poll_at=ago(3), tick_at=ago(10), tick_interval=20.0,
    )  # fmt: skip
    return replace(healthy, **changes)  # type: ignore[arg-type]


def test_a_running_bot_that_polls_and_ticks_is_healthy() -> None:
    verdict = assess(beat(), NOW)
    assert verdict.healthy, verdict.problems
    assert "pid 4321, polling; last poll 3 s ago; digest tick 10 s ago" in verdict.summary


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"beat_at": ago(300)}, "heartbeat is 300 s ago"),
        ({"poll_at": ago(600)}, "no successful getUpdates for 600 s"),
        ({"poll_at": None}, "no successful getUpdates since the start"),
        ({"tick_at": ago(900)}, "digest tick last finished 900 s ago"),
        ({"tick_at": None}, "digest tick last finished never"),
        ({"conflict": ago(20)}, "another process polls this bot's token"),
        ({"mode": "webhook", "contact_at": ago(1000)}, "no answer from the Bot API for 1000 s"),
        (
            {"mode": "webhook", "webhook_error": "Connection refused"},
            "cannot deliver to the webhook",
        ),
    ],
)
def test_each_problem_is_named(changes: dict[str, object], problem: str) -> None:
    verdict = assess(beat(**changes), NOW)
    assert not verdict.healthy
    assert any(problem in p for p in verdict.problems), verdict.problems


def test_a_fresh_start_gets_grace_for_its_first_poll_and_tick() -> None:
    assert assess(beat(started_at=ago(5), poll_at=None, tick_at=None), NOW).healthy


def test_stopped_or_never_started_is_unhealthy() -> None:
    assert not assess(None, NOW).healthy
    stopped = assess(beat(status="stopped"), NOW)
    assert not stopped.healthy and "stopped" in stopped.summary


def test_webhook_mode_counts_any_contact() -> None:
    assert assess(beat(mode="webhook", poll_at=None, contact_at=ago(30)), NOW).healthy
