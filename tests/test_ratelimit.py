"""The priority rate limiter: global bucket, per-chat pacing and 429 handling, in real time.

The callbacks handed to ``process_request`` stand for the network call PTB would make: they
are the edge of the system, so a coroutine that records its calls takes their place.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.delivery.ratelimit import ChatPacer, PriorityBucket, PriorityRateLimiter


def clock() -> float:
    return asyncio.get_running_loop().time()


async def grants_within(bucket: PriorityBucket, seconds: float, waiters: int) -> list[float]:
    """Start ``waiters`` acquirers at once; return the grant times (relative) inside the window."""
    start = clock()
    times: list[float] = []

    async def one() -> None:
        await bucket.acquire(1)
        times.append(clock() - start)

    tasks = [asyncio.create_task(one()) for _ in range(waiters)]
    await asyncio.sleep(seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return sorted(t for t in times if t <= seconds)


# -- PriorityBucket ------------------------------------------------------------------------------
@pytest.mark.parametrize(("rate", "burst"), [(20.0, 1.0), (50.0, 10.0)])
async def test_bucket_holds_its_rate(rate: float, burst: float) -> None:
    window = 1.0
    times = await grants_within(PriorityBucket(rate, burst), window, waiters=500)
    expected = burst + rate * window
    assert expected * 0.85 <= len(times) <= expected + 1
    # The burst goes at once, the rest is spread out: no second-long stall, no flood.
    assert sum(1 for t in times if t < 0.02) <= burst + 1
    steady = [t for t in times if t > 0.2]
    gaps = [b - a for a, b in itertools.pairwise(steady)]
    assert max(gaps) < max(0.2, 5 / rate)


async def test_bucket_refills_to_burst_only() -> None:
    bucket = PriorityBucket(rate=100.0, burst=3.0)
    for _ in range(3):
        await bucket.acquire()
    await asyncio.sleep(0.2)  # enough for 20 tokens, but the bucket holds 3
    start = clock()
    for _ in range(4):
        await bucket.acquire()
    assert clock() - start >= 0.008  # the fourth had to wait for a refill


async def test_waiters_served_by_priority_then_fifo() -> None:
    bucket = PriorityBucket(rate=20.0, burst=1.0)
    await bucket.acquire()  # empty the bucket: everyone below has to queue
    order: list[str] = []

    async def waiter(name: str, priority: int) -> None:
        await bucket.acquire(priority)
        order.append(name)

    tasks = [asyncio.create_task(waiter(f"low{i}", 2)) for i in range(3)]
    await asyncio.sleep(0)  # the low ones are queued first
    tasks.append(asyncio.create_task(waiter("mid", 1)))
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(waiter("high", 0)))
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=2)
    assert order == ["high", "mid", "low0", "low1", "low2"]


async def test_high_priority_overtakes_a_long_queue() -> None:
    bucket = PriorityBucket(rate=50.0, burst=1.0)
    await bucket.acquire()
    low_done: list[int] = []

    async def low(i: int) -> None:
        await bucket.acquire(2)
        low_done.append(i)

    lows = [asyncio.create_task(low(i)) for i in range(50)]
    await asyncio.sleep(0.1)  # a few lows have gone
    gone_before = len(low_done)
    start = clock()
    await asyncio.wait_for(bucket.acquire(0), timeout=1)
    assert clock() - start < 0.1  # within a couple of tokens, not after the 40-odd lows left
    assert len(low_done) <= gone_before + 2
    for task in lows:
        task.cancel()
    await asyncio.gather(*lows, return_exceptions=True)


async def test_cancelled_waiter_leaks_no_token_and_blocks_nobody() -> None:
    rate = 10.0
    bucket = PriorityBucket(rate=rate, burst=1.0)
    await bucket.acquire()
    start = clock()
    first = asyncio.create_task(bucket.acquire(0))  # head of the queue
    second = asyncio.create_task(bucket.acquire(1))
    third = asyncio.create_task(bucket.acquire(1))
    await asyncio.sleep(0.02)
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    # The token the cancelled waiter would have had goes to the next one, on time.
    await asyncio.wait_for(second, timeout=1)
    assert clock() - start < 1.6 / rate
    await asyncio.wait_for(third, timeout=1)
    assert clock() - start < 2.6 / rate


async def test_waiter_cancelled_as_it_is_granted_returns_its_token() -> None:
    """A waiter cancelled after its grant but before it resumed must hand the token back."""
    bucket = PriorityBucket(rate=4.0, burst=3.0)
    for _ in range(3):
        await bucket.acquire()
    victim: asyncio.Task[None] | None = None

    async def controller() -> None:
        await bucket.acquire(0)
        # Granted in the same round as the victim, and resumed first: the victim's future
        # is already resolved, its task not yet resumed.
        assert victim is not None
        victim.cancel()

    boss = asyncio.create_task(controller())
    await asyncio.sleep(0)
    victim = asyncio.create_task(bucket.acquire(0))
    await asyncio.sleep(0)
    time.sleep(0.6)  # block the loop: 2.4 tokens accrue, one release grants both waiters
    await asyncio.wait_for(boss, timeout=1)
    with contextlib.suppress(asyncio.CancelledError):
        await victim
    assert victim.cancelled()
    # 2.4 - 1 (the controller) leaves 1.4: the next acquire must not wait.
    start = clock()
    await asyncio.wait_for(bucket.acquire(0), timeout=1)
    assert clock() - start < 0.05


async def test_cancelling_every_waiter_leaves_the_bucket_usable() -> None:
    bucket = PriorityBucket(rate=10.0, burst=1.0)
    await bucket.acquire()
    waiters = [asyncio.create_task(bucket.acquire(2)) for _ in range(5)]
    await asyncio.sleep(0.01)
    for task in waiters:
        task.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    await asyncio.sleep(0.15)  # one token refilled, nobody took it
    start = clock()
    await asyncio.wait_for(bucket.acquire(2), timeout=1)
    assert clock() - start < 0.02


async def test_pause_stops_all_grants_until_the_time_passes() -> None:
    bucket = PriorityBucket(rate=100.0, burst=5.0)
    start = clock()
    bucket.pause(0.3)
    times: list[float] = []

    async def one(priority: int) -> None:
        await bucket.acquire(priority)
        times.append(clock() - start)

    tasks = [asyncio.create_task(one(p)) for p in (0, 1, 2, 0)]
    await asyncio.sleep(0.25)
    assert times == []  # not even an answer goes during the pause
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=2)
    assert min(times) >= 0.29
    # A fresh acquire after the pause is not held back any more.
    start2 = clock()
    await asyncio.wait_for(bucket.acquire(), timeout=1)
    assert clock() - start2 < 0.1


async def test_pause_extends_but_never_shortens() -> None:
    bucket = PriorityBucket(rate=100.0, burst=5.0)
    start = clock()
    bucket.pause(0.3)
    bucket.pause(0.05)
    await asyncio.wait_for(bucket.acquire(), timeout=2)
    assert clock() - start >= 0.29


# -- ChatPacer -----------------------------------------------------------------------------------
async def test_chat_pacer_bursts_then_paces_each_chat() -> None:
    pacer = ChatPacer(private_rate=10.0, group_rate=5.0, burst=3)
    start = clock()
    done: dict[int, list[float]] = {1: [], -5: []}

    async def send(chat_id: int) -> None:
        await pacer.acquire(chat_id)
        done[chat_id].append(clock() - start)

    await asyncio.gather(*(send(1) for _ in range(5)), *(send(-5) for _ in range(5)))
    private, group = sorted(done[1]), sorted(done[-5])
    assert all(t < 0.03 for t in private[:3]) and all(t < 0.03 for t in group[:3])
    # Then 1/rate apart: a private chat at 10/s, a group at 5/s; chats do not wait for each other.
    assert 0.08 <= private[3] < 0.18 and 0.18 <= private[4] < 0.28
    assert 0.18 <= group[3] < 0.28 and 0.38 <= group[4] < 0.48


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
) -> Awaitable[Any]:
    data: dict[str, Any] = {} if chat_id is None else {"chat_id": chat_id}
    return limiter.process_request(
        network,  # type: ignore[arg-type]
        ("url",),
        {"k": "v"},
        endpoint,
        data,
        priority,
    )


async def test_process_request_passes_the_call_through() -> None:
    limiter = PriorityRateLimiter(100.0)
    network = FakeNetwork()
    result = await request(limiter, network)
    assert result == {"ok": True, "args": ("url",), "kwargs": {"k": "v"}}
    assert len(network.calls) == 1


async def test_retry_after_pauses_and_retries() -> None:
    limiter = PriorityRateLimiter(100.0)
    network = FakeNetwork([RetryAfter(timedelta(seconds=1))])
    other = FakeNetwork()
    start = clock()
    first = asyncio.create_task(request(limiter, network, chat_id=1))
    await asyncio.sleep(0.05)  # the 429 has come back and paused the bucket
    second = asyncio.create_task(request(limiter, other, chat_id=2, priority=0))
    result = await asyncio.wait_for(first, timeout=3)
    assert result["ok"] is True
    assert len(network.calls) == 2
    assert network.calls[1] - network.calls[0] >= 0.95
    # Another chat's send, even an answer, waited out the pause as well.
    await asyncio.wait_for(second, timeout=3)
    assert other.calls[0] - start >= 0.95


async def test_gives_up_after_max_retries() -> None:
    limiter = PriorityRateLimiter(100.0, max_retries=2)
    errors: list[BaseException] = [RetryAfter(timedelta(milliseconds=100)) for _ in range(5)]
    network = FakeNetwork(errors)
    with pytest.raises(RetryAfter):
        await asyncio.wait_for(request(limiter, network), timeout=3)
    assert len(network.calls) == 3  # the first try and two retries
    assert all(b - a >= 0.09 for a, b in itertools.pairwise(network.calls))


async def test_other_errors_are_not_retried() -> None:
    limiter = PriorityRateLimiter(100.0)
    network = FakeNetwork([ValueError("boom")])
    with pytest.raises(ValueError, match="boom"):
        await request(limiter, network)
    assert len(network.calls) == 1


@pytest.mark.parametrize("endpoint", ["getUpdates", "answerCallbackQuery", "getMe", "getChat"])
async def test_non_message_endpoints_are_not_throttled(endpoint: str) -> None:
    limiter = PriorityRateLimiter(2.0, burst=1.0)
    network = FakeNetwork()
    start = clock()
    await asyncio.wait_for(
        asyncio.gather(*(request(limiter, network, endpoint, priority=2) for _ in range(20))),
        timeout=2,
    )
    assert clock() - start < 1.0  # throttled, the 20 calls would take 9.5 s
    assert len(network.calls) == 20


async def test_message_endpoints_are_throttled() -> None:
    limiter = PriorityRateLimiter(10.0, burst=1.0)
    network = FakeNetwork()
    start = clock()
    await asyncio.gather(*(request(limiter, network, "sendMessage", chat_id=c) for c in range(4)))
    assert clock() - start >= 0.28  # one at once, then one per 0.1 s


async def test_answers_are_not_paced_per_chat() -> None:
    limiter = PriorityRateLimiter(1000.0)
    network = FakeNetwork()
    start = clock()
    await asyncio.gather(*(request(limiter, network, chat_id=7, priority=None) for _ in range(8)))
    assert clock() - start < 1.0  # paced like queued sends, they would take 5 s


async def test_queued_sends_are_paced_per_chat() -> None:
    limiter = PriorityRateLimiter(1000.0, per_chat_rate=1.0, per_chat_burst=3)
    network = FakeNetwork()
    start = clock()
    await asyncio.wait_for(
        asyncio.gather(*(request(limiter, network, chat_id=7, priority=2) for _ in range(4))),
        timeout=3,
    )
    times = sorted(t - start for t in network.calls)
    assert all(t < 0.1 for t in times[:3])  # a burst of three
    assert 0.9 <= times[3] < 1.3  # then about one a second
    # Another chat is not held back by chat 7's pacing.
    t0 = clock()
    await request(limiter, network, chat_id=8, priority=1)
    assert clock() - t0 < 0.1
