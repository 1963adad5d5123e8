"""Start-up against the Bot API: retry what may pass, explain what will not.

``StartupError`` carries one line for the operator (cause and what to do) and the
exit code. Network trouble (no route, DNS, timeouts, 5xx) is retried with backoff
for ``NEWSDIGEST_START_TIMEOUT`` seconds; a rejected token, or a server that does not
answer like the Bot API, stops at once. The clock and the sleep are parameters, so
tests need not wait.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.redact import redact_url
from bot.service.api_watch import ApiWatch

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
FIRST_RETRY = 1.0
MAX_RETRY = 30.0
EXIT_STARTUP = 2


class StartupError(Exception):
    """The bot cannot start, or stopped itself: the message says why (never with the token).

    ``code`` is the exit status of ``newsdigest run`` (2 unless the cause names another).
    """

    def __init__(self, message: str, code: int = EXIT_STARTUP) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class StartClock:
    """Time for the start-up retries: injectable, so tests run them without waiting."""

    timeout: float
    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    deadline: float = field(init=False)

    def __post_init__(self) -> None:
        self.deadline = self.now() + self.timeout


async def call_api(
    what: str,
    action: Callable[[], Awaitable[T]],
    *,
    api_url: str,
    watch: ApiWatch,
    method: str,
    clock: StartClock,
) -> T:
    """``action()`` until it succeeds; network trouble retried until ``clock.deadline``."""
    delay = FIRST_RETRY
    url = redact_url(api_url)
    while True:
        try:
            return await action()
        except InvalidToken:
            answer = watch.last.get(method)
            if answer is not None and not answer.is_json:
                raise StartupError(
                    _not_the_api(url, method, answer.status, answer.content_start)
                ) from None
            status = f"HTTP {answer.status}" if answer is not None else "refused"
            raise StartupError(
                f"TELEGRAM_BOT_TOKEN was rejected by the Bot API at {url} ({status}): "
                "copy the token again from @BotFather (/mybots → API Token); if it was "
                "revoked, set the new one"
            ) from None
        except NetworkError as exc:
            answer = watch.last.get(method)
            reason = network_reason(exc.message)
            if answer is not None and not answer.is_json and answer.status >= 500:
                reason = f"HTTP {answer.status} with no Bot API answer"
            remaining = clock.deadline - clock.now()
            if remaining <= 0:
                raise StartupError(
                    f"cannot reach the Bot API at {url} ({reason}); gave up after "
                    f"{clock.timeout:.0f} s (NEWSDIGEST_START_TIMEOUT): check the network, "
                    "DNS, a firewall or proxy, and TELEGRAM_API_URL"
                ) from None
            wait = min(delay, remaining)
            _LOGGER.warning(
                "%s: cannot reach the Bot API at %s (%s); retrying in %.0f s, giving up in %.0f s",
                what, url, reason, wait, remaining,
            )  # fmt: skip
            await clock.sleep(wait)
            delay = min(delay * 2, MAX_RETRY)
        except TelegramError as exc:
            answer = watch.last.get(method)
            if answer is not None and not answer.is_json:
                raise StartupError(
                    _not_the_api(url, method, answer.status, answer.content_start)
                ) from None
            raise StartupError(f"{what}: the Bot API at {url} refused: {exc.message}") from None
        except (KeyError, TypeError, ValueError, AttributeError):
            # A JSON answer whose shape is not the Bot API's (PTB cannot build its objects).
            answer = watch.last.get(method)
            code = answer.status if answer is not None else 0
            raise StartupError(
                f"the server at {url} answered {method} with JSON that is not a Bot API answer "
                f"(HTTP {code}): check TELEGRAM_API_URL (e.g. https://api.telegram.org)"
            ) from None


def _not_the_api(url: str | None, method: str, status: int, start: bytes) -> str:
    shown = start.decode("utf-8", "replace").strip().replace("\n", " ")[:40]
    return (
        f"the server at {url} is not a Telegram Bot API: {method} answered HTTP {status} "
        f"with {shown!r}, not JSON; check TELEGRAM_API_URL (e.g. https://api.telegram.org)"
    )


# The transport names aiohttp's error classes; an operator wants words.
_NETWORK_WORDS = {
    "ClientConnectorDNSError": "the host name does not resolve (DNS)",
    "ClientConnectorCertificateError": "its TLS certificate is not trusted",
    "ClientConnectorSSLError": "the TLS handshake failed",
    "ClientConnectorError": "connection refused or host unreachable",
    "ServerDisconnectedError": "the server closed the connection",
    "ClientOSError": "the connection failed",
}


def network_reason(message: str) -> str:
    for name, words in _NETWORK_WORDS.items():
        if message.endswith(name):
            return words
    return message
