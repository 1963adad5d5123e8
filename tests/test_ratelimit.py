"""The rate budget: GCRA + sliding log (pure, on explicit times), the priority queue, per-chat
pacing and 429 handling.

The pure :class:`Budget` is driven with explicit ``now`` values, so its guarantees are checked
exactly, without the wall clock. The async parts run on the event loop's clock; the callbacks
handed to ``process_request`` stand for the network call PTB would make (the edge of the
system), so a coroutine that records its calls takes their place.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import BadRequest, RetryAfter, TimedOut

from bot.delivery.budget import Budget, PriorityBudget, RoundTrip, SendAborted
from bot.delivery.ratelimit import ChatPacer, PriorityRateLimiter, global_budget
from tests.botapi.records import max_in_window


def drive(budget: Budget, attempts: list[float]) -> list[float]:
    """Grant every attempt at the first moment the budget allows (a sender always ready)."""
    granted: list[float] = []
    for attempt in attempts:
        now = max(attempt, granted[-1] if granted else attempt)
        now += budget.wait(now)
        budget.take(now)
        granted.append(now)
    return granted


# -- Budget (pure) -------------------------------------------------------------------------------
@pytest.mark.parametrize("rate", [1.0, 25.0, 27.0, 90.0, 1000.0])
def test_global_budget_never_exceeds_the_rate_in_any_second(rate: float) -> None:
    rng = random.Random(rate)
    # Senders arrive in clumps (a push queued at once, stalls, catch-ups): the worst case.
    attempts = sorted(rng.uniform(0, 5) for _ in range(int(rate * 8)))
    granted = drive(global_budget(rate), attempts)
    assert max_in_window(granted, 1.0) <= int(rate)
    # And not by starving: the steady rate is within 3% of R (the log's slack).
    steady = [t for t in granted if granted[0] + 1 <= t]
    assert len(steady) / (steady[-1] - steady[0]) >= 0.97 * rate


def test_global_budget_spaces_sends_instead_of_bursting() -> None:
    granted = drive(global_budget(20.0), [0.0] * 20)
    gaps = [b - a for a, b in itertools.pairwise(granted)]
    assert min(gaps) >= 0.05 - 0.025 - 1e-9  # 1/rate, less the small tolerance
    assert granted[-1] >= 0.9  # 20 sends take about a second, not an instant


def test_private_chat_bursts_three_then_one_a_second() -> None:
    pacer_budget = Budget(1.0, burst=3.0, limit=3, window=1.0)
    granted = drive(pacer_budget, [0.0] * 6)
    assert granted[:3] == [0.0, 0.0, 0.0]
    assert granted[3] >= 1.0 + 0.025  # the fourth leaves the first's window, with slack
    assert max_in_window(granted, 1.0) == 3
    assert max_in_window(granted, 2.0) == 4  # then about one a second


def test_group_budget_holds_20_a_minute() -> None:
    budget = Budget(20 / 60, burst=3.0, limit=20, window=60.0)
    granted = drive(budget, [0.0] * 45)
    assert max_in_window(granted, 60.0) == 20
    assert granted[:3] == [0.0, 0.0, 0.0]


def test_hold_refund_and_idle() -> None:
    budget = Budget(10.0, limit=10, window=1.0)
    assert budget.idle(0.0)
    budget.take(0.0)
    assert budget.wait(0.0) == pytest.approx(0.1)
    budget.refund(0.0)  # not sent after all: as if it never happened
    assert budget.wait(0.0) == 0.0 and budget.recent(0.0) == 0
    budget.hold(0.0, 5.0)
    budget.hold(0.0, 1.0)  # a shorter hold does not shorten the first
    assert budget.wait(1.0) == pytest.approx(4.0)
    assert not budget.idle(1.0) and budget.idle(6.0)
    with pytest.raises(ValueError):
        Budget(0.0)


def test_round_trip_ignores_one_outlier() -> None:
    round_trip = RoundTrip(0.05)
    for _ in range(30):
        round_trip.add(0.02)
    assert round_trip.value == pytest.approx(0.02, abs=0.001)
    round_trip.add(60.0)  # one answer from a hung server
    assert round_trip.value < 0.05


# -- PriorityBudget (event loop) -----------------------------------------------------------------
def clock() -> float:
    return asyncio.get_running_loop().time()


async def test_waiters_served_by_priority_then_fifo() -> None:
    budget = PriorityBudget(Budget(20.0))
    await budget.acquire()  # the next grant is 50 ms away: everyone below queues
    order: list[str] = []

    async def waiter(name: str, priority: int) -> None:
        await budget.acquire(priority)
        order.append(name)

    tasks = [asyncio.create_task(waiter(f"low{i}", 2)) for i in range(3)]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(waiter("mid", 1)))
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(waiter("high", 0)))
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=2)
    assert order == ["high", "mid", "low0", "low1", "low2"]


async def test_a_cancelled_waiter_gives_its_turn_away() -> None:
    budget = PriorityBudget(Budget(10.0))
    await budget.acquire()
    first = asyncio.create_task(budget.acquire(0))
    second = asyncio.create_task(budget.acquire(1))
    await asyncio.sleep(0.01)
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    start = clock()
    await asyncio.wait_for(second, timeout=1)
    assert clock() - start < 0.15  # the slot the cancelled one would have had


async def test_pause_holds_everyone_then_close_aborts_long_waits() -> None:
    budget = PriorityBudget(Budget(100.0))
    budget.pause(0.2)
    start = clock()
    await asyncio.wait_for(budget.acquire(0), timeout=2)
    assert clock() - start >= 0.19  # not even an answer goes during the pause
    budget.pause(90.0)
    waiting = asyncio.create_task(budget.acquire(2))
    await asyncio.sleep(0.01)
    budget.close(grace=1.0)
    with pytest.raises(SendAborted):
        await asyncio.wait_for(waiting, timeout=1)
    with pytest.raises(SendAborted):
        await budget.acquire(0)  # and new ones fail at once


# -- PriorityRateLimiter.process_request ---------------------------------------------------------
class FakeNetwork:
    """The HTTP call PTB hands the limiter: records when it was made, can fail first."""

    def __init__(self, failures: list[BaseException] | None = None) -> None:
        self.failures = list(failures or [])
        self.calls: list[float] = []

    async def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(clock())
        if self.failures:
            raise self.failures.pop(0)
        return {"ok": True, "args": args, "kwargs": kwargs}


def request(
    limiter: PriorityRateLimiter,
    network: Callable[..., Awaitable[Any]],
    endpoint: str = "sendMessage",
    chat_id: int | str | None = 1,
    priority: int | None = None,
    **data: Any,
) -> Awaitable[Any]:
    if chat_id is not None:
        data["chat_id"] = chat_id
    return limiter.process_request(network, ("url",), {"k": "v"}, endpoint, data, priority)  # type: ignore[arg-type]


async def test_process_request_passes_the_call_through_and_times_it() -> None:
    limiter = PriorityRateLimiter(100.0)
    network = FakeNetwork()
    result = await request(limiter, network)
    assert result == {"ok": True, "args": ("url",), "kwargs": {"k": "v"}}
    assert limiter.round_trip.value < 0.25  # the instant answer pulled it down


@pytest.mark.parametrize("endpoint", ["getUpdates", "answerCallbackQuery", "getMe", "getChat"])
async def test_non_message_endpoints_are_not_throttled(endpoint: str) -> None:
    limiter = PriorityRateLimiter(2.0)
    network = FakeNetwork()
    await asyncio.wait_for(
        asyncio.gather(*(request(limiter, network, endpoint, priority=2) for _ in range(20))),
        timeout=1,
    )
    assert len(network.calls) == 20


async def test_answers_are_paced_per_chat_too() -> None:
    """/related sends several messages to one chat: a burst of three, then one a second."""
    limiter = PriorityRateLimiter(1000.0)
    network = FakeNetwork()
    start = clock()
    await asyncio.gather(*(request(limiter, network, chat_id=7) for _ in range(4)))
    times = sorted(t - start for t in network.calls)
    assert all(t < 0.1 for t in times[:3])
    assert times[3] >= 1.0
    # Another chat is not held back by chat 7's pace.
    t0 = clock()
    await request(limiter, network, chat_id=8, priority=1)
    assert clock() - t0 < 0.1


async def test_an_isolated_429_pauses_every_chat() -> None:
    limiter = PriorityRateLimiter(100.0)
    network = FakeNetwork([RetryAfter(timedelta(seconds=1))])
    other = FakeNetwork()
    first = asyncio.create_task(request(limiter, network, chat_id=1))
    await asyncio.sleep(0.05)
    start = clock()
    await asyncio.wait_for(request(limiter, other, chat_id=2), timeout=3)
    assert other.calls[0] - start >= 0.9  # even an answer to another chat waited
    assert (await asyncio.wait_for(first, timeout=3))["ok"]  # the answer was retried
    assert network.calls[1] - network.calls[0] >= 0.95


async def test_a_429_at_a_chats_pace_holds_that_chat_alone() -> None:
    limiter = PriorityRateLimiter(100.0)
    network = FakeNetwork()
    await request(limiter, network, chat_id=5, priority=2)  # chat 5 is busy...
    refused = FakeNetwork([RetryAfter(timedelta(seconds=1))])
    with pytest.raises(RetryAfter):  # a queued send goes back to the outbox with its wait
        await request(limiter, refused, chat_id=5, priority=2)
    start = clock()
    await asyncio.wait_for(request(limiter, network, chat_id=6, priority=2), timeout=1)
    assert clock() - start < 0.1  # other chats go on
    await asyncio.wait_for(request(limiter, network, chat_id=5, priority=2), timeout=3)
    assert clock() - start >= 0.9  # chat 5 waited its retry_after


async def test_answers_give_up_after_max_retries() -> None:
    limiter = PriorityRateLimiter(100.0, max_retries=1)
    network = FakeNetwork([RetryAfter(timedelta(milliseconds=100)) for _ in range(3)])
    with pytest.raises(RetryAfter):
        await asyncio.wait_for(request(limiter, network), timeout=3)
    assert len(network.calls) == 2


async def test_errors_pass_through_and_only_answers_are_timed() -> None:
    limiter = PriorityRateLimiter(100.0)
    with pytest.raises(TimedOut):
        await request(limiter, FakeNetwork([TimedOut()]))
    assert limiter.round_trip.value == 0.25  # a timeout is not a round trip
    with pytest.raises(BadRequest):
        await request(limiter, FakeNetwork([BadRequest("nope")]), chat_id=2)
    assert limiter.round_trip.value < 0.25


async def test_paid_broadcasts_use_their_own_budget() -> None:
    limiter = PriorityRateLimiter(2.0, paid_rate=1000.0)
    network = FakeNetwork()
    start = clock()
    await asyncio.wait_for(
        asyncio.gather(
            *(request(limiter, network, chat_id=c, priority=1, allow_paid_broadcast=True)
              for c in range(50))
        ),
        timeout=1,
    )  # fmt: skip
    assert clock() - start < 0.5  # at the free 2/s these would take 25 s
    await request(limiter, network, chat_id=99, priority=2)
    with pytest.raises(TimeoutError):  # the free budget is untouched by them, and still 2/s
        await asyncio.wait_for(request(limiter, network, chat_id=98, priority=2), timeout=0.2)


async def test_close_aborts_a_chat_hold_but_lets_short_waits_go() -> None:
    limiter = PriorityRateLimiter(1000.0)
    network = FakeNetwork()
    limiter.pacer.hold(3, clock(), 60.0)
    held = asyncio.create_task(request(limiter, network, chat_id=3, priority=2))
    await asyncio.sleep(0.01)
    limiter.close(grace=1.0)
    with pytest.raises(SendAborted):
        await asyncio.wait_for(held, timeout=1)
    assert (await request(limiter, network, chat_id=4))["ok"]
    assert len(network.calls) == 1


def test_chat_pacer_forgets_idle_chats() -> None:
    pacer = ChatPacer()
    for chat in range(50_001):
        assert pacer.try_take(chat, 0.0)
    assert pacer.try_take(-1, 100.0)  # everyone else is long idle: pruned
    assert pacer.wait(5, 100.0) == 0.0
    assert len(pacer._budgets) == 1
