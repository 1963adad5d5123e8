"""The stand-in's strict flood control and fault modes, driven by a real PTB ``Bot``."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from telegram import Bot
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest

from tests.botapi import FakeBotApi
from tests.botapi.records import SlidingWindow, max_in_window, parse_window

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def client(api: FakeBotApi, read_timeout: float = 5.0) -> Bot:
    return Bot(
        token=api.token,
        base_url=f"{api.base_url}/bot",
        request=HTTPXRequest(read_timeout=read_timeout),
    )


def test_sliding_window_counts_every_window() -> None:
    window = SlidingWindow(2, 1.0)
    assert window.wait_time(10.0) == 0.0
    window.take(10.0)
    window.take(10.4)
    assert window.wait_time(10.9) == pytest.approx(0.1)  # the send at 10.0 leaves at 11.0
    assert window.wait_time(11.0) == 0.0
    assert parse_window("20/60") == (20, 60.0)
    assert max_in_window([0.0, 0.5, 0.99, 1.0, 1.6]) == 3  # the window is (t - 1, t]
    with pytest.raises(ValueError):
        SlidingWindow(0, 1.0)


async def test_strict_window_refuses_the_send_past_the_limit() -> None:
    async with FakeBotApi(window_limit=3, open_chats=True) as api:
        async with client(api) as bot:
            for chat in (1, 2, 3):
                await bot.send_message(chat, "ok")
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(4, "one too many")
            assert caught.value.retry_after == timedelta(seconds=1)
            (refused,) = api.errors
            assert (refused.status, refused.limit) == (429, "global")
            # Refused sends do not count: a second later the window has room again.
            await asyncio.sleep(1.0)
            await bot.send_message(4, "now")
        assert [m.chat_id for m in api.all_messages()] == [1, 2, 3, 4]
        assert api.stats()["max_per_second"] == 3


async def test_per_chat_windows_hold_one_chat_only() -> None:
    async with FakeBotApi(chat_window=(2, 1.0), group_window=(2, 60.0), open_chats=True) as api:
        api.add_group(-500, "Newsroom")
        async with client(api) as bot:
            await bot.send_message(-500, "a")
            await bot.send_message(-500, "b")
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(-500, "c")
            # A group's window is a minute long: the wait says so.
            assert timedelta(seconds=58) <= caught.value.retry_after <= timedelta(seconds=60)
            await bot.send_message(7, "x")
            await bot.send_message(7, "y")
            with pytest.raises(RetryAfter):
                await bot.send_message(7, "z")
            await bot.send_message(8, "other chats are not held")
        assert {c.limit for c in api.errors} == {"chat"}
        assert api.count_429 == 2


async def test_paid_broadcasts_have_their_own_limit() -> None:
    async with FakeBotApi(window_limit=1, paid_limit=2, open_chats=True) as api:
        async with client(api) as bot:
            await bot.send_message(1, "free")
            await bot.send_message(2, "paid", allow_paid_broadcast=True)
            await bot.send_message(3, "paid", allow_paid_broadcast=True)
            with pytest.raises(RetryAfter):
                await bot.send_message(4, "paid", allow_paid_broadcast=True)
            with pytest.raises(RetryAfter):
                await bot.send_message(5, "free")
        assert [c.limit for c in api.errors] == ["paid", "global"]
        assert api.stats()["paid"] == 2


async def test_outage_answers_500_then_recovers() -> None:
    async with FakeBotApi(open_chats=True) as api:
        async with client(api) as bot:
            api.outage(0.3)
            with pytest.raises(NetworkError, match="Internal Server Error"):
                await bot.send_message(1, "during")
            with pytest.raises(NetworkError):
                await bot.get_me()  # every method is down, not only sends
            await asyncio.sleep(0.35)
            await bot.send_message(1, "after")
        assert [m.plain_text for m in api.all_messages()] == ["after"]
        assert [c.status for c in api.errors] == [500, 500]
        assert [c.method for c in api.calls[-3:]] == ["sendMessage", "getMe", "sendMessage"]


async def test_an_outage_can_be_ended_early_and_use_another_status() -> None:
    async with FakeBotApi() as api:
        async with client(api) as bot:
            api.outage(5.0, status=502)
            with pytest.raises(NetworkError):
                await bot.get_me()
            api.end_outage()
            assert (await bot.get_me()).username == "newsdigest_bot"
        assert [c.status for c in api.errors] == [502]


async def test_outage_drops_connections() -> None:
    async with FakeBotApi(open_chats=True) as api:
        async with client(api) as bot:
            api.outage(5.0, mode="drop")
            with pytest.raises(NetworkError):
                await bot.send_message(1, "lost")
            api.end_outage()
        assert api.all_messages() == []
        assert [(c.status, c.description) for c in api.errors] == [(0, "outage: drop")]


async def test_hung_server_holds_then_drops_unprocessed() -> None:
    async with FakeBotApi(open_chats=True) as api:
        async with client(api) as bot:
            api.outage(0.4, mode="hang")
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(NetworkError):
                await bot.send_message(1, "hung")
            assert loop.time() - started >= 0.35
            assert api.in_flight == 0
            await bot.send_message(1, "back")
        assert [m.plain_text for m in api.all_messages()] == ["back"]


async def test_a_slow_answer_arrives_after_the_client_gave_up() -> None:
    async with FakeBotApi(open_chats=True) as api:
        async with client(api, read_timeout=0.2) as bot:
            api.slow_answers(0.6, times=1)
            with pytest.raises(TimedOut):
                await bot.send_message(1, "slow")
            # It was delivered all the same: a client that resends makes a duplicate.
            assert [m.plain_text for m in api.all_messages()] == ["slow"]
            await bot.send_message(1, "fast")  # only one call was slow
        async with client(api, read_timeout=2.0) as patient:
            api.slow_answers(0.3)
            message = await patient.send_message(1, "waited for")
            assert message.text == "waited for"
            api.slow_answers(0)
        assert api.stats()["duplicates"] == 0


async def test_in_flight_counts_concurrent_sends() -> None:
    async with FakeBotApi(open_chats=True, latency=0.2) as api:
        async with client(api) as bot:
            await asyncio.gather(*(bot.send_message(c, "x") for c in range(1, 6)))
        assert api.stats()["in_flight_max"] == 5
        assert api.in_flight == 0
        api.reset_observations()
        assert api.stats()["in_flight_max"] == 0


async def test_a_revoked_token_gets_401_until_restored() -> None:
    async with FakeBotApi(open_chats=True) as api:
        async with client(api) as bot:
            await bot.send_message(1, "before")
            api.revoke_token()
            with pytest.raises(InvalidToken):
                await bot.send_message(1, "after")
            with pytest.raises(InvalidToken):
                await bot.get_me()
            api.restore_token()
            await bot.send_message(1, "restored")
        assert [c.status for c in api.errors] == [401, 401]


async def test_standalone_runner_strict_mode_and_fault_controls(
    http: aiohttp.ClientSession,
) -> None:
    token = "777:RUNNER"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.botapi", "--window", "2", "--chat-window", "1/1",
        "--open-chats", "--token", token,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode().strip()
        base_url = line.removeprefix("READY ")
        send = f"{base_url}/bot{token}/sendMessage"

        async def status(chat: int) -> int:
            async with http.post(send, data={"chat_id": str(chat), "text": "hi"}) as response:
                return response.status

        assert [await status(5), await status(5)] == [200, 429]  # one per second per chat
        assert [await status(6), await status(7)] == [200, 429]  # two per second in all

        async def control(action: str, **body: object) -> None:
            async with http.post(f"{base_url}/_control/{action}", json=body) as response:
                assert response.status == 200, await response.text()

        await control("reset")
        await control("outage", seconds=30, mode="error", status=503)
        assert await status(8) == 503
        await control("end_outage")
        await control("revoke")
        assert await status(8) == 401
        await control("restore")
        await control("slow", seconds=0.2, times=1)
        assert await status(8) == 200
        async with http.get(f"{base_url}/_stats") as response:
            stats = await response.json()
        assert (stats["accepted"], stats["errors"], stats["max_per_second"]) == (1, 2, 1)
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0


async def test_a_garbled_answer_after_the_send_was_carried_out() -> None:
    async with FakeBotApi(open_chats=True) as api:
        async with client(api) as bot:
            api.garble_next("sendMessage")
            with pytest.raises(TelegramError, match="Invalid server response"):
                await bot.send_message(1, "done, answer lost")
            await bot.send_message(1, "answered")
        assert [m.plain_text for m in api.all_messages()] == ["done, answer lost", "answered"]
