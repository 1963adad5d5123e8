"""A local stand-in for the Telegram Bot API, for tests and benchmarks.

``from tests.botapi import FakeBotApi`` -- see :mod:`tests.botapi.server` for the details and
``python -m tests.botapi --help`` for the standalone runner.
"""

from __future__ import annotations

from .html import HtmlParseError, ParsedHtml, parse_html, parse_html_entities
from .server import ApiError, Call, FakeBotApi, SentMessage, WaitTimeout

__all__ = [
    "ApiError",
    "Call",
    "FakeBotApi",
    "HtmlParseError",
    "ParsedHtml",
    "SentMessage",
    "WaitTimeout",
    "parse_html",
    "parse_html_entities",
]
