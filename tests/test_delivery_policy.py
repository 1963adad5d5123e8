"""The sender's rules as plain values: window size, deadlines, backoff, what an error means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.delivery.outcomes import Backoff, deadline, describe, is_definite, is_outage, row_backoff
from bot.delivery.window import MAX_UNITS, window_size
from storage.outbox import QueuedMessage

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


def queued(kind: str, next_digest_at: datetime | None = None) -> QueuedMessage:
    return QueuedMessage(1, 5, "text", 1, kind, 0, created_at=NOW - timedelta(hours=1),
                         next_digest_at=next_digest_at)  # fmt: skip


@pytest.mark.parametrize(
    ("rate", "cycle", "units"),
    [
        (50, 0.022, 3),  # the kill -9 test: 50/s over a 20 ms link, ceil(50 × 0.02) + 2 = 3
        (27, 0.045, 3),
        (900, 0.045, 46),
        (1000, 0.06, 67),
        (1, 0.05, 2),  # never fewer than two
        (1000, 5.0, MAX_UNITS),  # nor more than the pool
    ],
)
def test_window_follows_rate_times_round_trip(rate: float, cycle: float, units: int) -> None:
    assert window_size(rate, cycle) == units


def test_deadlines_by_kind() -> None:
    max_age = timedelta(hours=6)
    due = NOW + timedelta(hours=20)
    assert deadline(queued("digest", due), max_age, NOW) == due
    assert deadline(queued("digest"), max_age, NOW) == NOW + timedelta(hours=23)
    assert deadline(queued("breaking"), max_age, NOW) == NOW + timedelta(hours=5)
    assert deadline(queued("answer"), max_age, NOW) == NOW - timedelta(minutes=30)


def test_backoff_is_capped_and_ends_on_success() -> None:
    backoff = Backoff(base=0.5, cap=4.0)
    assert [backoff.failed(100.0) for _ in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert backoff.wait(101.0) == pytest.approx(3.0)
    backoff.succeeded()
    assert backoff.wait(101.0) == 0.0
    assert [row_backoff(n) for n in (1, 3, 20)] == [2.0, 8.0, 300.0]


def test_what_errors_mean() -> None:
    assert is_definite(Forbidden("blocked")) and is_definite(BadRequest("can't parse"))
    assert not is_definite(NetworkError("Bad Gateway"))
    assert is_outage(NetworkError("Internal Server Error")) and is_outage(TimedOut())
    assert not is_outage(BadRequest("x")) and not is_outage(RetryAfter(timedelta(seconds=3)))
    assert describe(TimedOut(), 60).startswith("unconfirmed: no answer within 60 s")
    assert describe(KeyError("message_id"), 60) == "KeyError: 'message_id'"
