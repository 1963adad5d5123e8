"""The aiohttp transport: proxies from the environment and NEWSDIGEST_PROXY, aborting at a
stop, refusing to reopen a closed session. Against the stand-in, through real local proxies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.delivery.transport import AiohttpRequest
from tests.botapi import FakeBotApi
from tests.proxies import HttpProxy, Socks5Proxy

USER = 4242


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(open_chats=True) as server:
        yield server


@pytest.fixture(autouse=True)
def _no_proxy_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def bot(api: FakeBotApi, request: AiohttpRequest) -> Bot:
    return Bot(api.token, base_url=f"{api.base_url}/bot", request=request,
               get_updates_request=AiohttpRequest())  # fmt: skip


async def test_http_proxy_from_the_environment_is_honoured(
    api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with HttpProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        async with bot(api, AiohttpRequest()) as client:
            await client.send_message(USER, "via the proxy")
        assert any(line.endswith("/sendMessage") for line in proxy.seen)
        assert [m.plain_text for m in api.messages(USER)] == ["via the proxy"]


async def test_no_proxy_bypasses_the_environment_proxy(
    api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with HttpProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with bot(api, AiohttpRequest()) as client:
            await client.send_message(USER, "direct")
        assert proxy.seen == []
        assert len(api.messages(USER)) == 1


async def test_newsdigest_proxy_http_wins_over_the_environment(
    api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with HttpProxy() as chosen, HttpProxy() as ambient:
        monkeypatch.setenv("HTTP_PROXY", ambient.url)
        async with bot(api, AiohttpRequest(proxy=chosen.url)) as client:
            await client.send_message(USER, "via NEWSDIGEST_PROXY")
        assert chosen.seen and ambient.seen == []


async def test_newsdigest_proxy_socks5(api: FakeBotApi) -> None:
    async with Socks5Proxy() as proxy:
        async with bot(api, AiohttpRequest(proxy=proxy.url)) as client:
            for text in ("one", "two"):
                await client.send_message(USER, text)
        assert proxy.seen and all(seen == f"127.0.0.1:{api.port}" for seen in proxy.seen)
        assert [m.plain_text for m in api.messages(USER)] == ["one", "two"]


async def test_abort_after_ends_a_hung_request_with_timed_out(api: FakeBotApi) -> None:
    request = AiohttpRequest(read_timeout=60.0)
    async with bot(api, request) as client:
        api.outage(30.0, mode="hang")
        sending = asyncio.create_task(client.send_message(USER, "hangs"))
        await asyncio.sleep(0.2)
        loop = asyncio.get_running_loop()
        started = loop.time()
        request.abort_after(0.3)
        with pytest.raises(TimedOut):
            await asyncio.wait_for(sending, timeout=5)
        assert loop.time() - started < 2
        api.end_outage()


async def test_a_closed_transport_does_not_reopen(api: FakeBotApi) -> None:
    request = AiohttpRequest()
    client = bot(api, request)
    await client.initialize()
    await client.shutdown()
    with pytest.raises(NetworkError, match="closed"):
        await request.post(f"{api.base_url}/bot{api.token}/getMe")
