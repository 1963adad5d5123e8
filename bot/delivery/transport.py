"""A PTB ``BaseRequest`` on aiohttp.

Measured on this 2-core machine (see bench/delivery.py), PTB's default httpx
transport costs 2–10 ms of CPU per call once dozens of requests are in flight
(httpcore scans its whole pool per request), capping a broadcast near 150
messages/s; aiohttp keeps it well under 1 ms, so the sender's rate, not the HTTP
client, is the limit.

Proxies: ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` are honoured, looked up once per
host (aiohttp's own ``trust_env`` re-reads the environment and ``~/.netrc`` on every
request, a cost at 1,000 requests a second); an explicit ``proxy`` (``NEWSDIGEST_PROXY``)
wins over them for every Bot API call: ``http://`` and ``https://`` proxies through aiohttp
itself, ``socks4://`` and ``socks5://`` through aiohttp-socks' connector.

Stopping: :meth:`AiohttpRequest.abort_after` gives the requests in flight a last few
seconds, then fails them with ``TimedOut``, so a hung server cannot hold up a stop; after
:meth:`shutdown` a request fails at once instead of opening a session nobody closes.
"""

from __future__ import annotations

import asyncio
import urllib.request

import aiohttp
from aiohttp_socks import ProxyConnector
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

SOCKS_SCHEMES = ("socks4://", "socks5://")


class AiohttpRequest(BaseRequest):
    """One ``aiohttp.ClientSession`` with a bounded connection pool."""

    __slots__ = (
        "_closed",
        "_connect_timeout",
        "_deadline",
        "_env_proxies",
        "_pool_size",
        "_proxy",
        "_read_timeout",
        "_scopes",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        *,
        pool_size: int = 64,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        write_timeout: float = 10.0,
        proxy: str | None = None,
    ) -> None:
        self._pool_size = pool_size
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._proxy = proxy
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._deadline: float | None = None  # stopping: nothing waits past this loop time
        self._scopes: set[asyncio.Timeout] = set()
        self._env_proxies: dict[tuple[str, str], str | None] = {}  # (scheme, host) -> proxy

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._closed = False
            self._deadline = None
            connector: aiohttp.BaseConnector
            if self._proxy is not None and self._proxy.lower().startswith(SOCKS_SCHEMES):
                connector = ProxyConnector.from_url(
                    self._proxy, limit=self._pool_size, ttl_dns_cache=300, rdns=True
                )
            else:
                connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector,
                # The token is in the URL path: never let aiohttp build tracebacks from it.
                raise_for_status=False,
            )

    async def shutdown(self) -> None:
        self._closed = True
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def abort_after(self, grace: float) -> None:
        """Requests in flight (and any made from now on) get at most ``grace`` more seconds."""
        deadline = asyncio.get_running_loop().time() + grace
        self._deadline = deadline if self._deadline is None else min(self._deadline, deadline)
        for scope in self._scopes:
            when = scope.when()
            if when is None or when > self._deadline:
                scope.reschedule(self._deadline)

    def _proxy_for(self, url: str) -> str | None:
        """The HTTP(S) proxy for ``url``: NEWSDIGEST_PROXY, else the environment's (cached)."""
        if self._proxy is not None:
            return None if self._proxy.startswith(SOCKS_SCHEMES) else self._proxy
        scheme, _, rest = url.partition("://")
        host = rest.split("/", 1)[0].rsplit("@", 1)[-1].split(":", 1)[0]
        key = (scheme.lower(), host)
        if key not in self._env_proxies:
            proxies = urllib.request.getproxies()  # HTTPS_PROXY, HTTP_PROXY... like curl
            bypass = bool(urllib.request.proxy_bypass(host))  # NO_PROXY
            self._env_proxies[key] = None if bypass else proxies.get(key[0])
        return self._env_proxies[key]

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._closed:
            raise NetworkError("the Bot API session is closed (the bot is stopping)")
        if self._session is None:
            await self.initialize()
        assert self._session is not None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)
        body: aiohttp.FormData | bytes | None = None
        headers = {}
        if request_data is not None and request_data.contains_files:
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, (filename, content, mime) in request_data.multipart_data.items():
                form.add_field(name, content, filename=filename, content_type=mime)
            body = form
        elif request_data is not None:
            body = request_data.json_payload
            headers["Content-Type"] = "application/json"
        proxy = self._proxy_for(url)
        try:
            async with asyncio.timeout(self._deadline) as scope:
                self._scopes.add(scope)
                try:
                    async with self._session.request(
                        method, url, data=body, headers=headers, timeout=timeout, proxy=proxy
                    ) as response:
                        return response.status, await response.read()
                finally:
                    self._scopes.discard(scope)
        except TimeoutError as exc:
            raise TimedOut("Timed out talking to the Bot API") from exc
        except aiohttp.ClientError as exc:
            # str(exc) can carry the URL, and with it the token: name the error type only.
            raise NetworkError(f"Bot API connection error: {type(exc).__name__}") from None
