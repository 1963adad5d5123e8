"""Two tiny local proxies for the transport's proxy tests: an HTTP forward proxy and a
SOCKS5 proxy (no authentication). Each records what it carried, so a test can tell a
request went through it. Loopback only; one request per HTTP proxy connection."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from types import TracebackType
from typing import Self


class _Proxy:
    def __init__(self) -> None:
        self.port = 0
        self.seen: list[str] = []  # what went through: request lines or "host:port"
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self.handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    with contextlib.suppress(ConnectionError, OSError):
        sink.write_eof()


class HttpProxy(_Proxy):
    """Forwards absolute-form requests (``POST http://host:port/path``), one per connection."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, version = request_line.split(" ", 2)
        self.seen.append(f"{method} {target}")
        if not target.startswith("http://"):
            writer.write(b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\n\r\n")
            return
        hostport, _, path = target.removeprefix("http://").partition("/")
        host, _, port = hostport.partition(":")
        headers = [h for h in header_lines if h and not h.lower().startswith(("connection:",
                                                                              "proxy-"))]  # fmt: skip
        length = next((int(h.split(":", 1)[1]) for h in headers
                       if h.lower().startswith("content-length:")), 0)  # fmt: skip
        body = await reader.readexactly(length) if length else b""
        up_reader, up_writer = await asyncio.open_connection(host, int(port or 80))
        try:
            upstream = "\r\n".join([f"{method} /{path} {version}", *headers, "Connection: close"])
            up_writer.write(upstream.encode("latin-1") + b"\r\n\r\n" + body)
            await up_writer.drain()
            response_head = await up_reader.readuntil(b"\r\n\r\n")
            lines = [line for line in response_head.decode("latin-1").split("\r\n")
                     if line and not line.lower().startswith("connection:")]  # fmt: skip
            writer.write("\r\n".join([*lines, "Connection: close"]).encode() + b"\r\n\r\n")
            await _pipe(up_reader, writer)
        finally:
            up_writer.close()


class Socks5Proxy(_Proxy):
    """RFC 1928, CONNECT only, no authentication."""

    @property
    def url(self) -> str:
        return f"socks5://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        version, methods = await reader.readexactly(2)
        await reader.readexactly(methods)
        if version != 5:
            return
        writer.write(b"\x05\x00")  # no authentication
        _, command, _, address_type = await reader.readexactly(4)
        if address_type == 1:
            host = ".".join(str(b) for b in await reader.readexactly(4))
        elif address_type == 3:
            host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
        else:
            writer.write(b"\x05\x08\x00\x01" + bytes(6))  # address type not supported
            return
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        if command != 1:
            writer.write(b"\x05\x07\x00\x01" + bytes(6))  # command not supported
            return
        self.seen.append(f"{host}:{port}")
        up_reader, up_writer = await asyncio.open_connection(host, port)
        writer.write(b"\x05\x00\x00\x01" + bytes(6))
        await writer.drain()
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            up_writer.close()
