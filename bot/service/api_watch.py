"""What the bot hears back from the Bot API, observed at the HTTP layer.

:class:`WatchedRequest` wraps the request objects PTB sends through and tells an
:class:`ApiWatch` the method and status of every answer: the last successful poll
(for ``newsdigest health``), 429s and per-method counts (for metrics), and whether
the last ``getMe`` answer was Bot API JSON at all (a wrong ``TELEGRAM_API_URL``
answers HTML).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import TelegramError
from telegram.request import BaseRequest, RequestData

_LOGGER = logging.getLogger(__name__)

Observer = Callable[[str, int], None]


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    is_json: bool
    content_start: bytes


class ApiWatch:
    """The latest answers, by method, and hooks for whoever counts them (metrics)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.last: dict[str, Answer] = {}
        self.last_success: dict[str, float] = {}  # method -> wall-clock time of its last 2xx
        self.observers: list[Observer] = []

    def observe(self, method: str, status: int, payload: bytes) -> None:
        start = payload.lstrip()[:1]
        self.last[method] = Answer(status, start in (b"{", b"["), payload[:80])
        if 200 <= status < 300:
            self.last_success[method] = self._clock()
        for observer in self.observers:
            observer(method, status)


class WatchedRequest(BaseRequest):
    """A ``BaseRequest`` telling an :class:`ApiWatch` of every answer of the one it wraps."""

    __slots__ = ("_inner", "_watch")

    def __init__(self, inner: BaseRequest, watch: ApiWatch) -> None:
        self._inner = inner
        self._watch = watch

    @property
    def read_timeout(self) -> float | None:
        return self._inner.read_timeout

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        await self._inner.shutdown()

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        """As PTB's, without its ERROR record and traceback for an answer that is not JSON
        (an HTML error page at a wrong TELEGRAM_API_URL): the caller explains it in one line."""
        text = payload.decode("utf-8", "replace")
        try:
            data = json.loads(text)
        except ValueError as exc:
            _LOGGER.debug("not JSON from the Bot API: %r", text[:200])
            raise TelegramError("Invalid server response") from exc
        if not isinstance(data, dict):
            raise TelegramError("Invalid server response")
        return data

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        status, payload = await self._inner.do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        # The method is the URL's last segment: .../bot<token>/<method>.
        self._watch.observe(url.rsplit("/", 1)[-1], status, payload)
        return status, payload
